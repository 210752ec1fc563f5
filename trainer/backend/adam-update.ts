import { ADAM } from '../train/adam';

/**
 * One Adam step on the parameter range [from, to) of flat arrays, as trainer/train/adam.ts does with
 * tensors: g is the sum of the shard gradients in shard order, m = b1 m + (1 - b1) g,
 * v = b2 v + (1 - b2) g^2, w -= stepSize * m / (sqrt(v) + epsilon), where stepSize is adamStepSize of the
 * step. Plain loops, for the reason nesterovUpdate gives.
 */
export function adamUpdate(
  weights: Float32Array,
  firstMoments: Float32Array,
  secondMoments: Float32Array,
  gradients: Float32Array[],
  from: number,
  to: number,
  stepSize: number,
): void {
  if (gradients.length === 0) throw new Error('adamUpdate: expected at least one shard gradient, found none');
  const { beta1, beta2, epsilon } = ADAM;
  for (let i = from; i < to; i++) {
    let g = gradients[0]![i]!;
    for (let k = 1; k < gradients.length; k++) g = Math.fround(g + gradients[k]![i]!);
    const m = Math.fround(beta1 * firstMoments[i]! + (1 - beta1) * g);
    const v = Math.fround(beta2 * secondMoments[i]! + (1 - beta2) * g * g);
    firstMoments[i] = m;
    secondMoments[i] = v;
    weights[i] = weights[i]! - stepSize * (m / (Math.sqrt(v) + epsilon));
  }
}
