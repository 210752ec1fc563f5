import type * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../config';
import { PIXELS, TARGET_SCALE } from '../keypoints';
import { SeedSource } from '../models/seed-source';
import type { Checkpointer } from '../storage/checkpointer';
import { fillImages, fillTargets } from './batches';
import { CHECKPOINT_FORMAT, decodeCheckpoint, encodeCheckpoint, type TrainState } from './checkpoint-state';
import { outputCount, predictTargets } from './evaluate';
import type { FlipSpec } from '../data/flip';
import { chooseHalf } from './flip-batch';
import { createStepEngine, setModelWeights, type StepEngine } from './step-engine';
import { learningRateAt, momentumAt, type Schedule } from './schedule';

export interface EpochMetrics {
  /** 1-based. */
  epoch: number;
  /** Mean training MSE on the target scale over the epoch's batches (dropout and flips on). */
  trainLoss: number;
  /** Dev MSE on the target scale (no dropout, no flips). */
  devLoss: number;
  /** sqrt(devLoss) * 48: the dev RMSE in pixels. */
  devRmsePx: number;
  learningRate: number;
  momentum: number;
  /** Wall time of the epoch, dev evaluation included. */
  seconds: number;
  /** Training images per second (dev evaluation excluded). */
  imagesPerSecond: number;
}

/** Rows of one unit: images as bytes, labels in pixels of this unit's columns only, all present. */
export interface UnitRows {
  pixels: Uint8Array;
  labelsPx: Float32Array;
  count: number;
}

export interface TrainUnitOptions {
  /** e.g. 'baseline', 'specialists/nose-tip'; names the unit's checkpoints. */
  unit: string;
  /** Built (and for specialists initialised) by the caller; holds the best weights on return. */
  model: tf.LayersModel;
  schedule: Schedule;
  batchSize: number;
  /** Null: no flip augmentation. */
  flip: FlipSpec | null;
  train: UnitRows;
  dev: UnitRows;
  /** Seeds shuffling, flips and dropout masks (the state of that generator is checkpointed). */
  seed: number;
  checkpointer: Checkpointer;
  checkpointEveryEpochs: number;
  checkpointEveryMinutes: number;
  /** Aborted on SIGTERM or a spot notice: checkpoint after the current batch and return { interrupted: true }. */
  signal?: AbortSignal;
  onEpoch?: (
    m: EpochMetrics,
    progress: { bestDevRmsePx: number; epoch: number; maxEpochs: number },
  ) => void | Promise<void>;
  onCheckpoint?: (at: Date) => void;
  onBatch?: (done: number, total: number) => void;
  /**
   * Gradient worker threads (see chooseWorkers); 1 trains in this thread with tfjs's optimizer. The
   * checkpoint format is the same either way. @default 1
   */
  workers?: number;
  /** The active backend, which the workers use too. @default 'wasm' */
  backend?: BackendName;
}

export interface TrainUnitResult {
  history: EpochMetrics[];
  /** 1-based epoch of the weights the model holds (0 if no epoch finished). */
  bestEpoch: number;
  bestDevRmsePx: number;
  stoppedEarly: boolean;
  interrupted: boolean;
  /** Epoch index (0-based, the next to run) the unit resumed at, or null for a fresh start. */
  resumedFromEpoch: number | null;
}

/** MSE on the target scale -> RMSE in pixels. */
export const lossToRmsePx = (mse: number): number => Math.sqrt(mse) * TARGET_SCALE;

/**
 * Train one unit with SGD + Nesterov momentum on linear schedules, half of each batch flipped, early
 * stopping on dev loss that restores the best weights, and checkpoints from which a restarted process
 * continues bit for bit: at every new best, every `checkpointEveryEpochs` epochs, every
 * `checkpointEveryMinutes` (checked after each batch), on abort, and once finished.
 */
export async function trainUnit(o: TrainUnitOptions): Promise<TrainUnitResult> {
  const outputs = outputCount(o.model);
  checkOptions(o, outputs);
  const { schedule, batchSize, model } = o;
  const weightShapes = model.getWeights().map((w) => w.shape.slice());

  const saved = await o.checkpointer.loadLatest(o.unit);
  const c = saved ? decodeCheckpoint(saved, o.unit) : null;
  if (c && JSON.stringify(c.state.weightShapes) !== JSON.stringify(weightShapes)) {
    throw new Error(
      `checkpoint of "${o.unit}": expected weight shapes ${JSON.stringify(weightShapes)} of the model, found ${JSON.stringify(c.state.weightShapes)}; was the unit's network or preset changed?`,
    );
  }
  if (c?.state.finished) {
    setModelWeights(model, c.weights);
    return result(c.state.history, c.state.best, c.state.stoppedEarly, false, c.state.epochIndex);
  }
  const rng = c ? SeedSource.fromState(c.state.rng) : new SeedSource(o.seed);
  const engine: StepEngine = await createStepEngine(model, rng, o.workers ?? 1, o.backend ?? 'wasm');
  try {
    let s: Omit<TrainState, 'rng' | 'iterations' | 'weightShapes' | 'optimizerShapes' | 'bestIsCurrent'>;
    let bestWeights: Float32Array[] | null = null;
    let resumedFromEpoch: number | null = null;

    if (c) {
      engine.setWeights(c.weights);
      resumedFromEpoch = c.state.epochIndex;
      if (c.state.iterations > 0 || c.accumulators.length > 0) {
        await engine.restoreOptimizer({
          iterations: c.state.iterations,
          accumulators: c.accumulators.map((values, i) => ({ values, shape: c.state.optimizerShapes[i] })),
        });
      }
      bestWeights = c.best ?? (c.state.best ? c.weights.map((w) => w.slice()) : null);
      s = { ...c.state };
    } else {
      s = {
        format: CHECKPOINT_FORMAT,
        unit: o.unit,
        finished: false,
        stoppedEarly: false,
        epochIndex: 0,
        batchInEpoch: 0,
        epochOrder: null,
        epochLossSum: 0,
        epochSeconds: 0,
        best: null,
        history: [],
      };
    }
    let bestIsCurrent = false;
    let lastCheckpoint = Date.now();
    let epochsSinceCheckpoint = 0;

    const save = async (finished = false) => {
      const current = finished && bestWeights ? bestWeights : engine.readWeights();
      const opt = finished ? { iterations: 0, accumulators: [] } : await engine.optimizerState();
      const state: TrainState = {
        ...s,
        finished,
        rng: rng.state(),
        bestIsCurrent: finished || bestIsCurrent,
        iterations: opt.iterations,
        weightShapes,
        optimizerShapes: opt.accumulators.map((a) => a.shape),
      };
      const best = state.best && !state.bestIsCurrent ? bestWeights : null;
      await o.checkpointer.save(
        o.unit,
        encodeCheckpoint({
          state,
          weights: current,
          accumulators: opt.accumulators.map((a) => a.values),
          best,
        }),
      );
      lastCheckpoint = Date.now();
      epochsSinceCheckpoint = 0;
      o.onCheckpoint?.(new Date(lastCheckpoint));
    };
    const minutesDue = () => Date.now() - lastCheckpoint >= o.checkpointEveryMinutes * 60_000;

    const batches = Math.ceil(o.train.count / batchSize);
    const images = new Float32Array(batchSize * PIXELS);
    const targets = new Float32Array(batchSize * outputs);
    const flipRows = new Uint8Array(batchSize);
    let order: Int32Array = s.epochOrder ? Int32Array.from(s.epochOrder) : new Int32Array(0);

    while (s.epochIndex < schedule.maxEpochs && !s.stoppedEarly) {
      const learningRate = learningRateAt(schedule, s.epochIndex);
      const momentum = momentumAt(schedule, s.epochIndex);
      if (s.batchInEpoch === 0) {
        order = rng.shuffle(Int32Array.from({ length: o.train.count }, (_, i) => i));
        s.epochLossSum = 0;
        s.epochSeconds = 0;
      }
      let started = performance.now();
      for (let b = s.batchInEpoch; b < batches; b++) {
        const start = b * batchSize;
        const n = Math.min(batchSize, o.train.count - start);
        const flips = o.flip ? { spec: o.flip, rows: chooseHalf(n, () => rng.next(), flipRows) } : null;
        fillImages(images, o.train.pixels, order, start, n, flips?.rows ?? null);
        fillTargets(targets, o.train.labelsPx, outputs, order, start, n, flips);
        const loss = await engine.step(images, targets, n, learningRate, momentum);
        // A step on wasm or cpu runs synchronously and data() resolves as a microtask: without a macrotask
        // turn here, background uploads, the status heartbeat and signal handlers would wait for the epoch.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (!Number.isFinite(loss)) {
          throw new Error(
            `training "${o.unit}" diverged: expected a finite loss, found ${loss} at epoch ${s.epochIndex + 1} batch ${b + 1} (learning rate ${learningRate})`,
          );
        }
        s.epochLossSum += loss * n;
        s.batchInEpoch = b + 1;
        bestIsCurrent = false;
        o.onBatch?.(b + 1, batches);
        const interrupted = o.signal?.aborted === true;
        if (b + 1 < batches && (interrupted || minutesDue())) {
          const now = performance.now();
          s.epochSeconds += (now - started) / 1000;
          started = now;
          s.epochOrder = Array.from(order);
          await save();
          if (interrupted) return result(s.history, s.best, false, true, resumedFromEpoch);
        }
      }
      const trainSeconds = s.epochSeconds + (performance.now() - started) / 1000;
      const evalStart = performance.now();
      engine.syncModel();
      const devLoss = meanSquaredError(
        predictTargets(model, o.dev.pixels, o.dev.count, batchSize),
        o.dev.labelsPx,
      );
      const epoch = s.epochIndex + 1;
      const metrics: EpochMetrics = {
        epoch,
        trainLoss: s.epochLossSum / o.train.count,
        devLoss,
        devRmsePx: lossToRmsePx(devLoss),
        learningRate,
        momentum,
        seconds: trainSeconds + (performance.now() - evalStart) / 1000,
        imagesPerSecond: o.train.count / trainSeconds,
      };
      s.history.push(metrics);
      const newBest = s.best === null || devLoss < s.best.devLoss;
      if (newBest) {
        s.best = { devLoss, epoch };
        bestWeights = engine.readWeights();
        bestIsCurrent = true;
      }
      s.epochIndex = epoch;
      s.batchInEpoch = 0;
      s.epochOrder = null;
      s.epochLossSum = 0;
      s.epochSeconds = 0;
      epochsSinceCheckpoint++;
      // Lasagne's EarlyStopping: stop once `patience` epochs have passed without a new best.
      s.stoppedEarly =
        s.best !== null && epoch - s.best.epoch >= schedule.patience && epoch < schedule.maxEpochs;
      await o.onEpoch?.(metrics, {
        bestDevRmsePx: lossToRmsePx(s.best!.devLoss),
        epoch,
        maxEpochs: schedule.maxEpochs,
      });
      const done = s.stoppedEarly || s.epochIndex >= schedule.maxEpochs;
      const interrupted = o.signal?.aborted === true;
      if (
        !done &&
        (newBest || interrupted || epochsSinceCheckpoint >= o.checkpointEveryEpochs || minutesDue())
      )
        await save();
      if (!done && interrupted) return result(s.history, s.best, false, true, resumedFromEpoch);
    }

    if (bestWeights) engine.setWeights(bestWeights);
    else engine.syncModel();
    await save(true);
    return result(s.history, s.best, s.stoppedEarly, false, resumedFromEpoch);
  } finally {
    await engine.dispose();
  }
}

function result(
  history: EpochMetrics[],
  best: { devLoss: number; epoch: number } | null,
  stoppedEarly: boolean,
  interrupted: boolean,
  resumedFromEpoch: number | null,
): TrainUnitResult {
  return {
    history,
    bestEpoch: best?.epoch ?? 0,
    bestDevRmsePx: best ? lossToRmsePx(best.devLoss) : NaN,
    stoppedEarly,
    interrupted,
    resumedFromEpoch,
  };
}

function meanSquaredError(pred: Float32Array, truthPx: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < pred.length; i++) {
    const d = pred[i] - (truthPx[i] - TARGET_SCALE) / TARGET_SCALE;
    sum += d * d;
  }
  return sum / pred.length;
}

function checkOptions(o: TrainUnitOptions, outputs: number): void {
  const errors: string[] = [];
  for (const [name, rows] of [
    ['train', o.train],
    ['dev', o.dev],
  ] as const) {
    if (!Number.isInteger(rows.count) || rows.count < 1)
      errors.push(`${name}.count: expected at least 1 row, found ${rows.count}`);
    if (rows.pixels.length !== rows.count * PIXELS)
      errors.push(`${name}.pixels: expected ${rows.count} x ${PIXELS} bytes, found ${rows.pixels.length}`);
    if (rows.labelsPx.length !== rows.count * outputs) {
      errors.push(
        `${name}.labelsPx: expected ${rows.count} x ${outputs} (the model's outputs) values, found ${rows.labelsPx.length}`,
      );
    } else {
      const missing = rows.labelsPx.findIndex((v) => !Number.isFinite(v));
      if (missing >= 0)
        errors.push(
          `${name}.labelsPx: expected every label present, found ${rows.labelsPx[missing]} at row ${Math.floor(missing / outputs)} column ${missing % outputs}`,
        );
    }
  }
  if (o.flip && o.flip.permutation.length !== outputs)
    errors.push(`flip: expected a spec of ${outputs} columns, found ${o.flip.permutation.length}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1)
    errors.push(`batchSize: expected a positive integer, found ${o.batchSize}`);
  if (!Number.isInteger(o.schedule.maxEpochs) || o.schedule.maxEpochs < 1)
    errors.push(`schedule.maxEpochs: expected a positive integer, found ${o.schedule.maxEpochs}`);
  if (errors.length) throw new Error(`trainUnit "${o.unit}": ${errors.join('; ')}`);
}
