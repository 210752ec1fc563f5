import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../trainer/backend/select-backend';
import { buildNetwork, type NetworkConfig } from '../../../trainer/models/ladder';
import { attachSeedSource } from '../../../trainer/models/seeded-dropout';
import { SeedSource } from '../../../trainer/models/seed-source';
import { NesterovSgd } from '../../../trainer/train/nesterov';
import { relativeError } from './kernel-check';

// The baseline's layers at quick-preset width: every kernel of a real training step runs, in milliseconds
// on wasm (the cpu reference is the slow side).
const NETWORK: NetworkConfig = {
  network: {
    convFilters: [4, 8, 16],
    convKernels: [3, 2, 2],
    convDropout: [0.1, 0.2, 0.3],
    denseUnits: [32, 32],
    denseDropout: 0.5,
  },
  mlpHidden: 100,
  cnnHidden: 64,
};
const BATCH = 2;

/** Trains `steps` steps with the trainer's loss and optimizer on the given backend; returns the final weights. */
async function train(backend: 'cpu' | 'wasm', steps: number, onStep?: () => void): Promise<Float32Array[]> {
  await selectBackend({ backend, requireGpu: false, log: () => undefined });
  const seeds = new SeedSource(3);
  const model = buildNetwork('baseline', 30, NETWORK, seeds);
  attachSeedSource(model, seeds);
  const optimizer = new NesterovSgd(0.05, 0.9);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const data = new SeedSource(4);
  for (let i = 0; i < steps; i++) {
    const images = Float32Array.from({ length: BATCH * 96 * 96 }, () => data.next());
    const targets = Float32Array.from({ length: BATCH * 30 }, () => data.next() * 2 - 1);
    const cost = tf.tidy(() => {
      const x = tf.tensor4d(images, [BATCH, 96, 96, 1]);
      const y = tf.tensor2d(targets, [BATCH, 30]);
      const lossFn = () =>
        tf.mean(tf.squaredDifference(model.apply(x, { training: true }) as tf.Tensor, y)) as tf.Scalar;
      return optimizer.optimizer.minimize(lossFn, true, variables) as tf.Scalar;
    });
    cost.dispose();
    onStep?.();
  }
  const weights = variables.map((v) => v.dataSync() as Float32Array);
  optimizer.dispose();
  model.dispose();
  return weights;
}

describe('training on wasm with the project kernels', () => {
  test('gives the same weights as the cpu backend after two steps (dropout included)', async () => {
    const cpu = await train('cpu', 2);
    const wasm = await train('wasm', 2);
    expect(wasm).toHaveLength(cpu.length);
    // Same seeds give the same dropout masks on both backends; only float summation order differs.
    wasm.forEach((w, i) => {
      expect(relativeError(w, cpu[i]!)).toBeLessThan(1e-4);
    });
  });

  test('keeps the tensor count flat from step to step', async () => {
    const counts: number[] = [];
    await train('wasm', 4, () => counts.push(tf.memory().numTensors));
    expect(counts[3]).toBe(counts[1]);
    expect(counts[2]).toBe(counts[1]);
  });
});
