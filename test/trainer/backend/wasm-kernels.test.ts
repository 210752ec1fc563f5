import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from '../../../trainer/backend/wasm-kernels';
import { compareWithCpu } from './kernel-check';

// Every convolution of the project's networks: 3x3 on the 96x96x1 input, then 2x2 with 32 -> 64 and
// 64 -> 128 channels. The cpu reference kernels are plain JS loops (seconds per layer at full size), so the
// deeper layers keep their channel counts and kernel sizes on a smaller image; the kernels do not branch on
// spatial size or batch.
const CONV_LAYERS: Array<{ name: string; x: [number, number, number, number]; filter: [number, number, number, number] }> = [
  { name: 'conv1', x: [1, 96, 96, 1], filter: [3, 3, 1, 32] },
  { name: 'conv2', x: [1, 13, 11, 32], filter: [2, 2, 32, 64] },
  { name: 'conv3', x: [1, 9, 10, 64], filter: [2, 2, 64, 128] },
];
const BATCHES = [1, 3];
const PADDINGS = ['valid', 'same'] as const;
const TOLERANCE = 1e-4;

function outShape(x: number[], filter: number[], pad: 'valid' | 'same'): number[] {
  return pad === 'valid' ? [x[0], x[1] - filter[0] + 1, x[2] - filter[1] + 1, filter[3]] : [x[0], x[1], x[2], filter[3]];
}

describe('wasm training kernels agree with the cpu backend', () => {
  let seed = 1;
  for (const layer of CONV_LAYERS) {
    for (const batch of BATCHES) {
      for (const pad of PADDINGS) {
        const x = [batch, ...layer.x.slice(1)];
        test(`Conv2DBackpropFilter ${layer.name} batch ${batch} ${pad}`, async () => {
          const { relError, shape } = await compareWithCpu(
            {
              kernel: 'Conv2DBackpropFilter',
              inputs: { x: { shape: x }, dy: { shape: outShape(x, layer.filter, pad) } },
              attrs: { strides: [1, 1], pad, dataFormat: 'NHWC', filterShape: layer.filter },
            },
            seed++,
          );
          expect(shape).toEqual(layer.filter);
          expect(relError).toBeLessThan(TOLERANCE);
        });
      }
    }
  }

  test('Conv2DBackpropFilter with stride 2 (odd shapes, strided windows)', async () => {
    const { relError } = await compareWithCpu(
      {
        kernel: 'Conv2DBackpropFilter',
        inputs: { x: { shape: [2, 9, 11, 3] }, dy: { shape: [2, 4, 5, 5] } },
        attrs: { strides: [2, 2], pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, 3, 5] },
      },
      99,
    );
    expect(relError).toBeLessThan(TOLERANCE);
  });

  test('registering twice keeps one working kernel and allocates nothing beyond the output', async () => {
    registerWasmTrainingKernels();
    registerWasmTrainingKernels();
    await tf.setBackend('wasm');
    const x = tf.randomNormal([2, 10, 10, 3]);
    const dy = tf.randomNormal([2, 9, 9, 4]);
    const before = tf.memory().numTensors;
    const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
      strides: [1, 1],
      pad: 'valid',
      dataFormat: 'NHWC',
      filterShape: [2, 2, 3, 4],
    }) as tf.Tensor;
    expect(dw.shape).toEqual([2, 2, 3, 4]);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([x, dy, dw]);
  });
});
