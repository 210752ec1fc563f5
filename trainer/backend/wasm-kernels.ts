import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { originalKernel, type WasmKernel } from './kernels/compose';
import { batchMatMul } from './kernels/batch-mat-mul';
import { conv2DBackpropFilter } from './kernels/conv2d-backprop-filter';
import { conv2DBackpropInput } from './kernels/conv2d-backprop-input';
import { maxPoolGrad } from './kernels/max-pool-grad';
import { sum } from './kernels/sum';

/** The training kernels this project registers for wasm. */
export const WASM_TRAINING_KERNELS: readonly WasmKernel[] = [
  conv2DBackpropFilter,
  conv2DBackpropInput,
  batchMatMul,
  maxPoolGrad,
  sum,
];

let registered = false;

/**
 * Registers the wasm training kernels through tfjs's public kernel registry: the missing filter gradient and
 * faster compositions of the slow shipped gradient paths. Idempotent; call before the wasm backend is used.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  for (const { kernelName: name, kernelFunc } of WASM_TRAINING_KERNELS) {
    const shipped = tf.getKernel(name, 'wasm');
    if (shipped) {
      // Keep the shipped kernel reachable (the replacements call it), then replace it without the registry's
      // warning. Its setupFunc stays on the replacement: the backend runs it at init to bind the wasm export.
      originalKernel(name);
      tf.unregisterKernel(name, 'wasm');
    }
    tf.registerKernel({
      kernelName: name,
      backendName: 'wasm',
      kernelFunc: kernelFunc as unknown as tf.KernelFunc,
      setupFunc: shipped?.setupFunc,
      disposeFunc: shipped?.disposeFunc,
    });
  }
  registered = true;
}
