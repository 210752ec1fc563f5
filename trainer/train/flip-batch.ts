import * as tf from '@tensorflow/tfjs';
import type { FlipSpec } from '../data/flip';
import { MIRROR_X_OFFSET, TARGET_SCALE } from '../keypoints';

/**
 * trainer/data/flip.ts's flipFace on batch tensors and on the target scale, its constants kept for the
 * whole training: x -> 95 - x in pixels is t -> -t + (95 - 2 * 48) / 48 = -t - 1/48 on t = (x - 48) / 48;
 * y columns are only permuted.
 */
export class BatchFlipper {
  private readonly permutation: tf.Tensor1D;
  private readonly scale: tf.Tensor1D;
  private readonly offset: tf.Tensor1D;

  constructor(spec: FlipSpec) {
    const cols = spec.permutation.length;
    if (spec.isX.length !== cols) throw new Error(`flip: expected isX of ${cols} columns, found ${spec.isX.length}`);
    const xOffset = (MIRROR_X_OFFSET - 2 * TARGET_SCALE) / TARGET_SCALE;
    this.permutation = tf.keep(tf.tensor1d(spec.permutation, 'int32'));
    this.scale = tf.keep(tf.tensor1d(Float32Array.from(spec.isX, (x) => (x ? -1 : 1))));
    this.offset = tf.keep(tf.tensor1d(Float32Array.from(spec.isX, (x) => (x ? xOffset : 0))));
  }

  /**
   * Mirror the rows of the batch where `flipRows[b]` is 1: images [b, 96, 96, 1] reversed along the width,
   * targets [b, cols] permuted and x mirrored. Call inside tf.tidy.
   */
  apply(images: tf.Tensor4D, targets: tf.Tensor2D, flipRows: Uint8Array): { images: tf.Tensor4D; targets: tf.Tensor2D } {
    const n = images.shape[0];
    const rowsImage = tf.tensor4d(flipRows, [n, 1, 1, 1], 'bool');
    const rowsTarget = tf.tensor2d(flipRows, [n, 1], 'bool');
    const mirrored = tf.reverse(images, 2);
    const swapped = tf.add(tf.mul(tf.gather(targets, this.permutation, 1), this.scale), this.offset);
    return {
      images: tf.where(rowsImage, mirrored, images) as tf.Tensor4D,
      targets: tf.where(rowsTarget, swapped, targets) as tf.Tensor2D,
    };
  }

  dispose(): void {
    this.permutation.dispose();
    this.scale.dispose();
    this.offset.dispose();
  }
}

/** Choose floor(n / 2) distinct rows of a batch of n to flip, as the tutorial's FlipBatchIterator. */
export function chooseHalf(n: number, next: () => number, out: Uint8Array = new Uint8Array(n)): Uint8Array {
  out.fill(0, 0, n);
  let left = Math.floor(n / 2);
  // Selection sampling (Knuth's algorithm S): each row is taken with probability left / remaining.
  for (let i = 0; i < n && left > 0; i++) {
    if (next() * (n - i) < left) {
      out[i] = 1;
      left--;
    }
  }
  return out;
}
