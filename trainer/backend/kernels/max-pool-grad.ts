import * as tf from '@tensorflow/tfjs';
import { heapF32, wasmKernel } from './compose';

/**
 * `MaxPoolGrad` for wasm as one JS pass over the wasm heap: each output pixel's gradient goes to the first
 * maximum of its window (strictly greater wins, as the cpu backend picks it), accumulated where windows
 * overlap. Hand-written because measured speed demands it: the shipped kernel took ~1.0 s of a 5.2 s
 * baseline step at batch 128 for the three pools (61M input values), this loop a small fraction of that.
 * NCHW and dilated pools go to the shipped kernel.
 */
export const maxPoolGrad = wasmKernel<
  'dy' | 'input',
  {
    filterSize: [number, number] | number;
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  }
>('MaxPoolGrad', ({ inputs: { dy, input }, attrs, backend, shipped }) => {
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  if (
    input.dtype !== 'float32' ||
    info.dataFormat !== 'channelsLast' ||
    info.dilationHeight !== 1 ||
    info.dilationWidth !== 1
  ) {
    return shipped();
  }
  const dx = backend.makeOutput(input.shape, 'float32');
  const X = heapF32(backend, input);
  const DY = heapF32(backend, dy);
  const DX = heapF32(backend, dx);
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, padInfo } = info;
  const pairs =
    fh === 2 &&
    fw === 2 &&
    sh === 2 &&
    sw === 2 &&
    padInfo.top === 0 &&
    padInfo.left === 0 &&
    2 * info.outHeight <= info.inHeight &&
    2 * info.outWidth <= info.inWidth;
  if (pairs) maxPoolGrad2x2(X, DY, DX, info);
  else maxPoolGradAnyWindow(X, DY, DX, info);
  return dx;
});

/**
 * The networks' pools: 2x2 windows at stride 2 that start at the top left and lie inside the input. Windows
 * do not overlap, so each input value is written once (its window's gradient or 0); rows and columns no
 * window covers are zeroed.
 * Ties go to the first maximum in row-major window order.
 */
function maxPoolGrad2x2(
  X: Float32Array,
  DY: Float32Array,
  DX: Float32Array,
  info: tf.backend_util.Conv2DInfo,
): void {
  const { batchSize, inHeight: H, inWidth: W, inChannels: C, outHeight, outWidth } = info;
  if (2 * outHeight !== H || 2 * outWidth !== W) DX.fill(0);
  const rowStride = W * C;
  for (let b = 0; b < batchSize; b++) {
    for (let yr = 0; yr < outHeight; yr++) {
      let p00 = (b * H + 2 * yr) * W * C;
      let out = (b * outHeight + yr) * outWidth * C;
      for (let xr = 0; xr < outWidth; xr++, p00 += 2 * C, out += C) {
        const p01 = p00 + C;
        const p10 = p00 + rowStride;
        const p11 = p10 + C;
        for (let d = 0; d < C; d++) {
          const v00 = X[p00 + d]!;
          const v01 = X[p01 + d]!;
          const v10 = X[p10 + d]!;
          const v11 = X[p11 + d]!;
          let m = 0;
          let best = v00;
          if (v01 > best) {
            best = v01;
            m = 1;
          }
          if (v10 > best) {
            best = v10;
            m = 2;
          }
          if (v11 > best) m = 3;
          const g = DY[out + d]!;
          DX[p00 + d] = m === 0 ? g : 0;
          DX[p01 + d] = m === 1 ? g : 0;
          DX[p10 + d] = m === 2 ? g : 0;
          DX[p11 + d] = m === 3 ? g : 0;
        }
      }
    }
  }
}

/** Any window, stride and padding: each output's gradient is added at the first maximum of its window. */
function maxPoolGradAnyWindow(
  X: Float32Array,
  DY: Float32Array,
  DX: Float32Array,
  info: tf.backend_util.Conv2DInfo,
): void {
  DX.fill(0);
  const {
    batchSize,
    inHeight: H,
    inWidth: W,
    inChannels: C,
    outHeight,
    outWidth,
    filterHeight: fh,
    filterWidth: fw,
  } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const best = new Float32Array(C);
  const where = new Int32Array(C);
  for (let b = 0; b < batchSize; b++) {
    for (let yr = 0; yr < outHeight; yr++) {
      const rLo = Math.max(0, yr * sh - top);
      const rHi = Math.min(H, yr * sh - top + fh);
      for (let xr = 0; xr < outWidth; xr++) {
        const cLo = Math.max(0, xr * sw - left);
        const cHi = Math.min(W, xr * sw - left + fw);
        best.fill(-Infinity);
        where.fill(-1);
        for (let r = rLo; r < rHi; r++) {
          for (let c = cLo; c < cHi; c++) {
            const base = ((b * H + r) * W + c) * C;
            for (let d = 0; d < C; d++) {
              const v = X[base + d]!;
              if (v > best[d]!) {
                best[d] = v;
                where[d] = base + d;
              }
            }
          }
        }
        const out = ((b * outHeight + yr) * outWidth + xr) * C;
        for (let d = 0; d < C; d++) {
          const at = where[d]!;
          if (at >= 0) DX[at]! += DY[out + d]!;
        }
      }
    }
  }
}
