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

/** A replacement kernel and the tfjs kernel name it registers under. */
export interface WasmKernel {
  kernelName: string;
  kernelFunc: KernelFn;
}

/** What a replacement kernel's body receives: its inputs and attributes by name, and the kernel it replaces. */
export interface KernelCall<I extends string, A> {
  inputs: Record<I, TensorInfo>;
  attrs: A;
  backend: WasmHeapBackend;
  /** Runs the shipped kernel on the same inputs and attributes (for the cases a replacement leaves to it). */
  shipped(): TensorInfo;
}

/**
 * A replacement for the shipped wasm kernel `kernelName`. tfjs passes inputs and attributes untyped; `body`
 * states which it reads (`I`, `A`), as the kernel's tfjs-core definition names them.
 */
export function wasmKernel<I extends string, A>(
  kernelName: string,
  body: (call: KernelCall<I, A>) => TensorInfo,
): WasmKernel {
  return {
    kernelName,
    kernelFunc: (args) => {
      const backend = args.backend as WasmHeapBackend;
      return body({
        inputs: args.inputs as Record<I, TensorInfo>,
        attrs: (args.attrs ?? {}) as unknown as A,
        backend,
        shipped: () => run(backend, kernelName, args.inputs as Record<string, TensorInfo>, args.attrs),
      });
    },
  };
}

/** Conv2DInfo of a stride/pad convolution without dilation, as the gradient kernels' attributes give it. */
export function conv2DInfo(
  inputShape: readonly number[],
  filterShape: readonly number[],
  attrs: ConvBackpropAttrs,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
}

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
