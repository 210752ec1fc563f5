import * as tf from '@tensorflow/tfjs';
import { BackendUnavailableError, gpuNameOf, selectBackend } from '../../../trainer/backend/select-backend';

// The native packages (@tensorflow/tfjs-node, -gpu) are optional and not installed on CI machines; these
// tests assert what a user sees there. On a machine where they load, the GPU tests do not apply.
function nativeInstalled(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}
const gpuPackageMissing = !nativeInstalled('@tensorflow/tfjs-node-gpu');

describe('selectBackend', () => {
  test('forcing cpu makes cpu the active tfjs backend and logs it', async () => {
    const lines: string[] = [];
    const selected = await selectBackend({ backend: 'cpu', requireGpu: false, log: (l) => lines.push(l) });
    expect(selected).toEqual({ name: 'cpu', gpuName: null, threads: 1 });
    expect(tf.getBackend()).toBe('cpu');
    expect(lines).toContain('backend: cpu (@tensorflow/tfjs, 1 thread)');
  });

  test('forcing wasm loads the bundled binary and can train a convolution', async () => {
    const selected = await selectBackend({ backend: 'wasm', requireGpu: false, log: () => undefined });
    expect(selected.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    // Conv2DBackpropFilter is missing from the shipped wasm kernels; a gradient through conv2d needs it.
    const grad = tf.grad((w: tf.Tensor) =>
      tf.conv2d(tf.ones([1, 4, 4, 1]) as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid').sum(),
    );
    const g = grad(tf.ones([2, 2, 1, 1]));
    expect(Array.from(g.dataSync())).toEqual([9, 9, 9, 9]);
    g.dispose();
  });

  (gpuPackageMissing ? test : test.skip)('forcing tensorflow-gpu names the missing package', async () => {
    await expect(
      selectBackend({ backend: 'tensorflow-gpu', requireGpu: false, log: () => undefined }),
    ).rejects.toThrow(
      /--backend tensorflow-gpu cannot be used here \(tensorflow-gpu: @tensorflow\/tfjs-node-gpu is not installed/,
    );
  });

  (gpuPackageMissing ? test : test.skip)(
    '--require-gpu fails at once, naming what was tried and why',
    async () => {
      const lines: string[] = [];
      const attempt = selectBackend({ requireGpu: true, log: (l) => lines.push(l) });
      await expect(attempt).rejects.toThrow(BackendUnavailableError);
      await expect(attempt).rejects.toThrow(
        /^--require-gpu: no GPU backend works \(tried tensorflow-gpu: @tensorflow\/tfjs-node-gpu is not installed/,
      );
      // It must not have fallen back to a CPU backend on the way.
      expect(lines.some((l) => /^backend: (wasm|cpu) /.test(l))).toBe(false);
    },
  );

  test('--require-gpu with a forced CPU backend is a usage error', async () => {
    await expect(selectBackend({ backend: 'wasm', requireGpu: true, log: () => undefined })).rejects.toThrow(
      '--require-gpu: expected a GPU backend (tensorflow-gpu), but --backend wasm was forced',
    );
  });

  test('without a forced backend the best one that loads here is chosen, skipping missing packages', async () => {
    const lines: string[] = [];
    const selected = await selectBackend({ requireGpu: false, log: (l) => lines.push(l) });
    expect(tf.getBackend()).toBe(selected.name === 'tensorflow-gpu' ? 'tensorflow' : selected.name);
    if (gpuPackageMissing && !nativeInstalled('@tensorflow/tfjs-node')) {
      expect(selected.name).toBe('wasm');
      expect(lines[0]).toMatch(
        /^backend: skipping tensorflow-gpu: @tensorflow\/tfjs-node-gpu is not installed/,
      );
      expect(lines[1]).toMatch(/^backend: skipping tensorflow: @tensorflow\/tfjs-node is not installed/);
    }
  });
});

describe('gpuNameOf', () => {
  test('trusts TensorFlow, not nvidia-smi: a backend on the CPU has no GPU even when the driver sees one', () => {
    expect(gpuNameOf({ isUsingGpuDevice: false }, 'Tesla T4')).toBeNull();
    expect(gpuNameOf({}, 'Tesla T4')).toBeNull();
    expect(gpuNameOf(null, 'Tesla T4')).toBeNull();
  });

  test('names the GPU TensorFlow uses, from nvidia-smi when it answers', () => {
    expect(gpuNameOf({ isUsingGpuDevice: true }, 'Tesla T4')).toBe('Tesla T4');
    expect(gpuNameOf({ isUsingGpuDevice: true }, null)).toBe(
      'GPU (name unknown: nvidia-smi is not available)',
    );
  });
});
