import * as tf from '@tensorflow/tfjs';

/**
 * Sum of the squared errors over the present targets: `mask` holds 1 where a target is present and 0 where
 * it is missing, so a missing target adds nothing to the sum nor to its gradient, whatever it holds (as
 * long as it is finite: 0 * NaN is NaN, which is why fillTargets writes 0 there).
 */
export function maskedSquaredSum(pred: tf.Tensor, y: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return tf.sum(tf.mul(mask, tf.squaredDifference(pred, y)));
}

/**
 * The training loss of one batch: the mean squared error over the present targets, sum(mask * (pred - y)^2)
 * / max(sum(mask), 1). Without a mask, tf.mean over every target, so `drop` runs compute what they always did.
 */
export function squaredErrorLoss(pred: tf.Tensor, y: tf.Tensor, mask: tf.Tensor | null): tf.Scalar {
  if (!mask) return tf.mean(tf.squaredDifference(pred, y));
  return tf.div(maskedSquaredSum(pred, y, mask), tf.maximum(tf.sum(mask), 1));
}

/** Present targets (1s) of the first `length` entries of a 0/1 mask. */
export function presentTargets(mask: Float32Array, length = mask.length): number {
  let n = 0;
  for (let i = 0; i < length; i++) n += mask[i]!;
  return n;
}
