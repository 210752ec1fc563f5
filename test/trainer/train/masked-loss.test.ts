import * as tf from '@tensorflow/tfjs';
import { presentTargets, squaredErrorLoss } from '../../../trainer/train/masked-loss';

const ROWS = 5;
const OUTPUTS = 3;
const inputs = tf.tensor2d(
  Array.from({ length: ROWS * 4 }, (_, i) => Math.sin(i + 1)),
  [ROWS, 4],
);
const weights = tf.variable(
  tf.tensor2d(
    Array.from({ length: 4 * OUTPUTS }, (_, i) => Math.cos(i) / 2),
    [4, 3],
  ),
);
const targets = Array.from({ length: ROWS * OUTPUTS }, (_, i) => Math.sin(3 * i) / 2);

/** The loss of a linear model's outputs and its gradient with respect to the weights. */
function lossAndGradient(y: number[], mask: number[] | null): { loss: number; grad: number[] } {
  const { value, grads } = tf.variableGrads(() => {
    const pred = tf.matMul(inputs, weights);
    const m = mask ? tf.tensor2d(mask, [ROWS, OUTPUTS]) : null;
    return squaredErrorLoss(pred, tf.tensor2d(y, [ROWS, OUTPUTS]), m);
  });
  // + 0 turns -0 (a masked product's sign) into 0, which toEqual tells apart.
  const result = {
    loss: value.dataSync()[0]!,
    grad: Array.from(grads[weights.name]!.dataSync(), (v) => v + 0),
  };
  tf.dispose([value, ...Object.values(grads)]);
  return result;
}

describe('squaredErrorLoss', () => {
  it('with every target present equals the plain mean squared error, value and gradient', () => {
    const plain = lossAndGradient(targets, null);
    const masked = lossAndGradient(targets, new Array(ROWS * OUTPUTS).fill(1));
    expect(masked.loss).toBeCloseTo(plain.loss, 6);
    for (const [i, g] of masked.grad.entries()) expect(g).toBeCloseTo(plain.grad[i]!, 6);
  });

  it('ignores missing targets exactly: garbage there gives the same loss and gradient', () => {
    // Row 1 lacks its last two targets, row 3 its first.
    const mask = targets.map((_, i) => (i === 4 || i === 5 || i === 9 ? 0 : 1));
    const zeros = targets.map((t, i) => (mask[i] ? t : 0));
    const garbage = targets.map((t, i) => (mask[i] ? t : 1e6 * (i + 1)));
    expect(lossAndGradient(garbage, mask)).toEqual(lossAndGradient(zeros, mask));
  });

  it('divides by the present targets only: a row without any counts as absent', () => {
    // Rows 0 and 2 present, the rest fully missing: the loss is the plain MSE of rows 0 and 2 alone.
    const mask = targets.map((_, i) => (Math.floor(i / OUTPUTS) % 2 === 0 && i < 9 ? 1 : 0));
    const masked = lossAndGradient(targets, mask);
    const kept = [0, 2];
    const { value, grads } = tf.variableGrads(() => {
      const x = tf.gather(inputs, kept);
      const y = tf.gather(tf.tensor2d(targets, [ROWS, OUTPUTS]), kept);
      return squaredErrorLoss(tf.matMul(x, weights), y, null);
    });
    expect(masked.loss).toBeCloseTo(value.dataSync()[0]!, 6);
    const expected = grads[weights.name]!.dataSync();
    for (const [i, g] of masked.grad.entries()) expect(g).toBeCloseTo(expected[i]!, 6);
    tf.dispose([value, ...Object.values(grads)]);
  });

  it('is 0, not NaN, for a batch without any present target', () => {
    expect(lossAndGradient(targets, new Array(ROWS * OUTPUTS).fill(0)).loss).toBe(0);
  });
});

describe('presentTargets', () => {
  it('counts the 1s of the first entries of a mask', () => {
    expect(presentTargets(Float32Array.of(1, 0, 1, 1))).toBe(3);
    expect(presentTargets(Float32Array.of(1, 0, 1, 1), 2)).toBe(1);
  });
});
