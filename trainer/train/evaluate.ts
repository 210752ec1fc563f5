import * as tf from '@tensorflow/tfjs';
import { COORDINATES, IMAGE_SIZE, PIXELS, toPixels } from '../../contracts/keypoints';
import { fillImages } from './batches';

/**
 * Prediction batches hold at least this many images: without gradients a batch needs little memory, and
 * the quick preset's training batch of 8 made each epoch's dev evaluation pay per-call overhead 50 times.
 */
export const MIN_PREDICT_BATCH = 64;

/** Model outputs on the target scale, count * outputs, predicted max(`trainBatch`, 64) images at a time. */
export function predictTargets(
  model: tf.LayersModel,
  pixels: Uint8Array,
  count: number,
  trainBatch: number,
): Float32Array {
  const batchSize = Math.max(trainBatch, MIN_PREDICT_BATCH);
  const outputs = outputCount(model);
  const result = new Float32Array(count * outputs);
  const buffer = new Float32Array(Math.min(batchSize, Math.max(count, 1)) * PIXELS);
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    fillImages(buffer, pixels, null, start, n);
    const out = tf.tidy(() => {
      const x = tf.tensor4d(buffer.subarray(0, n * PIXELS), [n, IMAGE_SIZE, IMAGE_SIZE, 1]);
      return model.predict(x) as tf.Tensor;
    });
    // Read outside tidy: returning a typed array from tidy makes tfjs walk every element.
    result.set(out.dataSync(), start * outputs);
    out.dispose();
  }
  return result;
}

/** Predictions in pixels clipped to [0, 96], count * outputs (the submission's scale). */
export function predictPx(
  model: tf.LayersModel,
  pixels: Uint8Array,
  count: number,
  batchSize: number,
): Float32Array {
  const t = predictTargets(model, pixels, count, batchSize);
  for (let i = 0; i < t.length; i++) t[i] = toPixels(t[i]!);
  return t;
}

export interface Rmse {
  /** Over every non-missing value. NaN when there is none. */
  overall: number;
  /** One per column, NaN for a column with no truth. */
  perColumn: number[];
}

/** Root mean squared error in pixels, overall and per column; NaN in `truthPx` marks a missing value and is skipped. */
export function rmsePx(pred: Float32Array, truthPx: Float32Array, count: number, cols: number): Rmse {
  if (pred.length !== count * cols || truthPx.length !== count * cols) {
    throw new Error(
      `rmsePx: expected ${count} x ${cols} = ${count * cols} values, found ${pred.length} predictions and ${truthPx.length} truths`,
    );
  }
  const sum = new Float64Array(cols);
  const n = new Float64Array(cols);
  for (let r = 0; r < count; r++) {
    for (let c = 0; c < cols; c++) {
      const t = truthPx[r * cols + c]!;
      if (Number.isNaN(t)) continue;
      const d = pred[r * cols + c]! - t;
      sum[c]! += d * d;
      n[c]! += 1;
    }
  }
  let total = 0;
  let totalN = 0;
  const perColumn: number[] = [];
  for (let c = 0; c < cols; c++) {
    const s = sum[c]!;
    const k = n[c]!;
    total += s;
    totalN += k;
    perColumn.push(k > 0 ? Math.sqrt(s / k) : NaN);
  }
  return { overall: totalN > 0 ? Math.sqrt(total / totalN) : NaN, perColumn };
}

/** Model 0: the training mean of each column, ignoring missing (NaN) values; NaN for a column never present. */
export function meanModel(labelsPx: Float32Array, count: number, cols: number = COORDINATES): Float32Array {
  if (labelsPx.length !== count * cols) {
    throw new Error(
      `meanModel: expected ${count} x ${cols} = ${count * cols} labels, found ${labelsPx.length}`,
    );
  }
  const sum = new Float64Array(cols);
  const n = new Float64Array(cols);
  for (let i = 0; i < labelsPx.length; i++) {
    const v = labelsPx[i]!;
    if (Number.isNaN(v)) continue;
    sum[i % cols]! += v;
    n[i % cols]! += 1;
  }
  return Float32Array.from(sum, (s, c) => {
    const k = n[c]!;
    return k > 0 ? s / k : NaN;
  });
}

/** Output units of a single-output network. */
export function outputCount(model: tf.LayersModel): number {
  const shape = model.outputs[0]?.shape ?? [];
  const units = shape[shape.length - 1];
  if (model.outputs.length !== 1 || shape.length !== 2 || units == null) {
    throw new Error(
      `expected a network with one output of shape [batch, units], found ${model.outputs.map((o) => `[${o.shape}]`).join(', ')}`,
    );
  }
  return units;
}
