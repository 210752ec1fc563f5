/**
 * One step of SGD with Nesterov momentum, as tf.train.momentum(lr, m, useNesterov = true), on the parameter
 * range [from, to) of flat arrays: a = m * a + g; w -= lr * (g + m * a), where g is the sum of the shard
 * gradients taken in shard order (so the result does not depend on which thread updates which range).
 * Plain loops: 16.5M parameters need no tensors; the one- and two-shard cases have their own loops because
 * a loop over shards per parameter is 2-3x slower.
 */
export function nesterovUpdate(
  weights: Float32Array,
  accumulators: Float32Array,
  gradients: Float32Array[],
  from: number,
  to: number,
  learningRate: number,
  momentum: number,
): void {
  if (gradients.length === 0)
    throw new Error('nesterovUpdate: expected at least one shard gradient, found none');
  const w = weights;
  const acc = accumulators;
  if (gradients.length <= 2) {
    const [a, b] = gradients;
    for (let i = from; i < to; i++) {
      const g = b === undefined ? a![i]! : Math.fround(a![i]! + b[i]!);
      const m = Math.fround(momentum * acc[i]! + g);
      acc[i] = m;
      w[i] = w[i]! - learningRate * (g + momentum * m);
    }
    return;
  }
  for (let i = from; i < to; i++) {
    let g = gradients[0]![i]!;
    for (let k = 1; k < gradients.length; k++) g = Math.fround(g + gradients[k]![i]!);
    const m = Math.fround(momentum * acc[i]! + g);
    acc[i] = m;
    w[i] = w[i]! - learningRate * (g + momentum * m);
  }
}
