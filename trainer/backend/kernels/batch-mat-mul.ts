import * as tf from '@tensorflow/tfjs';
import { free, run, transpose, type KernelBackend, type TensorInfo, wasmKernel } from './compose';

/**
 * `BatchMatMul` for wasm with transposeA/transposeB done as explicit Transposes around a plain product: the
 * shipped kernel's transposed paths are 6-12x slower (measured: 2,023 vs 254 ms for the conv2 filter
 * gradient; 3,720 vs 165 + 287 ms for the first dense layer's gradients at batch 128).
 *
 * Of the two equivalent plain products, A'B' and (B'' A'')^T, it runs the one that transposes fewer values:
 * the first dense layer's input gradient dy W^T ([128, 1000] x [15488, 1000]^T) transposes dy and the
 * [128, 15488] result instead of the 15.5M weights (measured: 141 vs 260 ms).
 */
export const batchMatMul = wasmKernel<'a' | 'b', { transposeA?: boolean; transposeB?: boolean }>(
  'BatchMatMul',
  ({ inputs: { a, b }, attrs: { transposeA = false, transposeB = false }, backend }) => {
    if (!transposeA && !transposeB) return plainProduct(backend, a, b);

    const sizeA = tf.util.sizeFromShape(a.shape);
    const sizeB = tf.util.sizeFromShape(b.shape);
    const [aRows = 1, aCols = 1] = a.shape.slice(-2);
    const [bRows = 1, bCols = 1] = b.shape.slice(-2);
    const rows = transposeA ? aCols : aRows;
    const cols = transposeB ? bRows : bCols;
    const batch = Math.max(sizeA / (aRows * aCols), sizeB / (bRows * bCols));
    const direct = (transposeA ? sizeA : 0) + (transposeB ? sizeB : 0);
    const swapped = (transposeA ? 0 : sizeA) + (transposeB ? 0 : sizeB) + batch * rows * cols;

    if (direct <= swapped) {
      // A' B' with A' = op(A), B' = op(B) made plain.
      const aPlain = transposeA ? transposeLastTwo(backend, a) : a;
      const bPlain = transposeB ? transposeLastTwo(backend, b) : b;
      const out = plainProduct(backend, aPlain, bPlain);
      if (transposeA) free(backend, aPlain);
      if (transposeB) free(backend, bPlain);
      return out;
    }
    // (op(B)^T op(A)^T)^T: an operand stored transposed is used as it is; the other one and the result are transposed.
    const bFirst = transposeB ? b : transposeLastTwo(backend, b);
    const aSecond = transposeA ? a : transposeLastTwo(backend, a);
    const productT = plainProduct(backend, bFirst, aSecond);
    if (!transposeB) free(backend, bFirst);
    if (!transposeA) free(backend, aSecond);
    const out = transposeLastTwo(backend, productT);
    free(backend, productT);
    return out;
  },
);

function plainProduct(backend: KernelBackend, a: TensorInfo, b: TensorInfo): TensorInfo {
  return run(backend, 'BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
}

function transposeLastTwo(backend: KernelBackend, x: TensorInfo): TensorInfo {
  const rank = x.shape.length;
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return transpose(backend, x, perm);
}
