import * as tf from '@tensorflow/tfjs';
import { free, run, transpose, type KernelBackend, type TensorInfo } from './compose';

/**
 * `BatchMatMul` for wasm with transposeA/transposeB done as an explicit Transpose followed by a plain
 * product: the shipped kernel's transposed paths are 6-12x slower (measured: 2,023 vs 254 ms for the conv2
 * filter gradient; 3,720 vs 165 + 287 ms for the first dense layer's gradients at batch 128).
 */
export function batchMatMul(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): TensorInfo {
  const backend = args.backend as KernelBackend;
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
  if (!transposeA && !transposeB) return run(backend, 'BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
  const aPlain = transposeA ? transpose(backend, a, swapLastTwo(a.shape.length)) : a;
  const bPlain = transposeB ? transpose(backend, b, swapLastTwo(b.shape.length)) : b;
  const out = run(backend, 'BatchMatMul', { a: aPlain, b: bPlain }, { transposeA: false, transposeB: false });
  if (transposeA) free(backend, aPlain);
  if (transposeB) free(backend, bPlain);
  return out;
}

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}
