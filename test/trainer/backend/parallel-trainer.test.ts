import * as tf from '@tensorflow/tfjs';
import { ParallelTrainer } from '../../../trainer/backend/parallel-trainer';
import { selectBackend } from '../../../trainer/backend/select-backend';
import { buildNetwork, type NetworkConfig } from '../../../trainer/models/ladder';
import { SeedSource } from '../../../trainer/models/seed-source';
import { squaredErrorLoss } from '../../../trainer/train/masked-loss';
import { Adam } from '../../../trainer/train/adam';
import { NesterovSgd } from '../../../trainer/train/nesterov';
import type { OptimizerName } from '../../../trainer/config';
import { relativeError } from './kernel-check';

// The baseline's layer structure at quick-preset width, so each step takes milliseconds.
function smallNetwork(dropout: boolean): NetworkConfig {
  const d = dropout ? 0.2 : 0;
  return {
    network: {
      convFilters: [4, 8, 16],
      convKernels: [3, 2, 2],
      convDropout: [d, d, d],
      denseUnits: [32, 32],
      denseDropout: d,
    },
    mlpHidden: 100,
    cnnHidden: 64,
  };
}

const BATCH = 6;
const OUTPUTS = 30;

function batchData(step: number): { images: Float32Array; targets: Float32Array } {
  const rng = new SeedSource(1000 + step);
  const images = Float32Array.from({ length: BATCH * 96 * 96 }, () => rng.next());
  const targets = Float32Array.from({ length: BATCH * OUTPUTS }, () => rng.next() * 2 - 1);
  return { images, targets };
}

const SCHEDULE: ReadonlyArray<{ learningRate: number; momentum: number; seed: number }> = [
  { learningRate: 0.05, momentum: 0.9, seed: 11 },
  { learningRate: 0.04, momentum: 0.92, seed: 12 },
  { learningRate: 0.03, momentum: 0.95, seed: 13 },
];

async function modelAndWeights(
  dropout: boolean,
): Promise<{ model: tf.LayersModel; weights: Float32Array[]; shapes: number[][] }> {
  await selectBackend({ backend: 'wasm', requireGpu: false, log: () => undefined });
  const model = buildNetwork('baseline', OUTPUTS, smallNetwork(dropout), new SeedSource(5));
  const weights = model.trainableWeights.map((w) => w.read().dataSync() as Float32Array);
  return { model, weights, shapes: model.trainableWeights.map((w) => w.shape as number[]) };
}

/**
 * A mask for step `step`'s batch: row 0 keeps every target, the others lose a varying share (row 5 all of
 * them); missing targets hold `fill` ('garbage': large values that must not matter).
 */
function maskedBatch(
  step: number,
  fill: 'zero' | 'garbage',
): { images: Float32Array; targets: Float32Array; mask: Float32Array } {
  const { images, targets } = batchData(step);
  const mask = Float32Array.from({ length: BATCH * OUTPUTS }, (_, i) => {
    const row = Math.floor(i / OUTPUTS);
    return row === 5 || (row > 0 && (i + step) % (row + 1) === 0) ? 0 : 1;
  });
  for (let i = 0; i < mask.length; i++) if (!mask[i]) targets[i] = fill === 'zero' ? 0 : 1e4 * (i + 1);
  return { images, targets, mask };
}

type Batch = (step: number) => { images: Float32Array; targets: Float32Array; mask?: Float32Array };
type Schedule = ReadonlyArray<{ learningRate: number; momentum: number; seed: number }>;

async function trainParallel(
  workers: number,
  dropout: boolean,
  {
    steps = SCHEDULE.length,
    batch = batchData,
    optimizer = 'nesterov',
    schedule = SCHEDULE,
  }: { steps?: number; batch?: Batch; optimizer?: OptimizerName; schedule?: Schedule } = {},
): Promise<{ weights: Float32Array[]; losses: number[]; tensors: number[][] }> {
  const { model, weights, shapes } = await modelAndWeights(dropout);
  const trainer = await ParallelTrainer.create({
    modelTopology: model.toJSON(null, false) as object,
    weightShapes: shapes,
    initialWeights: weights,
    workers,
    shards: 2,
    optimizer,
  });
  model.dispose();
  try {
    const losses: number[] = [];
    const tensors: number[][] = [];
    for (let i = 0; i < steps; i++) {
      losses.push(await trainer.step({ ...batch(i), count: BATCH, ...schedule[i % schedule.length]! }));
      tensors.push(trainer.workerTensorCounts);
    }
    return { weights: trainer.getWeights(), losses, tensors };
  } finally {
    await trainer.dispose();
  }
}

/**
 * Trains the same network (no dropout) in this thread with `optimizer` on the same batches and schedule,
 * and expects the parallel run's losses (5 decimals) and weights (1e-4 relative) to match.
 */
async function expectSameAsInThread(
  parallel: { weights: Float32Array[]; losses: number[] },
  optimizer: NesterovSgd | Adam,
  batch: Batch,
  schedule: Schedule,
): Promise<void> {
  const { model } = await modelAndWeights(false);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  schedule.forEach((s, i) => {
    optimizer.setLearningRate(s.learningRate);
    if (optimizer instanceof NesterovSgd) optimizer.setMomentum(s.momentum);
    const { images, targets, mask } = batch(i);
    const cost = tf.tidy(() => {
      const x = tf.tensor4d(images, [BATCH, 96, 96, 1]);
      const y = tf.tensor2d(targets, [BATCH, OUTPUTS]);
      const m = mask ? tf.tensor2d(mask, [BATCH, OUTPUTS]) : null;
      return optimizer.minimize(
        () => squaredErrorLoss(model.apply(x, { training: true }) as tf.Tensor, y, m),
        variables,
      );
    });
    expect(parallel.losses[i]).toBeCloseTo(cost.arraySync(), 5);
    cost.dispose();
  });
  model.trainableWeights.forEach((w, i) => {
    expect(relativeError(parallel.weights[i]!, w.read().dataSync() as Float32Array)).toBeLessThan(1e-4);
  });
  optimizer.dispose();
  model.dispose();
}

describe('ParallelTrainer', () => {
  test('two workers give the same weights as one, dropout included', async () => {
    const one = await trainParallel(1, true);
    const two = await trainParallel(2, true);
    expect(two.losses).toEqual(one.losses);
    two.weights.forEach((w, i) => {
      expect(relativeError(w, one.weights[i]!)).toBeLessThan(1e-6);
    });
  });

  test('matches single-threaded tfjs training (tf.train.momentum, Nesterov) without dropout', async () => {
    const parallel = await trainParallel(2, false);
    const first = SCHEDULE[0]!;
    await expectSameAsInThread(
      parallel,
      new NesterovSgd(first.learningRate, first.momentum),
      batchData,
      SCHEDULE,
    );
  });

  test('with a mask: matches single-threaded masked training, and missing targets change nothing', async () => {
    const garbage = await trainParallel(2, false, { batch: (i) => maskedBatch(i, 'garbage') });
    const zeros = await trainParallel(1, false, { batch: (i) => maskedBatch(i, 'zero') });
    expect(garbage.losses).toEqual(zeros.losses);
    garbage.weights.forEach((w, i) => {
      expect(relativeError(w, zeros.weights[i]!)).toBeLessThan(1e-6);
    });
    const first = SCHEDULE[0]!;
    await expectSameAsInThread(
      garbage,
      new NesterovSgd(first.learningRate, first.momentum),
      (i) => maskedBatch(i, 'zero'),
      SCHEDULE,
    );
  });

  test('weights and optimizer state restore into a new trainer and continue exactly', async () => {
    const straight = await trainParallel(2, true, { steps: 2 });
    const { model, weights, shapes } = await modelAndWeights(true);
    const topology = model.toJSON(null, false) as object;
    model.dispose();
    const first = await ParallelTrainer.create({
      modelTopology: topology,
      weightShapes: shapes,
      initialWeights: weights,
      workers: 2,
    });
    await first.step({ ...batchData(0), count: BATCH, ...SCHEDULE[0]! });
    const saved = { weights: first.getWeights(), optimizer: first.getOptimizerState() };
    await first.dispose();
    expect(saved.optimizer.iterations).toBe(1);
    const resumed = await ParallelTrainer.create({
      modelTopology: topology,
      weightShapes: shapes,
      initialWeights: saved.weights,
      workers: 1,
    });
    resumed.setOptimizerState(saved.optimizer);
    await resumed.step({ ...batchData(1), count: BATCH, ...SCHEDULE[1]! });
    const after = resumed.getWeights();
    await resumed.dispose();
    after.forEach((w, i) => {
      expect(relativeError(w, straight.weights[i]!)).toBeLessThan(1e-6);
    });
  });

  test('with Adam: matches single-threaded Adam, and restores into a new trainer exactly', async () => {
    // Adam's steps are about the learning rate whatever the gradient, so smaller rates than Nesterov's.
    const rates = SCHEDULE.map((s) => ({ ...s, learningRate: s.learningRate / 50 }));
    const { model, weights, shapes } = await modelAndWeights(false);
    const topology = model.toJSON(null, false) as object;
    const make = (initialWeights: Float32Array[], workers: number) =>
      ParallelTrainer.create({
        modelTopology: topology,
        weightShapes: shapes,
        initialWeights,
        workers,
        optimizer: 'adam',
      });
    model.dispose();
    const parallel = await trainParallel(2, false, { optimizer: 'adam', schedule: rates });
    await expectSameAsInThread(parallel, new Adam(rates[0]!.learningRate), batchData, rates);

    // Two steps straight, or one, saved, restored into a one-worker trainer, and one more: the same weights.
    const straight = await make(weights, 2);
    for (let i = 0; i < 2; i++) await straight.step({ ...batchData(i), count: BATCH, ...rates[i]! });
    const first = await make(weights, 2);
    await first.step({ ...batchData(0), count: BATCH, ...rates[0]! });
    const saved = { weights: first.getWeights(), optimizer: first.getOptimizerState() };
    expect(saved.optimizer.accumulators).toHaveLength(2 * shapes.length);
    const resumed = await make(saved.weights, 1);
    resumed.setOptimizerState(saved.optimizer);
    await resumed.step({ ...batchData(1), count: BATCH, ...rates[1]! });
    const expected = straight.getWeights();
    resumed.getWeights().forEach((w, i) => {
      expect(Array.from(w)).toEqual(Array.from(expected[i]!));
    });
    expect(() =>
      resumed.setOptimizerState({
        ...saved.optimizer,
        accumulators: saved.optimizer.accumulators.slice(shapes.length),
      }),
    ).toThrow(
      `ParallelTrainer.setOptimizerState: expected ${2 * shapes.length} arrays (Adam's first and second moments), found ${shapes.length}`,
    );
    await Promise.all([straight, first, resumed].map((t) => t.dispose()));
  });

  test('no tensor leaks in the workers from step to step', async () => {
    const { tensors } = await trainParallel(2, true, { steps: 4 });
    expect(tensors[3]).toEqual(tensors[1]);
  });

  test('rejects weights that do not fit the network', async () => {
    const { model, weights, shapes } = await modelAndWeights(false);
    const topology = model.toJSON(null, false) as object;
    model.dispose();
    const trainer = await ParallelTrainer.create({
      modelTopology: topology,
      weightShapes: shapes,
      initialWeights: weights,
      workers: 1,
    });
    try {
      expect(() => trainer.setWeights(weights.slice(1))).toThrow(
        `ParallelTrainer.setWeights: expected ${shapes.length} arrays, found ${shapes.length - 1}`,
      );
    } finally {
      await trainer.dispose();
    }
  });
});
