import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { BatchFlipper, chooseHalf } from '../../../trainer/train/flip-batch';
import { flipFace, flipSpec } from '../../../trainer/data/flip';
import { KEYPOINT_COLUMNS, FLIP_PAIRS, PIXELS, toTarget } from '../../../trainer/keypoints';

describe('batch flip on tensors', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('agrees with the reference flipFace on random images, and leaves unselected rows alone', () => {
    const rng = seedrandom('flip');
    const spec = flipSpec(KEYPOINT_COLUMNS, FLIP_PAIRS);
    const n = 3;
    const pixels = Uint8Array.from({ length: n * PIXELS }, () => Math.floor(rng() * 256));
    const labelsPx = Float32Array.from({ length: n * 30 }, () => 5 + rng() * 86);
    const flipper = new BatchFlipper(spec);
    const rows = Uint8Array.from([1, 0, 1]);
    const before = tf.memory().numTensors;
    const [images, targets] = tf.tidy(() => {
      const x = tf.tensor4d(Float32Array.from(pixels, (p) => p / 255), [n, 96, 96, 1]);
      const y = tf.tensor2d(Float32Array.from(labelsPx, toTarget), [n, 30]);
      const out = flipper.apply(x, y, rows);
      return [out.images, out.targets];
    });
    const img = images.dataSync();
    const tgt = targets.dataSync();
    for (let r = 0; r < n; r++) {
      const face = pixels.subarray(r * PIXELS, (r + 1) * PIXELS);
      const labels = labelsPx.subarray(r * 30, (r + 1) * 30);
      const expected = rows[r] ? flipFace(face, labels, spec) : { pixels: face, labels };
      expect(Array.from(img.subarray(r * PIXELS, (r + 1) * PIXELS), (v) => Math.round(v * 255))).toEqual(Array.from(expected.pixels));
      for (let c = 0; c < 30; c++) expect(tgt[r * 30 + c] * 48 + 48).toBeCloseTo(expected.labels[c], 4);
    }
    tf.dispose([images, targets]);
    flipper.dispose();
    expect(tf.memory().numTensors).toBe(before - 3);
  });

  it('flips exactly half of each batch (rounded down), different rows each time', () => {
    const rng = seedrandom('half');
    const picks = [128, 127, 5, 1].map((n) => chooseHalf(n, rng));
    expect(picks.map((p) => p.reduce((a, b) => a + b, 0))).toEqual([64, 63, 2, 0]);
    const again = chooseHalf(128, rng);
    expect(Array.from(again)).not.toEqual(Array.from(picks[0]));
  });
});
