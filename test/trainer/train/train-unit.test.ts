import * as tf from '@tensorflow/tfjs';
import { buildNetwork, type NetworkKind } from '../../../trainer/models/ladder';
import { SeedSource } from '../../../trainer/models/seed-source';
import type { EpochMetrics } from '../../../trainer/train/metrics';
import { trainUnit, type TrainUnitOptions, type TrainUnitResult } from '../../../trainer/train/train-unit';
import { predictTargets } from '../../../trainer/train/evaluate';
import { flipSpec } from '../../../trainer/data/flip';
import { MemoryCheckpointer, TINY_NETWORK, blobRows, schedule, useTrainingBackend } from './helpers';

const train = blobRows(96, 1);
const dev = blobRows(32, 2);
const flip = flipSpec(['blob_x', 'blob_y'], []);

function options(
  over: Partial<TrainUnitOptions> & { kind?: NetworkKind; initSeed?: number } = {},
): TrainUnitOptions {
  const { kind = 'baseline', initSeed = 1, ...rest } = over;
  return {
    unit: 'baseline',
    model: buildNetwork(kind, 2, TINY_NETWORK, new SeedSource(initSeed)),
    schedule: schedule(4),
    batchSize: 32,
    flip,
    train,
    dev,
    seed: 11,
    checkpointer: new MemoryCheckpointer(),
    checkpointEveryEpochs: 1,
    checkpointEveryMinutes: 60,
    ...rest,
  };
}

/**
 * Train and dev labels that disagree: the output moves from ~48 px through the dev position (52 px) on its
 * way to the train position (86 px), so dev loss falls, then rises.
 */
const constantLabels = (rows: { pixels: Uint8Array; count: number }, px: number) => ({
  ...rows,
  labelsPx: new Float32Array(rows.count * 2).fill(px),
});
/** An mlp on those labels at a constant learning rate and momentum: its dev loss falls, then rises. */
const overshooting = (maxEpochs: number, patience: number) =>
  options({
    kind: 'mlp',
    flip: null,
    train: constantLabels(train, 86),
    dev: constantLabels(dev, 52),
    schedule: {
      maxEpochs,
      patience,
      learningRateStart: 0.02,
      learningRateEnd: 0.02,
      momentumStart: 0.5,
      momentumEnd: 0.5,
      optimizer: 'nesterov',
    },
  });
const weights = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
/** Everything of the history but wall-clock figures, which differ between any two runs. */
const figures = (h: EpochMetrics[]) => h.map(({ seconds: _s, imagesPerSecond: _i, ...rest }) => rest);

/**
 * `straight` trained through (or its given result), then the same unit interrupted after `atBatch` batches
 * and resumed in a new process (other initial weights): the same history and weights, and no tensor left
 * behind by either. Returns the uninterrupted result; the caller disposes `straight.model`.
 */
async function expectResumesAfterInterrupt(
  straight: TrainUnitOptions,
  atBatch: number,
  given?: TrainUnitResult,
): Promise<TrainUnitResult> {
  const reference = given ?? (await trainUnit(straight));
  const before = tf.memory().numTensors;
  const abort = new AbortController();
  const store = new MemoryCheckpointer();
  let batches = 0;
  const interrupted = {
    ...straight,
    model: buildNetwork('baseline', 2, TINY_NETWORK, new SeedSource(1)),
    checkpointer: store,
    signal: abort.signal,
    onBatch: () => {
      if (++batches === atBatch) abort.abort();
    },
  };
  expect((await trainUnit(interrupted)).interrupted).toBe(true);
  const again = {
    ...straight,
    model: buildNetwork('baseline', 2, TINY_NETWORK, new SeedSource(5)),
    checkpointer: store,
  };
  const finished = await trainUnit(again);
  expect(finished.resumedFromEpoch).toBe(2);
  expect(figures(finished.history)).toEqual(figures(reference.history));
  expect(weights(again.model)).toEqual(weights(straight.model));
  for (const m of [interrupted.model, again.model]) m.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return reference;
}

/** Two gradient workers: resumes bit for bit after an interrupt (see expectResumesAfterInterrupt). */
async function expectTwoWorkerResume(
  make: (over: Partial<TrainUnitOptions> & { initSeed?: number }) => TrainUnitOptions,
): Promise<void> {
  const before = tf.memory().numTensors;
  const straight = make({ workers: 2, backend: 'wasm' as const, batchSize: 16 });
  await expectResumesAfterInterrupt(straight, 15);
  straight.model.dispose();
  expect(tf.memory().numTensors).toBe(before);
}

describe('trainUnit', () => {
  beforeAll(useTrainingBackend);

  it('resumes bit for bit after a crash at an epoch checkpoint and after an interrupt inside an epoch', async () => {
    const straight = options();
    const reference = await trainUnit(straight);
    expect(reference.history).toHaveLength(4);
    expect(reference.resumedFromEpoch).toBeNull();
    const saved = (straight.checkpointer as MemoryCheckpointer).saved;

    // Crash after the second epoch's checkpoint: a new process rebuilds the network (other initial weights) and resumes.
    const crashed = options({
      checkpointer: (straight.checkpointer as MemoryCheckpointer).upTo(2),
      initSeed: 99,
    });
    const resumed = await trainUnit(crashed);
    expect(resumed.resumedFromEpoch).toBe(2);
    expect(figures(resumed.history)).toEqual(figures(reference.history));
    expect(weights(crashed.model)).toEqual(weights(straight.model));
    expect(resumed.bestEpoch).toBe(reference.bestEpoch);

    // SIGTERM in the middle of epoch 3: checkpoint after the current batch, return, resume in a new process.
    const abort = new AbortController();
    const store = new MemoryCheckpointer();
    let batches = 0;
    const first = options({
      checkpointer: store,
      signal: abort.signal,
      onBatch: () => {
        if (++batches === 8) abort.abort();
      },
    });
    const stopped = await trainUnit(first);
    expect(stopped.interrupted).toBe(true);
    expect(stopped.history).toHaveLength(2);
    const again = options({ checkpointer: store, initSeed: 5 });
    const finished = await trainUnit(again);
    expect(finished.resumedFromEpoch).toBe(2);
    expect(finished.interrupted).toBe(false);
    expect(figures(finished.history)).toEqual(figures(reference.history));
    expect(weights(again.model)).toEqual(weights(straight.model));

    // A finished unit is not trained again: its final checkpoint restores the best weights at once.
    const rerun = options({ checkpointer: new MemoryCheckpointer().upTo(0), initSeed: 7 });
    (rerun.checkpointer as MemoryCheckpointer).saved.push(...saved);
    const repeated = await trainUnit({
      ...rerun,
      onBatch: () => {
        throw new Error('trained again');
      },
    });
    expect(figures(repeated.history)).toEqual(figures(reference.history));
    expect(weights(rerun.model)).toEqual(weights(straight.model));
  });

  it('with shifted images: resumes bit for bit after an interrupt, from batches the shifts changed', async () => {
    const plain = options();
    const unshifted = await trainUnit(plain);
    const straight = options({ shift: 1 });
    const reference = await expectResumesAfterInterrupt(straight, 8);
    expect(figures(reference.history)).not.toEqual(figures(unshifted.history));
    for (const m of [plain.model, straight.model]) m.dispose();
  });

  it('with two gradient workers: resumes bit for bit after an interrupt, learns, and leaves no tensor behind', async () => {
    const before = tf.memory().numTensors;
    const two = { workers: 2, backend: 'wasm' as const };
    const straight = options({
      ...two,
      train: blobRows(128, 3),
      dev: blobRows(64, 4),
      batchSize: 16,
      schedule: { ...schedule(4), learningRateStart: 0.1, learningRateEnd: 0.02 },
    });
    const reference = await expectResumesAfterInterrupt(straight, 19);
    expect(reference.bestDevRmsePx).toBeLessThan(reference.history[0]!.devRmsePx * 0.6);
    straight.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('checkpoints at every new best, every N epochs, and once finished', async () => {
    const o = { ...overshooting(9, 9), checkpointEveryEpochs: 3 };
    const stamps: Date[] = [];
    const r = await trainUnit({ ...o, onCheckpoint: (at) => stamps.push(at) });
    const saved = (o.checkpointer as MemoryCheckpointer).saved;
    const states = saved.map((c) => JSON.parse(new TextDecoder().decode(c.files['state.json'])));
    // The rule, written out: a new best, or 3 epochs since the last checkpoint; the last epoch finishes instead.
    const expected: number[] = [];
    let best = Infinity;
    let since = 0;
    for (const m of r.history.slice(0, -1)) {
      since++;
      if (m.devLoss < best || since >= 3) {
        expected.push(m.epoch);
        since = 0;
      }
      best = Math.min(best, m.devLoss);
    }
    expect(r.bestEpoch).toBeLessThan(6);
    expect(states.slice(0, -1).map((st) => st.epochIndex)).toEqual(expected);
    expect(states.at(-1).finished).toBe(true);
    expect(stamps).toHaveLength(saved.length);
    // Right after a new best the weights are the best ones and best.bin is left out; later it is kept.
    for (let i = 0; i < states.length - 1; i++) {
      const atBest = states[i].best.epoch === states[i].epochIndex;
      expect(states[i].bestIsCurrent).toBe(atBest);
      expect('best.bin' in saved[i]!.files).toBe(!atBest);
    }
  });

  it('stops after `patience` epochs without improvement and restores the best weights', async () => {
    const o = overshooting(40, 3);
    const r = await trainUnit(o);
    expect(r.stoppedEarly).toBe(true);
    expect(r.history.length).toBe(r.bestEpoch + 3);
    expect(r.history.length).toBeLessThan(40);
    const best = r.history[r.bestEpoch - 1]!;
    expect(Math.min(...r.history.map((m) => m.devLoss))).toBe(best.devLoss);
    expect(r.bestDevRmsePx).toBeCloseTo(best.devRmsePx, 10);
    // The model holds the best epoch's weights, not the last ones.
    const pred = predictTargets(o.model, dev.pixels, dev.count, 32);
    const mse = pred.reduce((s, p) => s + (p - (52 - 48) / 48) ** 2, 0) / pred.length;
    expect(mse).toBeCloseTo(best.devLoss, 6);
    expect(mse).toBeLessThan(r.history.at(-1)!.devLoss);
  });

  it('leaves no tensor behind, per epoch and overall', async () => {
    const counts: number[] = [];
    const before = tf.memory().numTensors;
    const o = options({
      schedule: schedule(3),
      onEpoch: () => {
        counts.push(tf.memory().numTensors);
      },
    });
    const modelTensors = tf.memory().numTensors - before;
    await trainUnit(o);
    expect(new Set(counts).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before + modelTensors);
    o.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('learns: dev RMSE falls well below where it started', async () => {
    const o = options({
      train: blobRows(128, 3),
      dev: blobRows(64, 4),
      batchSize: 16,
      schedule: {
        maxEpochs: 6,
        patience: 6,
        learningRateStart: 0.1,
        learningRateEnd: 0.02,
        momentumStart: 0.9,
        momentumEnd: 0.9,
        optimizer: 'nesterov',
      },
    });
    const r = await trainUnit(o);
    expect(r.bestDevRmsePx).toBeLessThan(r.history[0]!.devRmsePx * 0.5);
  });

  it('lets timers and I/O run between batches, so uploads and the status heartbeat keep going', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const ticksAtBatch: number[] = [];
    try {
      await trainUnit(
        options({ schedule: schedule(1), batchSize: 8, onBatch: () => ticksAtBatch.push(ticks) }),
      );
    } finally {
      clearInterval(timer);
    }
    // 96 rows in batches of 8: a timer that only ran between epochs would read the same count at every batch.
    expect(ticksAtBatch).toHaveLength(12);
    expect(ticksAtBatch[11]).toBeGreaterThanOrEqual(ticksAtBatch[0]! + 10);
  });

  it('refuses inconsistent rows, naming what and where', async () => {
    const labels = Float32Array.from(train.labelsPx);
    labels[7] = NaN;
    await expect(trainUnit(options({ train: { ...train, labelsPx: labels } }))).rejects.toThrow(
      'trainUnit "baseline": train.labelsPx: expected every label present, found NaN at row 3 column 1',
    );
    await expect(trainUnit(options({ dev: { ...dev, count: 31 } }))).rejects.toThrow(
      'dev.pixels: expected 31 x 9216 bytes, found 294912',
    );
  });

  describe('with Adam', () => {
    const adam = (over: Partial<TrainUnitOptions> & { initSeed?: number } = {}) =>
      options({ schedule: schedule(4, 4, 'adam'), ...over });

    it('learns, and resumes bit for bit after a crash at an epoch checkpoint and after an interrupt', async () => {
      const before = tf.memory().numTensors;
      const straight = adam({
        train: blobRows(128, 3),
        dev: blobRows(64, 4),
        batchSize: 16,
        schedule: { ...schedule(4, 4, 'adam'), learningRateStart: 0.003, learningRateEnd: 0.001 },
      });
      const reference = await trainUnit(straight);
      expect(reference.history).toHaveLength(4);
      expect(reference.bestDevRmsePx).toBeLessThan(reference.history[0]!.devRmsePx * 0.6);

      const crashed = {
        ...straight,
        model: buildNetwork('baseline', 2, TINY_NETWORK, new SeedSource(99)),
        checkpointer: (straight.checkpointer as MemoryCheckpointer).upTo(2),
      };
      const resumed = await trainUnit(crashed);
      expect(resumed.resumedFromEpoch).toBe(2);
      expect(figures(resumed.history)).toEqual(figures(reference.history));
      expect(weights(crashed.model)).toEqual(weights(straight.model));

      await expectResumesAfterInterrupt(straight, 19, reference);
      for (const m of [straight.model, crashed.model]) m.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });

    it('with two gradient workers: resumes bit for bit after an interrupt and leaves no tensor behind', async () => {
      await expectTwoWorkerResume(adam);
    });
  });
});

/** `rows` with some labels missing (NaN): every third row lacks x, every fifth y; rows lacking both keep y. */
function withGaps(rows: { pixels: Uint8Array; labelsPx: Float32Array; count: number }) {
  const labelsPx = Float32Array.from(rows.labelsPx);
  for (let r = 0; r < rows.count; r++) {
    if (r % 3 === 0) labelsPx[r * 2] = Number.NaN;
    if (r % 5 === 0 && r % 3 !== 0) labelsPx[r * 2 + 1] = Number.NaN;
  }
  return { ...rows, labelsPx };
}
const present = (labels: Float32Array) => labels.filter((v) => !Number.isNaN(v)).length;

describe('trainUnit with missing: mask', () => {
  beforeAll(useTrainingBackend);
  const gappyTrain = withGaps(train);
  const gappyDev = withGaps(dev);
  const masked = (over: Partial<TrainUnitOptions> & { initSeed?: number } = {}) =>
    options({ missing: 'mask', train: gappyTrain, dev: gappyDev, ...over });

  it('learns from rows with missing labels; the dev loss covers the present labels and counts them', async () => {
    const o = masked({
      schedule: { ...schedule(4), learningRateStart: 0.1, learningRateEnd: 0.02 },
      batchSize: 16,
      train: withGaps(blobRows(128, 3)),
    });
    const r = await trainUnit(o);
    for (const m of r.history) {
      expect(m.devTargets).toBe(present(gappyDev.labelsPx));
      expect(Number.isFinite(m.devLoss)).toBe(true);
    }
    expect(r.bestDevRmsePx).toBeLessThan(r.history[0]!.devRmsePx * 0.6);
    o.model.dispose();
  });

  it('resumes bit for bit after a crash at an epoch checkpoint and after an interrupt inside an epoch', async () => {
    const straight = masked();
    const reference = await trainUnit(straight);
    expect(reference.history).toHaveLength(4);

    const crashed = masked({
      checkpointer: (straight.checkpointer as MemoryCheckpointer).upTo(2),
      initSeed: 99,
    });
    const resumed = await trainUnit(crashed);
    expect(resumed.resumedFromEpoch).toBe(2);
    expect(figures(resumed.history)).toEqual(figures(reference.history));
    expect(weights(crashed.model)).toEqual(weights(straight.model));

    const abort = new AbortController();
    const store = new MemoryCheckpointer();
    let batches = 0;
    const stopped = await trainUnit(
      masked({
        checkpointer: store,
        signal: abort.signal,
        onBatch: () => {
          if (++batches === 8) abort.abort();
        },
      }),
    );
    expect(stopped.interrupted).toBe(true);
    const again = masked({ checkpointer: store, initSeed: 5 });
    const finished = await trainUnit(again);
    expect(finished.resumedFromEpoch).toBe(2);
    expect(figures(finished.history)).toEqual(figures(reference.history));
    expect(weights(again.model)).toEqual(weights(straight.model));
  });

  it('with two gradient workers: resumes bit for bit after an interrupt and leaves no tensor behind', async () => {
    await expectTwoWorkerResume(masked);
  });

  it('refuses a row without any label and an infinite label, naming where', async () => {
    const none = Float32Array.from(gappyTrain.labelsPx);
    none[4] = Number.NaN;
    none[5] = Number.NaN;
    await expect(trainUnit(masked({ train: { ...gappyTrain, labelsPx: none } }))).rejects.toThrow(
      'trainUnit "baseline": train.labelsPx: expected at least one label present in every row (missing: mask), found none in row 2',
    );
    const infinite = Float32Array.from(gappyDev.labelsPx);
    infinite[3] = Number.POSITIVE_INFINITY;
    await expect(trainUnit(masked({ dev: { ...gappyDev, labelsPx: infinite } }))).rejects.toThrow(
      'trainUnit "baseline": dev.labelsPx: expected finite labels or NaN (missing), found Infinity at row 1 column 1',
    );
  });
});
