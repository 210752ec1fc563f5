import { TrainConfigSchema } from '../../trainer/config';
import { presetConfig } from '../../trainer/presets';
import { at } from '../support/checked';

const identity = {
  runId: 'r1',
  preset: 'seed',
  data: 'data',
  out: 'file://runs',
  models: ['baseline'],
  requireGpu: false,
  dryRun: false,
} as const;

describe('presets', () => {
  it("seed: the seed's settings from its slide deck and the kfkd tutorial", () => {
    const s = presetConfig('seed');
    expect(TrainConfigSchema.safeParse({ ...identity, ...s }).success).toBe(true);
    expect(s.network).toEqual({
      convFilters: [32, 64, 128],
      convKernels: [3, 2, 2],
      convDropout: [0.1, 0.2, 0.3],
      denseUnits: [1000, 1000],
      denseDropout: 0.5,
      // Lasagne fed pixels / 255 as they are, with Glorot-uniform weights.
      centerInput: false,
      // Full 96x96 resolution.
      inputPool: 1,
      initializer: 'glorot-uniform',
    });
    expect([s.batchSize, s.flip, s.devFraction, s.mlpHidden, s.cnnHidden]).toEqual([
      128,
      true,
      0.2,
      100,
      500,
    ]);
    expect(s.baseline).toEqual({
      maxEpochs: 3000,
      patience: 200,
      learningRateStart: 0.03,
      learningRateEnd: 0.001,
      momentumStart: 0.9,
      momentumEnd: 0.999,
      optimizer: 'nesterov',
      // The seed trained on complete rows only.
      missing: 'drop',
    });
    expect(s.mlp.maxEpochs).toBe(1000);
    expect(s.cnn.maxEpochs).toBe(1000);
    expect({ ...s.specialists, maxEpochs: undefined }).toEqual({ ...s.baseline, maxEpochs: undefined });
    // int(1e7 / rows) epochs per specialist, not capped for the seed's smallest specialist (1,990 rows).
    expect(s.specialistEpochBudget).toBe(1e7);
    expect(s.specialists.maxEpochs).toBeGreaterThanOrEqual(Math.round(1e7 / 1990));
    expect(s.specialistsFromBaseline).toBe(true);
  });

  it('seed: checkpoints often enough to lose under 5 minutes of work', () => {
    const s = presetConfig('seed');
    expect(s.checkpointEveryMinutes).toBeLessThan(5);
    // The seed's slowest epoch (a specialist on ~6,800 images) took 25 s on its GPU.
    expect(Math.min(s.checkpointEveryEpochs * 25, s.checkpointEveryMinutes * 60)).toBeLessThan(300);
  });

  it('quick: valid, narrower networks and far fewer epochs than the seed', () => {
    const s = presetConfig('seed');
    const q = presetConfig('quick');
    expect(TrainConfigSchema.safeParse({ ...identity, preset: 'quick', ...q }).success).toBe(true);
    q.network.convFilters.forEach((f, i) => {
      expect(f).toBeLessThan(at(s.network.convFilters, i, 'a seed conv layer'));
    });
    q.network.denseUnits.forEach((u, i) => {
      expect(u).toBeLessThan(at(s.network.denseUnits, i, 'a seed dense layer'));
    });
    expect(q.network.convKernels).toEqual(s.network.convKernels);
    for (const k of ['mlp', 'cnn', 'baseline', 'specialists'] as const)
      expect(q[k].maxEpochs).toBeLessThanOrEqual(s[k].maxEpochs / 100);
    expect(q.flip).toBe(true);
    expect(q.specialistsFromBaseline).toBe(true);
    // Adam for the units npm start trains; the seed and best keep the seed's Nesterov.
    expect([q.baseline.optimizer, q.specialists.optimizer]).toEqual(['adam', 'adam']);
    for (const k of ['mlp', 'cnn', 'baseline', 'specialists'] as const) {
      expect(s[k].optimizer).toBe('nesterov');
      expect(presetConfig('best')[k].optimizer).toBe('nesterov');
    }
  });

  it('best: the seed network and schedules, missing labels masked, no contrast stretch, mirrored views', () => {
    const s = presetConfig('seed');
    const b = presetConfig('best');
    expect(TrainConfigSchema.safeParse({ ...identity, preset: 'best', ...b }).success).toBe(true);
    expect(b.network).toEqual(s.network);
    expect([b.batchSize, b.flip, b.devFraction, b.specialistEpochBudget]).toEqual([
      s.batchSize,
      s.flip,
      s.devFraction,
      s.specialistEpochBudget,
    ]);
    expect(b.baseline).toEqual({ ...s.baseline, missing: 'mask' });
    expect(b.specialists).toEqual({ ...s.specialists, missing: 'mask' });
    expect(b.augmentations).toEqual(s.augmentations.filter((a) => a !== 'contrast-stretch'));
    // Predictions averaged with the mirror image's; no shifted views, as the seed's network sees every pixel.
    expect(b.testTimeAugmentation).toBe('flip');
    expect(b.shift).toBe(1);
    // The seed itself stays as published: complete rows, unshifted images, one view.
    expect([s.baseline.missing, s.specialists.missing, s.shift, s.testTimeAugmentation]).toEqual([
      'drop',
      'drop',
      0,
      'none',
    ]);
    // The quick preset's 2x2 input blocks fall four ways: each in plain and mirrored views.
    expect([presetConfig('quick').network.inputPool, presetConfig('quick').testTimeAugmentation]).toEqual([
      2,
      'flip-shift',
    ]);
  });

  it('returns a fresh copy each time', () => {
    const a = presetConfig('seed');
    a.network.convFilters[0] = 1;
    a.baseline.maxEpochs = 1;
    expect(presetConfig('seed').network.convFilters[0]).toBe(32);
    expect(presetConfig('seed').baseline.maxEpochs).toBe(3000);
  });

  it('names the presets it knows when asked for another', () => {
    expect(() => presetConfig('fast' as never)).toThrow(
      'unknown preset "fast"; expected one of seed, quick, best',
    );
  });
});
