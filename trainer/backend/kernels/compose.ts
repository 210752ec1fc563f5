import * as tf from '@tensorflow/tfjs';

/**
 * Composing wasm kernels at the TensorInfo level. Kernels here call other wasm kernels directly (no tensors,
 * no tape) and free every intermediate with `backend.disposeData`, so a replacement kernel allocates nothing
 * beyond its output. Wrapping TensorInfos into tensors instead would free the caller's data on dispose.
 */

export type TensorInfo = tf.TensorInfo;
export type Attrs = tf.NamedAttrMap;

export interface KernelBackend {
  disposeData(dataId: object, force?: boolean): boolean;
}

/** The parts of tfjs-backend-wasm's BackendWasm that kernels written in JS use (tfjs 4.22). */
export interface WasmHeapBackend extends KernelBackend {
  /** Allocates an output on the wasm heap; may grow the heap, which detaches earlier heap views. */
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  /** A view of the tensor's bytes on the wasm heap (no copy); valid until the next allocation. */
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * A float32 view on the wasm heap. Take views only after every allocation of the kernel: a later
 * `makeOutput` may grow the heap and detach them.
 */
export function heapF32(backend: WasmHeapBackend, info: TensorInfo): Float32Array {
  if (info.dtype !== 'float32')
    throw new Error(
      `expected a float32 tensor on the wasm heap, found ${info.dtype} of shape [${info.shape}]`,
    );
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** Attributes shared by Conv2DBackpropFilter and Conv2DBackpropInput (the shape attribute differs). */
export interface ConvBackpropAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export type KernelFn = (args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: Attrs;
}) => TensorInfo;

/** The wasm kernel registered under `name` when first asked; captured once so later replacements can still call it. */
const originals = new Map<string, KernelFn>();

export function originalKernel(name: string): KernelFn {
  let fn = originals.get(name);
  if (!fn) {
    const config = tf.getKernel(name, 'wasm');
    if (!config)
      throw new Error(`expected a wasm kernel '${name}' in @tensorflow/tfjs-backend-wasm, found none`);
    fn = config.kernelFunc as unknown as KernelFn;
    originals.set(name, fn);
  }
  return fn;
}

/** Runs the shipped wasm kernel `name`; the caller owns (and must free) the result. */
export function run(
  backend: KernelBackend,
  name: string,
  inputs: Record<string, TensorInfo> | TensorInfo[],
  attrs: Record<string, unknown> = {},
): TensorInfo {
  // Concat takes its inputs as an array, as tfjs-core passes them.
  return originalKernel(name)({ inputs: inputs as tf.NamedTensorInfoMap, backend, attrs: attrs as Attrs });
}

export function free(backend: KernelBackend, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

export function reshape(backend: KernelBackend, x: TensorInfo, shape: number[]): TensorInfo {
  return run(backend, 'Reshape', { x }, { shape });
}

export function transpose(backend: KernelBackend, x: TensorInfo, perm: number[]): TensorInfo {
  return run(backend, 'Transpose', { x }, { perm });
}
