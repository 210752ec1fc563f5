import * as tf from '@tensorflow/tfjs';
import { buildNetwork, copyAllButOutput, countParams } from '../../../trainer/models/ladder';
import { SeedSource } from '../../../trainer/models/seed-source';
import { presetConfig } from '../../../trainer/presets';
import { SPECIALISTS } from '../../../trainer/keypoints';

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
      [94, 94, 32], [47, 47, 32], [47, 47, 32],
      [46, 46, 64], [23, 23, 64], [23, 23, 64],
      [22, 22, 128], [11, 11, 128], [11, 11, 128],
      [15488], [1000], [1000], [1000], [30],
    ]);
    expect(model.inputs[0].shape).toEqual([null, 96, 96, 1]);
    model.dispose();
  });

  it('builds Model 1 (one hidden layer of 100) and Model 2 (three convolutions, hidden 500) of the seed', () => {
    const config = presetConfig('seed');
    const mlp = buildNetwork('mlp', 30, config, new SeedSource(1));
    expect(shapes(mlp)).toEqual([[9216], [100], [30]]);
    expect(countParams(mlp)).toBe(9216 * 100 + 100 + 100 * 30 + 30);
    const cnn = buildNetwork('cnn', 30, config, new SeedSource(1));
    expect(shapes(cnn)).toEqual([[94, 94, 32], [47, 47, 32], [46, 46, 64], [23, 23, 64], [22, 22, 128], [11, 11, 128], [15488], [500], [30]]);
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
          'Conv2D', 'MaxPooling2D', 'SeededDropout', 'Conv2D', 'MaxPooling2D', 'SeededDropout',
          'Conv2D', 'MaxPooling2D', 'SeededDropout', 'Flatten', 'Dense', 'SeededDropout', 'Dense', 'Dense',
        ]);
        expect(countParams(q)).toBeLessThan(16_561_502 / 20);
      }
      q.dispose();
    }
  });

  it('gives each specialist its own output size', () => {
    const quick = presetConfig('quick');
    for (const s of SPECIALISTS) {
      const m = buildNetwork('baseline', s.columns.length, quick, new SeedSource(1));
      expect(m.outputs[0].shape).toEqual([null, s.columns.length]);
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
    [a, b, c].forEach((m) => m.dispose());
  });

  it('copies every layer but the output from the baseline into a specialist', () => {
    const quick = presetConfig('quick');
    const baseline = buildNetwork('baseline', 30, quick, new SeedSource(1));
    const specialist = buildNetwork('baseline', 4, quick, new SeedSource(2));
    const outputBefore = Array.from(specialist.layers.at(-1)!.getWeights()[0].dataSync());
    copyAllButOutput(baseline, specialist);
    for (let i = 0; i < baseline.layers.length - 1; i++) {
      const from = baseline.layers[i].getWeights().map((w) => Array.from(w.dataSync()));
      const to = specialist.layers[i].getWeights().map((w) => Array.from(w.dataSync()));
      expect(to).toEqual(from);
    }
    expect(Array.from(specialist.layers.at(-1)!.getWeights()[0].dataSync())).toEqual(outputBefore);
    baseline.dispose();
    specialist.dispose();
  });

  it('refuses to copy between different networks, naming the layer', () => {
    const quick = presetConfig('quick');
    const wide = buildNetwork('baseline', 30, { ...quick, network: { ...quick.network, denseUnits: [64, 64] } }, new SeedSource(1));
    const narrow = buildNetwork('baseline', 30, quick, new SeedSource(1));
    expect(() => copyAllButOutput(wide, narrow)).toThrow(/layer 10 \("hidden4"\) weight 0: expected shape \[3872,128\], found \[3872,64\]/);
    const mlp = buildNetwork('mlp', 30, quick, new SeedSource(1));
    expect(() => copyAllButOutput(mlp, narrow)).toThrow(/expected networks with the same layers, found 3 layers/);
    [wide, narrow, mlp].forEach((m) => m.dispose());
  });
});
