import type * as tf from '@tensorflow/tfjs';
import {
  conv2DInfo,
  free,
  heapF32,
  reshape,
  run,
  type ConvBackpropAttrs,
  type TensorInfo,
  type WasmHeapBackend,
  wasmKernel,
} from './compose';

/**
 * Columns of one patch matrix: the product is split along its summed dimension (output pixels) because
 * XNNPACK streams whole rows of both operands per output tile, and rows of a million floats do not stay in
 * cache. Measured on conv2 of the baseline (K = 270,848): 269 ms in one product, 122-150 ms in chunks of
 * 1,024 to 16,384 columns.
 */
const CHUNK_COLUMNS = 16_384;

/**
 * `Conv2DBackpropFilter` for wasm, which ships without it (so convolutions could not train).
 * dW[i, j, c, o] = sum over output pixels n = (b, y, x) of x[b, y*s + i - pad, x*s + j - pad, c] * dy[n, o]:
 * the input windows are copied into a patch matrix P[(i, j, c), n] (im2col) and multiplied by dy as
 * [n, co] in plain matMuls, one per chunk of output rows.
 *
 * im2col is a JS loop over the wasm heap rather than wasm Slice/Concat/Transpose kernels because measured
 * speed demands it: the shipped Slice copies one innermost row per call (4 window slices of conv2 took
 * 1.1 s and the concat 0.7 s, against ~0.1 s for this loop over all three layers).
 */
export const conv2DBackpropFilter = wasmKernel<
  'x' | 'dy',
  ConvBackpropAttrs & { filterShape: [number, number, number, number] }
>('Conv2DBackpropFilter', ({ inputs: { x, dy }, attrs, backend }) => {
  if (attrs.dataFormat === 'NCHW') {
    throw new Error(
      'Conv2DBackpropFilter (wasm): expected dataFormat NHWC, the only layout the wasm backend runs; found NCHW',
    );
  }
  const info = conv2DInfo(x.shape, attrs.filterShape, attrs);
  const { batchSize, inChannels, outChannels, filterHeight: kh, filterWidth: kw, outHeight, outWidth } = info;
  const patchRows = kh * kw * inChannels;
  const outputRows = batchSize * outHeight;
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_COLUMNS / outWidth));

  const dy2d = reshape(backend, dy, [outputRows * outWidth, outChannels]);
  let sum: TensorInfo | null = null;
  for (let r0 = 0; r0 < outputRows; r0 += rowsPerChunk) {
    const r1 = Math.min(outputRows, r0 + rowsPerChunk);
    const columns = (r1 - r0) * outWidth;
    const dyChunk =
      r0 === 0 && r1 === outputRows
        ? reshape(backend, dy2d, [1, columns, outChannels])
        : sliceRows(backend, dy2d, r0 * outWidth, columns, outChannels);
    const patches = backend.makeOutput([1, patchRows, columns], 'float32');
    // Views only now: every allocation of this chunk is done (a heap growth would detach them).
    im2col(heapF32(backend, x), heapF32(backend, patches), info, r0, r1);
    const product = run(
      backend,
      'BatchMatMul',
      { a: patches, b: dyChunk },
      { transposeA: false, transposeB: false },
    );
    free(backend, patches, dyChunk);
    if (sum === null) {
      sum = product;
    } else {
      const next = run(backend, 'Add', { a: sum, b: product });
      free(backend, sum, product);
      sum = next;
    }
  }
  free(backend, dy2d);
  const dw = reshape(backend, sum!, [kh, kw, inChannels, outChannels]);
  free(backend, sum!);
  return dw;
});

/**
 * dy2d rows [from, from + count) as a new [1, count, cols] tensor. Copied here: the shipped Slice first
 * copies its whole input off the heap (36M floats for conv1's dy, once per chunk).
 */
function sliceRows(
  backend: WasmHeapBackend,
  dy2d: TensorInfo,
  from: number,
  count: number,
  cols: number,
): TensorInfo {
  const rows = backend.makeOutput([1, count, cols], 'float32');
  heapF32(backend, rows).set(heapF32(backend, dy2d).subarray(from * cols, (from + count) * cols));
  return rows;
}

/**
 * P[(i * kw + j) * ci + c, (r - r0) * ow + xo] = x[b, y*sh + i - top, xo*sw + j - left, c] (0 outside the
 * image) for output rows r = b * oh + y in [r0, r1). Reads stay within one input row per (r, i), so they hit
 * cache; writes are contiguous runs of ow floats.
 */
function im2col(
  X: Float32Array,
  P: Float32Array,
  info: tf.backend_util.Conv2DInfo,
  r0: number,
  r1: number,
): void {
  const {
    inHeight: H,
    inWidth: W,
    inChannels: ci,
    filterHeight: kh,
    filterWidth: kw,
    outHeight: oh,
    outWidth: ow,
  } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const columns = (r1 - r0) * ow;
  for (let r = r0; r < r1; r++) {
    const b = Math.floor(r / oh);
    const y = r - b * oh;
    const column = (r - r0) * ow;
    for (let i = 0; i < kh; i++) {
      const sy = y * sh + i - top;
      const inside = sy >= 0 && sy < H;
      const sourceRow = (b * H + sy) * W;
      for (let j = 0; j < kw; j++) {
        // Output columns whose source column lies inside the image; the rest are padding zeros.
        const xLo = Math.min(ow, Math.max(0, Math.ceil((left - j) / sw)));
        const xHi = Math.max(xLo, Math.min(ow, Math.floor((W - 1 + left - j) / sw) + 1));
        for (let c = 0; c < ci; c++) {
          const dst = ((i * kw + j) * ci + c) * columns + column;
          if (!inside) {
            P.fill(0, dst, dst + ow);
            continue;
          }
          if (xLo > 0) P.fill(0, dst, dst + xLo);
          if (xHi < ow) P.fill(0, dst + xHi, dst + ow);
          let src = (sourceRow + xLo * sw + j - left) * ci + c;
          const step = sw * ci;
          for (let xo = xLo; xo < xHi; xo++, src += step) P[dst + xo] = X[src]!;
        }
      }
    }
  }
}
