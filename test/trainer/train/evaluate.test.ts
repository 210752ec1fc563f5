import * as tf from '@tensorflow/tfjs';
import { meanModel, predictPx, predictTargets, rmsePx } from '../../../trainer/train/evaluate';
import { PIXELS } from '../../../contracts/keypoints';

describe('rmsePx', () => {
  it('is the root mean squared error in pixels, overall and per column, skipping missing truths', () => {
    const pred = Float32Array.from([10, 20, 13, 24]);
    const truth = Float32Array.from([11, NaN, 10, 20]);
    const r = rmsePx(pred, truth, 2, 2);
    expect(r.perColumn[0]).toBeCloseTo(Math.sqrt((1 + 9) / 2), 6);
    expect(r.perColumn[1]).toBeCloseTo(4, 6);
    expect(r.overall).toBeCloseTo(Math.sqrt((1 + 9 + 16) / 3), 6);
  });

  it('gives NaN for a column without truth and refuses mismatched sizes', () => {
    expect(rmsePx(Float32Array.from([1, 2]), Float32Array.from([1, NaN]), 1, 2).perColumn[1]).toBeNaN();
    expect(() => rmsePx(new Float32Array(4), new Float32Array(6), 2, 2)).toThrow(
      'rmsePx: expected 2 x 2 = 4 values, found 4 predictions and 6 truths',
    );
  });
});

describe('meanModel', () => {
  it('averages each column over its present values', () => {
    const labels = Float32Array.from([1, NaN, 3, 10, NaN, NaN]);
    expect(Array.from(meanModel(labels, 3, 2))).toEqual([2, 10]);
    const all = new Float32Array(30 * 2).fill(NaN);
    all[5] = 7;
    const m = meanModel(all, 2);
    expect(m).toHaveLength(30);
    expect(m[5]).toBe(7);
    expect(m[0]).toBeNaN();
  });
});

describe('predictPx', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  // A linear "network" whose outputs are known: 2 * mean pixel - 1 and a constant far outside the image.
  function model(): tf.LayersModel {
    const m = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [96, 96, 1] }),
        tf.layers.dense({ units: 2, kernelInitializer: 'zeros' }),
      ],
    });
    m.layers[1]!.setWeights([
      tf.fill([PIXELS, 2], 0).add(tf.tensor2d([[2 / PIXELS, 0]])),
      tf.tensor1d([-1, 5]),
    ]);
    return m;
  }

  it('maps outputs back to pixels (t * 48 + 48), clipped to [0, 96], the same for any batch size', () => {
    const count = 5;
    const pixels = new Uint8Array(count * PIXELS);
    for (let r = 0; r < count; r++) pixels.fill(r * 60, r * PIXELS, (r + 1) * PIXELS);
    const m = model();
    const before = tf.memory().numTensors;
    const out = predictPx(m, pixels, count, 2);
    expect(tf.memory().numTensors).toBe(before);
    for (let r = 0; r < count; r++) {
      const t = (2 * r * 60) / 255 - 1;
      expect(out[r * 2]).toBeCloseTo(Math.min(96, Math.max(0, t * 48 + 48)), 3);
      expect(out[r * 2 + 1]).toBe(96);
    }
    expect(Array.from(predictPx(m, pixels, count, 128))).toEqual(Array.from(out));
    expect(predictTargets(m, pixels, count, 3)[1]).toBeCloseTo(5, 5);
  });
});
