import { TrainConfigSchema } from '../../../trainer/config';
import { presetConfig } from '../../../trainer/presets';
import { DEFAULT_MODELS, resolveTrainConfig, settingKeys } from '../../../trainer/run/resolve-config';
import { UsageError } from '../../../trainer/run/usage-error';

const base = { data: 'data/sample', out: 'file:///tmp/runs' };

describe('resolveTrainConfig', () => {
  it('starts from the preset and defaults to the cloud plan: baseline then specialists', () => {
    const config = resolveTrainConfig({ ...base, preset: 'quick' }, new Date('2026-11-29T04:05:06Z'));
    expect(config.models).toEqual([...DEFAULT_MODELS]);
    expect(config.models).toEqual(['baseline', 'specialists']);
    expect(config.runId).toBe('20261129-040506');
    expect(config.network).toEqual(presetConfig('quick').network);
    expect(config.dryRun).toBe(false);
    expect(config.requireGpu).toBe(false);
  });

  it('coerces --set values by the type of the setting and applies them', () => {
    const config = resolveTrainConfig({
      ...base,
      preset: 'quick',
      set: [
        'baseline.maxEpochs=50',
        'batchSize=64',
        'flip=false',
        'network.convFilters=4,8,16',
        'augmentations=sharpen',
        'devFraction=0.25',
      ],
    });
    expect(config.baseline.maxEpochs).toBe(50);
    expect(config.batchSize).toBe(64);
    expect(config.flip).toBe(false);
    expect(config.network.convFilters).toEqual([4, 8, 16]);
    expect(config.augmentations).toEqual(['sharpen']);
    expect(config.devFraction).toBe(0.25);
    // Other presets' settings are untouched by an override.
    expect(config.specialists.maxEpochs).toBe(presetConfig('quick').specialists.maxEpochs);
  });

  it('sets missing: drop or mask for the baseline and the specialists, and refuses anything else', () => {
    const config = resolveTrainConfig({ ...base, preset: 'quick', set: ['baseline.missing=mask'] });
    expect(config.baseline.missing).toBe('mask');
    expect(config.specialists.missing).toBe(presetConfig('quick').specialists.missing);
    expect(settingKeys()).toEqual(expect.arrayContaining(['baseline.missing', 'specialists.missing']));
    expect(() => resolveTrainConfig({ ...base, set: ['specialists.missing=maybe'] })).toThrow(
      'invalid options: --set specialists.missing: Invalid option: expected one of "drop"|"mask"',
    );
  });

  it("sets each unit's optimizer, nesterov or adam; a config.json written before the setting reads as nesterov", () => {
    const config = resolveTrainConfig({ ...base, set: ['baseline.optimizer=adam'] });
    expect(config.baseline.optimizer).toBe('adam');
    expect([config.mlp.optimizer, config.cnn.optimizer, config.specialists.optimizer]).toEqual([
      'nesterov',
      'nesterov',
      'nesterov',
    ]);
    expect(() => resolveTrainConfig({ ...base, set: ['specialists.optimizer=sgd'] })).toThrow(
      'invalid options: --set specialists.optimizer: Invalid option: expected one of "nesterov"|"adam"',
    );
    const { optimizer: _dropped, ...older } = config.baseline;
    expect(TrainConfigSchema.parse({ ...config, baseline: older }).baseline.optimizer).toBe('nesterov');
  });

  it('expands --models all into the ladder and keeps --seed', () => {
    const config = resolveTrainConfig({ ...base, models: 'all', seed: '7' });
    expect(config.models).toEqual(['mlp', 'cnn', 'baseline', 'specialists', 'specialists-augmented']);
    expect(config.seed).toBe(7);
  });

  it('names an unknown --set key and lists the valid keys', () => {
    expect(() => resolveTrainConfig({ ...base, set: ['baseline.epochs=5'] })).toThrow(
      `invalid options: --set baseline.epochs=5: unknown key "baseline.epochs"; valid keys: ${settingKeys().join(', ')}`,
    );
    expect(settingKeys()).toContain('baseline.maxEpochs');
    expect(settingKeys()).toContain('network.convFilters');
    expect(settingKeys()).not.toContain('runId');
  });

  it('refuses values that do not parse completely, and "false"-like strings for booleans', () => {
    expect(() => resolveTrainConfig({ ...base, set: ['batchSize=12abc'] })).toThrow(
      'invalid options: --set batchSize=12abc: expected a number, found "12abc"',
    );
    expect(() => resolveTrainConfig({ ...base, set: ['flip=no'] })).toThrow(
      'invalid options: --set flip=no: expected true or false, found "no"',
    );
    expect(() => resolveTrainConfig({ ...base, set: ['batchSize'] })).toThrow(
      'invalid options: --set: expected KEY=VALUE (e.g. --set baseline.maxEpochs=50), found "batchSize"',
    );
  });

  it('collects every problem into one UsageError', () => {
    let error: unknown;
    try {
      resolveTrainConfig({ out: 'runs', models: 'baseline,bogus', preset: 'fast', backend: 'tpu' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(
      [
        'invalid options:',
        '  --preset: expected one of seed, quick, best, found "fast"',
        '  --data: expected a folder or s3://BUCKET/PREFIX holding training.csv, test.csv and IdLookupTable.csv, found nothing',
        '  --backend: expected one of tensorflow-gpu, tensorflow, wasm, cpu, found "tpu"',
        '  --models: unknown model "bogus"; expected some of mlp, cnn, baseline, specialists, specialists-augmented (or all)',
      ].join('\n'),
    );
  });

  it('takes --workers as a count from 0 (automatic) to 16', () => {
    expect(resolveTrainConfig(base).workers).toBe(0);
    expect(resolveTrainConfig({ ...base, workers: '2' }).workers).toBe(2);
    for (const bad of ['two', '-1', '1.5', '17']) {
      expect(() => resolveTrainConfig({ ...base, workers: bad })).toThrow(
        `invalid options: --workers: expected an integer from 0 (automatic) to 16, found "${bad}"`,
      );
    }
  });

  it('reports schema violations under the option the user wrote', () => {
    expect(() => resolveTrainConfig({ ...base, out: 'runs' })).toThrow(
      'invalid options: --out: expected file://DIR or s3://BUCKET/PREFIX',
    );
    expect(() => resolveTrainConfig({ ...base, set: ['batchSize=0'] })).toThrow(
      /^invalid options: --set batchSize: Too small/,
    );
    expect(() => resolveTrainConfig({ ...base, run: 'a/b' })).toThrow(
      'invalid options: --run: a run id is 1-64 letters, digits, dot, dash or underscore',
    );
  });

  it('refuses a network whose input pooling or kernels leave no pixels, showing the sizes layer by layer', () => {
    expect(
      resolveTrainConfig({ ...base, preset: 'quick', set: ['network.inputPool=4'] }).network.inputPool,
    ).toBe(4);
    expect(() => resolveTrainConfig({ ...base, preset: 'quick', set: ['network.inputPool=8'] })).toThrow(
      'invalid options: --set network.inputPool: expected the 96x96 image to keep at least 1x1 pixels through the three convolutions and pools, ' +
        'found input 96 -> inputPool 8 12 -> conv1 3x3 10 -> pool1 5 -> conv2 2x2 4 -> pool2 2 -> conv3 2x2 1 -> pool3 0',
    );
    expect(() => resolveTrainConfig({ ...base, set: ['network.convKernels=40,20,10'] })).toThrow(
      'invalid options: --set network.convKernels: expected the 96x96 image to keep at least 1x1 pixels through the three convolutions and pools, ' +
        'found input 96 -> conv1 40x40 57 -> pool1 28 -> conv2 20x20 9 -> pool2 4 -> conv3 10x10 -5',
    );
  });
});
