import * as tf from '@tensorflow/tfjs';
import { NesterovSgd } from '../../../trainer/train/nesterov';

describe('NesterovSgd', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  // Loss g * w has the constant gradient g, so each update can be written out by hand.
  const step = (opt: NesterovSgd, w: tf.Variable, g: number) => {
    tf.tidy(() => {
      opt.optimizer.minimize(() => tf.sum(tf.mul(w, g)) as tf.Scalar, false, [w]);
    });
  };

  it('applies the learning rate and momentum set for each epoch (Nesterov update)', () => {
    const w = tf.variable(tf.scalar(0));
    const opt = new NesterovSgd(0.1, 0.5);
    step(opt, w, 2);
    // acc = 2; w -= 0.1 * (2 + 0.5 * 2)
    expect(w.dataSync()[0]).toBeCloseTo(-0.3, 6);
    opt.setLearningRate(0.01);
    opt.setMomentum(0.9);
    expect(opt.momentum).toBeCloseTo(0.9, 6);
    step(opt, w, 2);
    // acc = 0.9 * 2 + 2 = 3.8; w -= 0.01 * (2 + 0.9 * 3.8)
    expect(w.dataSync()[0]).toBeCloseTo(-0.3 - 0.01 * (2 + 0.9 * 3.8), 6);
    opt.dispose();
    w.dispose();
  });

  it('restores its saved state into a fresh optimizer exactly, without leaking tensors', async () => {
    const before = tf.memory().numTensors;
    const a = tf.tidy(() => tf.variable(tf.tensor1d([1, 2, 3])));
    const b = tf.tidy(() => tf.variable(tf.tensor1d([1, 2, 3])));
    const first = new NesterovSgd(0.05, 0.9);
    for (let i = 0; i < 3; i++) step(first, a, 1.5);
    b.assign(a);
    const saved = await first.state();
    expect(saved.iterations).toBe(3);
    expect(saved.accumulators.map((x) => x.shape)).toEqual([[3]]);
    const second = new NesterovSgd(0.05, 0.9);
    await second.restore(saved);
    step(first, a, 1.5);
    step(second, b, 1.5);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect((await second.state()).iterations).toBe(4);
    first.dispose();
    second.dispose();
    a.dispose();
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
