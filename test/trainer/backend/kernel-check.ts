import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../trainer/backend/select-backend';

/**
 * Runs the same kernel call on the cpu backend (the reference) and on wasm (with the project's kernels) and
 * returns the relative L2 error of the wasm result. Inputs are generated once, on cpu, from a fixed seed.
 */
export interface KernelCase {
  kernel: string;
  inputs: Record<string, { shape: number[]; values?: Float32Array }>;
  attrs: Record<string, unknown>;
}

const quiet = (): void => undefined;

export async function compareWithCpu(
  c: KernelCase,
  seed: number,
): Promise<{ relError: number; shape: number[] }> {
  await selectBackend({ backend: 'cpu', requireGpu: false, log: quiet });
  const values = Object.fromEntries(
    Object.entries(c.inputs).map(([name, spec], k) => [
      name,
      spec.values ??
        (tf.tidy(() => tf.randomNormal(spec.shape, 0, 1, 'float32', seed + k)).dataSync() as Float32Array),
    ]),
  );
  const reference = runOn(c, values);
  await selectBackend({ backend: 'wasm', requireGpu: false, log: quiet });
  const actual = runOn(c, values);
  if (actual.shape.join() !== reference.shape.join()) {
    throw new Error(
      `${c.kernel}: expected shape [${reference.shape}] as on cpu, found [${actual.shape}] on wasm`,
    );
  }
  return { relError: relativeError(actual.values, reference.values), shape: actual.shape };
}

function runOn(
  c: KernelCase,
  values: Record<string, Float32Array>,
): { values: Float32Array; shape: number[] } {
  const inputs = Object.fromEntries(
    Object.entries(c.inputs).map(([name, spec]) => [name, tf.tensor(values[name] ?? [], spec.shape)]),
  );
  const out = tf.engine().runKernel(c.kernel, inputs, c.attrs as tf.NamedAttrMap) as tf.Tensor;
  const result = { values: out.dataSync() as Float32Array, shape: out.shape };
  out.dispose();
  tf.dispose(Object.values(inputs));
  return result;
}

export function relativeError(actual: Float32Array, expected: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    diff += ((actual[i] ?? Number.NaN) - e) ** 2;
    norm += e ** 2;
  }
  return norm === 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
}
