import * as tf from '@tensorflow/tfjs';
import { buildNetwork, copyAllButOutput, countParams } from '../../../trainer/models/ladder';
import { SeedSource } from '../../../trainer/models/seed-source';
import { featureMapSides } from '../../../trainer/config';
import { presetConfig } from '../../../trainer/presets';
import { SPECIALISTS } from '../../../contracts/keypoints';

const shapes = (m: tf.LayersModel) => m.layers.map((l) => (l.outputShape as number[]).slice(1));

describe('the seed ladder networks', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it("builds the seed's baseline with exactly 16,561,502 parameters and its layer sizes", () => {
    const model = buildNetwork('baseline', 30, presetConfig('seed'), new SeedSource(1));
    expect(countParams(model)).toBe(16_561_502);
    // The seed's layer table: 32x94x94, 32x47x47, 64x46x46, 64x23x23, 128x22x22, 128x11x11, 1000, 1000, 30.
    expect(shapes(model)).toEqual([
      [94, 94, 32],
      [47, 47, 32],
      [47, 47, 32],
      [46, 46, 64],
      [23, 23, 64],
      [23, 23, 64],
      [22, 22, 128],
      [11, 11, 128],
      [11, 11, 128],
      [15488],
      [1000],
      [1000],
      [1000],
      [30],
    ]);
    expect(model.inputs[0]?.shape).toEqual([null, 96, 96, 1]);
    model.dispose();
  });

  it('builds Model 1 (one hidden layer of 100) and Model 2 (three convolutions, hidden 500) of the seed', () => {
    const config = presetConfig('seed');
    const mlp = buildNetwork('mlp', 30, config, new SeedSource(1));
    expect(shapes(mlp)).toEqual([[9216], [100], [30]]);
    expect(countParams(mlp)).toBe(9216 * 100 + 100 + 100 * 30 + 30);
    const cnn = buildNetwork('cnn', 30, config, new SeedSource(1));
    expect(shapes(cnn)).toEqual([
      [94, 94, 32],
      [47, 47, 32],
      [46, 46, 64],
      [23, 23, 64],
      [22, 22, 128],
      [11, 11, 128],
      [15488],
      [500],
      [30],
    ]);
    mlp.dispose();
    cnn.dispose();
  });

  it('builds the quick networks narrower than the seed with the same structure', () => {
    const quick = presetConfig('quick');
    for (const kind of ['mlp', 'cnn', 'baseline'] as const) {
      const q = buildNetwork(kind, 30, quick, new SeedSource(1));
      expect(shapes(q).at(-1)).toEqual([30]);
      expect(countParams(q)).toBeGreaterThan(0);
      if (kind === 'baseline') {
        expect(q.layers.map((l) => l.getClassName())).toEqual([
          ...(quick.network.centerInput ? ['Rescaling'] : []),
          ...((quick.network.inputPool ?? 1) > 1 ? ['AveragePooling2D'] : []),
          'Conv2D',
          'MaxPooling2D',
          'SeededDropout',
          'Conv2D',
          'MaxPooling2D',
          'SeededDropout',
          'Conv2D',
          'MaxPooling2D',
          'SeededDropout',
          'Flatten',
          'Dense',
          'SeededDropout',
          'Dense',
          'Dense',
        ]);
        expect(countParams(q)).toBeLessThan(16_561_502 / 20);
      }
      q.dispose();
    }
  });

  it('centres the input without adding parameters, and draws He-normal weights when asked', () => {
    const quick = presetConfig('quick');
    const plain = {
      ...quick,
      network: { ...quick.network, centerInput: false, initializer: 'glorot-uniform' as const },
    };
    const centred = {
      ...quick,
      network: { ...quick.network, centerInput: true, initializer: 'he-normal' as const },
    };
    const a = buildNetwork('baseline', 30, plain, new SeedSource(1));
    const b = buildNetwork('baseline', 30, centred, new SeedSource(1));
    expect(countParams(b)).toBe(countParams(a));
    expect(b.layers[0]?.getClassName()).toBe('Rescaling');
    const out = tf.tidy(() =>
      Array.from((b.layers[0]!.apply(tf.tensor4d([0, 1, 0.25, 0.5], [1, 2, 2, 1])) as tf.Tensor).dataSync()),
    );
    expect(out).toEqual([-0.5, 0.5, -0.25, 0]);
    // hidden5 is 64 x 64 in both: He-normal (std sqrt(2 / 64), truncated) is wider than Glorot-uniform (std sqrt(2 / 128)).
    const std = (m: tf.LayersModel) =>
      tf.tidy(
        () =>
          tf
            .moments(m.layers.find((l) => l.name === 'hidden5')!.getWeights()[0]!)
            .variance.sqrt()
            .dataSync()[0] ?? Number.NaN,
      );
    const units = quick.network.denseUnits;
    expect(std(a)).toBeCloseTo(Math.sqrt(2 / (units[0] + units[1])), 2);
    expect(std(b)).toBeGreaterThan(std(a) * 1.15);
    a.dispose();
    b.dispose();
  });

  it('shrinks the input by network.inputPool with an average pooling that adds no parameters', () => {
    const quick = presetConfig('quick');
    const at = (inputPool: number) => ({
      ...quick,
      network: { ...quick.network, inputPool, convFilters: [4, 8, 16] as [number, number, number] },
    });
    const full = buildNetwork('baseline', 30, at(1), new SeedSource(1));
    const half = buildNetwork('baseline', 30, at(2), new SeedSource(1));
    const pool = half.layers.find((l) => l.name === 'downsample')!;
    expect(full.layers.some((l) => l.name === 'downsample')).toBe(false);
    expect(half.inputs[0]?.shape).toEqual([null, 96, 96, 1]);
    expect((pool.outputShape as number[]).slice(1)).toEqual([48, 48, 1]);
    // 48 -> conv 3x3 46 -> pool 23 -> conv 2x2 22 -> pool 11 -> conv 2x2 10 -> pool 5: 5 x 5 x 16 inputs to hidden4.
    expect((half.layers.find((l) => l.name === 'flatten')!.outputShape as number[])[1]).toBe(5 * 5 * 16);
    expect((full.layers.find((l) => l.name === 'flatten')!.outputShape as number[])[1]).toBe(11 * 11 * 16);
    expect(pool.countParams()).toBe(0);
    // Each output pixel is the mean of its 2x2 block.
    const out = tf.tidy(() =>
      Array.from(
        (
          pool.apply(
            tf.tensor4d([0, 1, 0.5, 0.5, 1, 1, 0.25, 0.75, 0, 0, 0, 0, 0.2, 0.6, 1, 1], [1, 4, 4, 1]),
          ) as tf.Tensor
        ).dataSync(),
      ),
    );
    [0.75, 0.5, 0.2, 0.5].forEach((v, i) => {
      expect(out[i]).toBeCloseTo(v, 6);
    });
    const mlp = buildNetwork('mlp', 30, at(2), new SeedSource(1));
    expect(shapes(mlp)).toEqual([
      ...(quick.network.centerInput ? [[96, 96, 1]] : []),
      [48, 48, 1],
      [48 * 48],
      [quick.mlpHidden],
      [30],
    ]);
    [full, half, mlp].forEach((m) => {
      m.dispose();
    });
  });

  it('builds the feature map sizes the configuration check computes', () => {
    for (const config of [presetConfig('seed'), presetConfig('quick')]) {
      const model = buildNetwork('baseline', 30, config, new SeedSource(1));
      const built = model.layers
        .filter((l) => /^(downsample|conv\d|pool\d)$/.test(l.name))
        .map((l) => (l.outputShape as number[])[1]);
      expect(
        featureMapSides(config.network)
          .slice(1)
          .map((s) => s.side),
      ).toEqual(built);
      model.dispose();
    }
  });

  it('gives each specialist its own output size', () => {
    const quick = presetConfig('quick');
    for (const s of SPECIALISTS) {
      const m = buildNetwork('baseline', s.columns.length, quick, new SeedSource(1));
      expect(m.outputs[0]?.shape).toEqual([null, s.columns.length]);
      m.dispose();
    }
  });

  it('initialises from the seed: the same seed gives the same weights, another seed different ones', () => {
    const quick = presetConfig('quick');
    const a = buildNetwork('baseline', 4, quick, new SeedSource(7));
    const b = buildNetwork('baseline', 4, quick, new SeedSource(7));
    const c = buildNetwork('baseline', 4, quick, new SeedSource(8));
    const values = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
    expect(values(a)).toEqual(values(b));
    expect(values(a)[0]).not.toEqual(values(c)[0]);
    [a, b, c].forEach((m) => {
      m.dispose();
    });
  });

  it('copies every layer but the output from the baseline into a specialist', () => {
    const quick = presetConfig('quick');
    const baseline = buildNetwork('baseline', 30, quick, new SeedSource(1));
    const specialist = buildNetwork('baseline', 4, quick, new SeedSource(2));
    const outputBefore = Array.from(specialist.layers.at(-1)!.getWeights()[0]!.dataSync());
    copyAllButOutput(baseline, specialist);
    for (let i = 0; i < baseline.layers.length - 1; i++) {
      const from = baseline.layers[i]!.getWeights().map((w) => Array.from(w.dataSync()));
      const to = specialist.layers[i]!.getWeights().map((w) => Array.from(w.dataSync()));
      expect(to).toEqual(from);
    }
    expect(Array.from(specialist.layers.at(-1)!.getWeights()[0]!.dataSync())).toEqual(outputBefore);
    baseline.dispose();
    specialist.dispose();
  });

  it('refuses to copy between different networks, naming the layer', () => {
    const quick = presetConfig('quick');
    const units = quick.network.denseUnits[0];
    const wide = buildNetwork(
      'baseline',
      30,
      { ...quick, network: { ...quick.network, denseUnits: [units * 2, units] } },
      new SeedSource(1),
    );
    const narrow = buildNetwork('baseline', 30, quick, new SeedSource(1));
    const at = narrow.layers.findIndex((l) => l.name === 'hidden4');
    const inputs = narrow.layers[at]?.getWeights()[0]?.shape[0];
    expect(() => copyAllButOutput(wide, narrow)).toThrow(
      `layer ${at} ("hidden4") weight 0: expected shape [${inputs},${units}], found [${inputs},${units * 2}]`,
    );
    const mlp = buildNetwork('mlp', 30, quick, new SeedSource(1));
    expect(() => copyAllButOutput(mlp, narrow)).toThrow(
      `expected networks with the same layers, found ${mlp.layers.length} layers in "mlp" and ${narrow.layers.length} in "baseline"`,
    );
    [wide, narrow, mlp].forEach((m) => {
      m.dispose();
    });
  });
});
