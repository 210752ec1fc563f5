import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from '../../../trainer/backend/wasm-kernels';
import { compareWithCpu } from './kernel-check';

type Shape4 = [number, number, number, number];

// Every convolution of the project's networks: 3x3 on the 96x96x1 input, then 2x2 with 32 -> 64 and
// 64 -> 128 channels. The cpu reference kernels are plain JS loops (its Conv2DBackpropFilter takes ~10 s
// for conv1 at 96x96 here), so the layers keep their channel counts and kernel sizes on smaller images,
// and conv1 is checked once at full size; the kernels do not branch on spatial size or batch.
const CONV_LAYERS: Array<{
  name: string;
  x: Shape4;
  filter: Shape4;
}> = [
  { name: 'conv1', x: [1, 17, 14, 1], filter: [3, 3, 1, 32] },
  { name: 'conv2', x: [1, 7, 6, 32], filter: [2, 2, 32, 64] },
  { name: 'conv3', x: [1, 5, 6, 64], filter: [2, 2, 64, 128] },
];
const BATCHES = [1, 3];
const PADDINGS = ['valid', 'same'] as const;
const TOLERANCE = 1e-4;

function outShape(x: Shape4, filter: Shape4, pad: 'valid' | 'same'): Shape4 {
  return pad === 'valid'
    ? [x[0], x[1] - filter[0] + 1, x[2] - filter[1] + 1, filter[3]]
    : [x[0], x[1], x[2], filter[3]];
}

describe('wasm training kernels agree with the cpu backend', () => {
  let seed = 1;
  for (const layer of CONV_LAYERS) {
    for (const batch of BATCHES) {
      for (const pad of PADDINGS) {
        const x: Shape4 = [batch, layer.x[1], layer.x[2], layer.x[3]];
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

  // Batch 1 fits one chunk of output pixels; batch 2 sums the product over several chunks of rows.
  for (const [batch, dataSeed] of [
    [1, 97],
    [2, 96],
  ] as const) {
    test(`Conv2DBackpropFilter conv1 at full size (96x96 input), batch ${batch}`, async () => {
      const { relError } = await compareWithCpu(
        {
          kernel: 'Conv2DBackpropFilter',
          inputs: { x: { shape: [batch, 96, 96, 1] }, dy: { shape: [batch, 94, 94, 32] } },
          attrs: { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, 1, 32] },
        },
        dataSeed,
      );
      expect(relError).toBeLessThan(TOLERANCE);
    });
  }

  // The seed's batch of 128, on small images so the cpu reference stays quick.
  for (const layer of CONV_LAYERS.slice(1)) {
    test(`Conv2DBackpropFilter and Conv2DBackpropInput ${layer.name} batch 128`, async () => {
      const x: Shape4 = [128, 2, 3, layer.x[3]];
      const dyShape = outShape(x, layer.filter, 'valid');
      const filter = await compareWithCpu(
        {
          kernel: 'Conv2DBackpropFilter',
          inputs: { x: { shape: x }, dy: { shape: dyShape } },
          attrs: { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', filterShape: layer.filter },
        },
        seed++,
      );
      const input = await compareWithCpu(
        {
          kernel: 'Conv2DBackpropInput',
          inputs: { dy: { shape: dyShape }, filter: { shape: layer.filter } },
          attrs: { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', inputShape: x },
        },
        seed++,
      );
      expect(filter.relError).toBeLessThan(TOLERANCE);
      expect(input.relError).toBeLessThan(TOLERANCE);
    });
  }

  for (const layer of CONV_LAYERS.slice(1)) {
    // conv1's input gradient is never needed (it would be the gradient of the images).
    for (const batch of BATCHES) {
      for (const pad of PADDINGS) {
        const x: Shape4 = [batch, layer.x[1], layer.x[2], layer.x[3]];
        test(`Conv2DBackpropInput ${layer.name} batch ${batch} ${pad}`, async () => {
          const { relError, shape } = await compareWithCpu(
            {
              kernel: 'Conv2DBackpropInput',
              inputs: { dy: { shape: outShape(x, layer.filter, pad) }, filter: { shape: layer.filter } },
              attrs: { strides: [1, 1], pad, dataFormat: 'NHWC', inputShape: x },
            },
            seed++,
          );
          expect(shape).toEqual(x);
          expect(relError).toBeLessThan(TOLERANCE);
        });
      }
    }
  }

  test('Conv2DBackpropInput with stride 2 falls back to the shipped kernel and stays correct', async () => {
    const { relError } = await compareWithCpu(
      {
        kernel: 'Conv2DBackpropInput',
        inputs: { dy: { shape: [2, 4, 5, 5] }, filter: { shape: [3, 3, 3, 5] } },
        attrs: { strides: [2, 2], pad: 'valid', dataFormat: 'NHWC', inputShape: [2, 9, 11, 3] },
      },
      98,
    );
    expect(relError).toBeLessThan(TOLERANCE);
  });

  // Dense layers of the networks: 100 to 1000 units; the gradients use a^T b (weights) and a b^T (inputs).
  const DENSE: Array<{ name: string; batch: number; inputs: number; units: number }> = [
    { name: 'mlp hidden', batch: 3, inputs: 576, units: 100 },
    { name: 'baseline hidden', batch: 1, inputs: 968, units: 1000 },
    { name: 'baseline hidden', batch: 5, inputs: 1000, units: 1000 },
    { name: 'output', batch: 5, inputs: 1000, units: 30 },
  ];
  for (const d of DENSE) {
    for (const [transposeA, transposeB] of [
      [true, false],
      [false, true],
      [true, true],
      [false, false],
    ]) {
      test(`BatchMatMul ${d.name} batch ${d.batch} transposeA=${transposeA} transposeB=${transposeB}`, async () => {
        // dW = x^T dy is [inputs, units]; dx = dy W^T is [batch, inputs]; both-transposed covers the rest.
        const [m, k, n] = transposeA ? [d.inputs, d.batch, d.units] : [d.batch, d.units, d.inputs];
        const a = transposeA ? [k, m] : [m, k];
        const b = transposeB ? [n, k] : [k, n];
        const { relError, shape } = await compareWithCpu(
          {
            kernel: 'BatchMatMul',
            inputs: { a: { shape: [1, ...a] }, b: { shape: [1, ...b] } },
            attrs: { transposeA, transposeB },
          },
          seed++,
        );
        expect(shape).toEqual([1, m, n]);
        expect(relError).toBeLessThan(TOLERANCE);
      });
    }
  }

  // Shapes where the kernel computes (B'' A'')^T instead of A' B' because that transposes fewer values,
  // with a batch dimension of 2.
  for (const [transposeA, transposeB, a, b] of [
    [false, true, [2, 3, 40], [2, 50, 40]],
    [true, false, [2, 40, 3], [2, 40, 2]],
    [true, true, [2, 40, 3], [2, 4, 40]],
  ] as Array<[boolean, boolean, number[], number[]]>) {
    test(`BatchMatMul batch 2 transposeA=${transposeA} transposeB=${transposeB} with a small result`, async () => {
      const { relError, shape } = await compareWithCpu(
        {
          kernel: 'BatchMatMul',
          inputs: { a: { shape: a }, b: { shape: b } },
          attrs: { transposeA, transposeB },
        },
        seed++,
      );
      expect(shape).toEqual([2, transposeA ? a[2] : a[1], transposeB ? b[1] : b[2]]);
      expect(relError).toBeLessThan(TOLERANCE);
    });
  }

  // The networks' pools (2x2, stride 2, 'valid') after each convolution, on ReLU-like values with many ties
  // (zeros and small integers), where the gradient must go to the first maximum as on cpu; then odd sizes,
  // 'same' padding and overlapping windows, which take the general loop.
  const POOLS: Array<{
    name: string;
    x: number[];
    filterSize: number;
    strides: number;
    pad: 'valid' | 'same';
  }> = [
    { name: 'conv1 pool', x: [2, 94, 94, 4], filterSize: 2, strides: 2, pad: 'valid' },
    { name: 'conv2 pool', x: [3, 10, 12, 64], filterSize: 2, strides: 2, pad: 'valid' },
    { name: 'conv3 pool, batch 128', x: [128, 6, 4, 128], filterSize: 2, strides: 2, pad: 'valid' },
    { name: 'odd size', x: [2, 11, 9, 5], filterSize: 2, strides: 2, pad: 'valid' },
    { name: "'same' padding", x: [2, 11, 9, 5], filterSize: 2, strides: 2, pad: 'same' },
    { name: 'overlapping 3x3 stride 1', x: [2, 8, 7, 3], filterSize: 3, strides: 1, pad: 'valid' },
  ];
  for (const pool of POOLS) {
    test(`MaxPoolGrad ${pool.name} ${JSON.stringify(pool.x)}, ties included`, async () => {
      const info = tf.backend_util.computePool2DInfo(
        pool.x as [number, number, number, number],
        pool.filterSize,
        pool.strides,
        1,
        pool.pad,
      );
      const size = pool.x.reduce((a, b) => a * b, 1);
      const tied = Float32Array.from({ length: size }, (_, i) => Math.max(0, ((i * 7919) % 11) - 6));
      const { relError, shape } = await compareWithCpu(
        {
          kernel: 'MaxPoolGrad',
          inputs: {
            dy: { shape: info.outShape },
            input: { shape: pool.x, values: tied },
            output: { shape: info.outShape },
          },
          attrs: { filterSize: pool.filterSize, strides: pool.strides, pad: pool.pad },
        },
        seed++,
      );
      expect(shape).toEqual(pool.x);
      expect(relError).toBeLessThan(TOLERANCE);
    });
  }

  // Bias gradients sum dy over every axis but the channels; other reductions go to the shipped kernel.
  for (const [x, axis, keepDims] of [
    [[4, 30, 31, 32], [0, 1, 2], false],
    [[128, 6, 5, 128], [0, 1, 2], false],
    [[128, 1000], [0], false],
    [[3, 5, 7], [0, 1], true],
    [[3, 5, 7], [1], false],
    [[3, 5, 7], [0, 1, 2], false],
  ] as Array<[number[], number[], boolean]>) {
    test(`Sum of ${JSON.stringify(x)} over axes ${JSON.stringify(axis)}${keepDims ? ', keepDims' : ''}`, async () => {
      const { relError, shape } = await compareWithCpu(
        { kernel: 'Sum', inputs: { x: { shape: x } }, attrs: { axis, keepDims } },
        seed++,
      );
      const kept = x.map((d, i) => (axis.includes(i) ? (keepDims ? 1 : 0) : d)).filter((d) => d > 0);
      expect(shape).toEqual(kept);
      expect(relError).toBeLessThan(TOLERANCE);
    });
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
    const dw = tf.engine().runKernel(
      'Conv2DBackpropFilter',
      { x, dy },
      {
        strides: [1, 1],
        pad: 'valid',
        dataFormat: 'NHWC',
        filterShape: [2, 2, 3, 4],
      },
    ) as tf.Tensor;
    expect(dw.shape).toEqual([2, 2, 3, 4]);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([x, dy, dw]);
  });
});
