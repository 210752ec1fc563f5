import * as tf from '@tensorflow/tfjs';
import { heapF32, wasmKernel } from './compose';

/**
 * `Sum` for wasm over leading axes (the bias gradients: dy [b, h, w, c] summed to [c]) as one JS pass that
 * accumulates rows in doubles. The shipped kernel transposes the reduced axes to the end first, which took
 * ~0.3 s of a baseline step at batch 128 for 36M values of conv1 alone; hand-written for that measured
 * speed. Every other reduction goes to the shipped kernel.
 */
export const sum = wasmKernel<'x', { axis: number | number[]; keepDims?: boolean }>(
  'Sum',
  ({ inputs: { x }, attrs, backend, shipped }) => {
    const axes = tf.util.parseAxisParam(attrs.axis, x.shape).sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((a, i) => a === i);
    if (x.dtype !== 'float32' || !leading || tf.util.sizeFromShape(x.shape) === 0) {
      return shipped();
    }
    const kept = x.shape.slice(axes.length);
    const outShape = attrs.keepDims ? [...axes.map(() => 1), ...kept] : kept;
    const out = backend.makeOutput(outShape, 'float32');
    const X = heapF32(backend, x);
    const OUT = heapF32(backend, out);
    const inner = kept.reduce((a, b) => a * b, 1);
    const outer = X.length / inner;
    const acc = new Float64Array(inner);
    for (let i = 0, o = 0; i < outer; i++, o += inner) {
      for (let j = 0; j < inner; j++) acc[j]! += X[o + j]!;
    }
    OUT.set(acc);
    return out;
  },
);
