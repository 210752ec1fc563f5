import * as tf from '@tensorflow/tfjs';
import { ADAM, Adam, adamStepSize } from '../../../trainer/train/adam';
import { adamUpdate } from '../../../trainer/backend/adam-update';

describe('Adam', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  // Loss sum(g * w) has the constant gradient g, so each update can be written out by hand.
  const step = (opt: Adam, w: tf.Variable, g: number[]) =>
    tf.tidy(() => opt.minimize(() => tf.sum(tf.mul(w, tf.tensor1d(g))) as tf.Scalar, [w])).dispose();

  /**
   * The update in doubles, in the paper's "efficient" form (section 2: epsilon added to sqrt(v), the bias
   * corrections folded into the step size): the reference both implementations must follow.
   */
  function reference(gradients: number[][], rates: number[], start: number[]): number[] {
    const w = start.slice();
    const m = w.map(() => 0);
    const v = w.map(() => 0);
    gradients.forEach((g, t) => {
      for (let i = 0; i < w.length; i++) {
        m[i] = ADAM.beta1 * m[i]! + (1 - ADAM.beta1) * g[i]!;
        v[i] = ADAM.beta2 * v[i]! + (1 - ADAM.beta2) * g[i]! ** 2;
        const alpha = (rates[t]! * Math.sqrt(1 - ADAM.beta2 ** (t + 1))) / (1 - ADAM.beta1 ** (t + 1));
        w[i] = w[i]! - (alpha * m[i]!) / (Math.sqrt(v[i]!) + ADAM.epsilon);
      }
    });
    return w;
  }

  const gradients = [
    [2, -0.5, 0.01],
    [1.5, -0.5, -0.02],
    [-1, 0.25, 0.03],
  ];
  const rates = [0.1, 0.05, 0.01];

  it('follows the bias-corrected update, with the learning rate set for each step', () => {
    const w = tf.variable(tf.tensor1d([0, 1, -1]));
    const opt = new Adam(rates[0]!);
    gradients.forEach((g, t) => {
      opt.setLearningRate(rates[t]!);
      step(opt, w, g);
    });
    const expected = reference(gradients, rates, [0, 1, -1]);
    Array.from(w.dataSync()).forEach((x, i) => {
      expect(x).toBeCloseTo(expected[i]!, 5);
    });
    opt.dispose();
    w.dispose();
  });

  it('moves every weight by the learning rate on its first step, whatever the size of its gradient', () => {
    const w = tf.variable(tf.tensor1d([0, 0, 0]));
    const opt = new Adam(0.1);
    step(opt, w, [2, -0.5, 0.01]);
    Array.from(w.dataSync()).forEach((x, i) => {
      expect(x).toBeCloseTo([-0.1, 0.1, -0.1][i]!, 4);
    });
    opt.dispose();
    w.dispose();
  });

  it("the workers' loop (adamUpdate) follows the same update, shards summed", () => {
    const w = Float32Array.from([0, 1, -1]);
    const m = new Float32Array(3);
    const v = new Float32Array(3);
    gradients.forEach((g, t) => {
      const half = Float32Array.from(g, (x) => x / 2);
      adamUpdate(w, m, v, [half, half], 0, 3, adamStepSize(rates[t]!, t + 1));
    });
    const expected = reference(gradients, rates, [0, 1, -1]);
    Array.from(w).forEach((x, i) => {
      expect(x).toBeCloseTo(expected[i]!, 5);
    });
  });

  it('restores its saved state into a fresh optimizer exactly, without leaking tensors', async () => {
    const before = tf.memory().numTensors;
    const a = tf.tidy(() => tf.variable(tf.tensor1d([1, 2, 3])));
    const b = tf.tidy(() => tf.variable(tf.tensor1d([1, 2, 3])));
    const first = new Adam(0.05);
    step(first, a, gradients[0]!);
    step(first, a, gradients[1]!);
    b.assign(a);
    const saved = await first.state();
    expect(saved.iterations).toBe(2);
    expect(saved.accumulators).toHaveLength(2);
    step(first, a, gradients[2]!);
    const second = new Adam(0.05);
    await second.restore(saved);
    step(second, b, gradients[2]!);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    first.dispose();
    second.dispose();
    tf.dispose([a, b]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a state that is not pairs of moments', async () => {
    const opt = new Adam(0.01);
    await expect(
      opt.restore({ iterations: 1, accumulators: [{ shape: [1], values: new Float32Array(1) }] }),
    ).rejects.toThrow('Adam: expected first and second moments (an even number of arrays), found 1');
  });
});
