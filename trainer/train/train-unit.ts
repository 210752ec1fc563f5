import type * as tf from '@tensorflow/tfjs';
import type { BackendName, MissingMode } from '../config';
import type { FlipSpec } from '../data/flip';
import { PIXELS } from '../../contracts/keypoints';
import { SeedSource } from '../models/seed-source';
import type { Checkpointer } from '../storage/checkpointer';
import { fillImages, fillTargets } from './batches';
import { checkpointDue, type CheckpointPolicy } from './checkpoint-policy';
import {
  CHECKPOINT_FORMAT,
  decodeCheckpoint,
  encodeCheckpoint,
  type DecodedCheckpoint,
  type PackedShapes,
  type TrainState,
} from './checkpoint-state';
import { outputCount, predictTargets } from './evaluate';
import { chooseHalf } from './flip-batch';
import { lossToRmsePx, meanSquaredError, type EpochMetrics } from './metrics';
import { learningRateAt, momentumAt, type Schedule } from './schedule';
import { createStepEngine, setModelWeights, type StepEngine } from './step-engine';

/** Rows of one unit: images as bytes, labels in pixels of this unit's columns only (NaN marks a missing one). */
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
  /** Move each training image (after the flip) by whole pixels drawn from [-shift, shift] in x and y. @default 0 */
  shift?: number;
  /** Every label present, unless `missing` is 'mask' (then each row needs at least one). */
  train: UnitRows;
  dev: UnitRows;
  /**
   * 'mask': the loss and the dev loss cover the present labels only; 'drop': every label must be present.
   * @default 'drop'
   */
  missing?: MissingMode;
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

/**
 * Train one unit with SGD + Nesterov momentum or Adam on linear schedules, half of each batch flipped, early
 * stopping on dev loss that restores the best weights, and checkpoints from which a restarted process
 * continues bit for bit: at every new best, every `checkpointEveryEpochs` epochs, every
 * `checkpointEveryMinutes` (checked after each batch), on abort, and once finished (see checkpointDue).
 */
export async function trainUnit(o: TrainUnitOptions): Promise<TrainUnitResult> {
  const outputs = outputCount(o.model);
  checkOptions(o, outputs);
  const weightShapes = o.model.getWeights().map((w) => w.shape.slice());
  const checkpoint = await latestCheckpoint(o, weightShapes);
  if (checkpoint?.state.finished) {
    setModelWeights(o.model, checkpoint.weights);
    return resultOf(checkpoint.state, false, checkpoint.state.epochIndex);
  }
  const rng = checkpoint ? SeedSource.fromState(checkpoint.state.rng) : new SeedSource(o.seed);
  const engine = await createStepEngine(
    o.model,
    rng,
    o.workers ?? 1,
    o.backend ?? 'wasm',
    o.schedule.optimizer,
  );
  try {
    const run = await UnitRun.resume(o, engine, rng, weightShapes, checkpoint);
    if ((await run.trainEpochs(outputs)) === 'interrupted') return run.result(true);
    return await run.finish();
  } finally {
    await engine.dispose();
  }
}

async function latestCheckpoint(
  o: TrainUnitOptions,
  weightShapes: PackedShapes,
): Promise<DecodedCheckpoint | null> {
  const saved = await o.checkpointer.loadLatest(o.unit);
  if (!saved) return null;
  const c = decodeCheckpoint(saved, o.unit);
  if (JSON.stringify(c.state.weightShapes) !== JSON.stringify(weightShapes)) {
    throw new Error(
      `checkpoint of "${o.unit}": expected weight shapes ${JSON.stringify(weightShapes)} of the model, found ${JSON.stringify(c.state.weightShapes)}; was the unit's network or preset changed?`,
    );
  }
  return c;
}

/** Where the unit stands: what state.json records besides the random state and the array shapes. */
type Progress = Pick<
  TrainState,
  | 'stoppedEarly'
  | 'epochIndex'
  | 'batchInEpoch'
  | 'epochOrder'
  | 'epochLossSum'
  | 'epochSeconds'
  | 'best'
  | 'history'
>;

const FRESH: Progress = {
  stoppedEarly: false,
  epochIndex: 0,
  batchInEpoch: 0,
  epochOrder: null,
  epochLossSum: 0,
  epochSeconds: 0,
  best: null,
  history: [],
};

/** Batch buffers, reused by every step. */
interface Buffers {
  images: Float32Array;
  targets: Float32Array;
  /** 0/1 flags of the present targets; null when the unit drops rows with missing labels. */
  mask: Float32Array | null;
  flipRows: Uint8Array;
  /** dx, dy per row; null without shifts. */
  shifts: Int8Array | null;
}

/** One unit's training from where it stands to its end (or an interruption). */
class UnitRun {
  private readonly policy: CheckpointPolicy;
  /** The weights saved as current are the best ones (no best.bin needed). */
  private bestIsCurrent = false;
  private lastCheckpointAt = Date.now();
  private epochsSinceCheckpoint = 0;
  /** Row order of the epoch in progress. */
  private order: Int32Array;

  private constructor(
    private readonly o: TrainUnitOptions,
    private readonly engine: StepEngine,
    private readonly rng: SeedSource,
    private readonly weightShapes: PackedShapes,
    private readonly progress: Progress,
    private bestWeights: Float32Array[] | null,
    private readonly resumedFromEpoch: number | null,
  ) {
    this.policy = { everyEpochs: o.checkpointEveryEpochs, everyMinutes: o.checkpointEveryMinutes };
    this.order = progress.epochOrder ? Int32Array.from(progress.epochOrder) : new Int32Array(0);
  }

  /** A fresh start, or the engine loaded with the checkpoint's weights and optimizer state. */
  static async resume(
    o: TrainUnitOptions,
    engine: StepEngine,
    rng: SeedSource,
    weightShapes: PackedShapes,
    c: DecodedCheckpoint | null,
  ): Promise<UnitRun> {
    if (!c) return new UnitRun(o, engine, rng, weightShapes, structuredClone(FRESH), null, null);
    engine.setWeights(c.weights);
    if (c.state.iterations > 0 || c.accumulators.length > 0) {
      await engine.restoreOptimizer({
        iterations: c.state.iterations,
        accumulators: c.accumulators.map((values, i) => ({
          values,
          shape: c.state.optimizerShapes[i] ?? [],
        })),
      });
    }
    const { stoppedEarly, epochIndex, batchInEpoch, epochOrder, epochLossSum, epochSeconds, best, history } =
      c.state;
    const progress = {
      stoppedEarly,
      epochIndex,
      batchInEpoch,
      epochOrder,
      epochLossSum,
      epochSeconds,
      best,
      history,
    };
    const bestWeights = c.best ?? (best ? c.weights.map((w) => w.slice()) : null);
    return new UnitRun(o, engine, rng, weightShapes, progress, bestWeights, epochIndex);
  }

  /** Epochs until the schedule ends or early stopping; 'interrupted' once a checkpoint holds the abort point. */
  async trainEpochs(outputs: number): Promise<'done' | 'interrupted'> {
    const { o, progress: p } = this;
    const { schedule } = o;
    const buffers: Buffers = {
      images: new Float32Array(o.batchSize * PIXELS),
      targets: new Float32Array(o.batchSize * outputs),
      mask: o.missing === 'mask' ? new Float32Array(o.batchSize * outputs) : null,
      flipRows: new Uint8Array(o.batchSize),
      shifts: (o.shift ?? 0) > 0 ? new Int8Array(o.batchSize * 2) : null,
    };
    while (p.epochIndex < schedule.maxEpochs && !p.stoppedEarly) {
      const learningRate = learningRateAt(schedule, p.epochIndex);
      const momentum = momentumAt(schedule, p.epochIndex);
      const trainSeconds = await this.trainBatches(buffers, outputs, learningRate, momentum);
      if (trainSeconds === null) return 'interrupted';
      const { metrics, newBest, best } = this.endEpoch(trainSeconds, learningRate, momentum);
      await o.onEpoch?.(metrics, {
        bestDevRmsePx: lossToRmsePx(best.devLoss),
        epoch: metrics.epoch,
        maxEpochs: schedule.maxEpochs,
      });
      const done = p.stoppedEarly || p.epochIndex >= schedule.maxEpochs;
      const interrupted = o.signal?.aborted === true;
      if (this.due({ at: 'epoch', moreToCome: !done, interrupted, newBest })) await this.save();
      if (!done && interrupted) return 'interrupted';
    }
    return 'done';
  }

  /** The rest of the current epoch's batches: its training seconds, or null when interrupted (checkpointed). */
  private async trainBatches(
    buffers: Buffers,
    outputs: number,
    learningRate: number,
    momentum: number,
  ): Promise<number | null> {
    const { o, progress: p } = this;
    const batches = Math.ceil(o.train.count / o.batchSize);
    if (p.batchInEpoch === 0) {
      this.order = this.rng.shuffle(Int32Array.from({ length: o.train.count }, (_, i) => i));
      p.epochLossSum = 0;
      p.epochSeconds = 0;
    }
    let started = performance.now();
    for (let b = p.batchInEpoch; b < batches; b++) {
      const n = Math.min(o.batchSize, o.train.count - b * o.batchSize);
      const loss = await this.step(buffers, outputs, b, n, learningRate, momentum);
      p.epochLossSum += loss * n;
      p.batchInEpoch = b + 1;
      this.bestIsCurrent = false;
      o.onBatch?.(b + 1, batches);
      const interrupted = o.signal?.aborted === true;
      if (this.due({ at: 'batch', moreToCome: b + 1 < batches, interrupted, newBest: false })) {
        const now = performance.now();
        p.epochSeconds += (now - started) / 1000;
        started = now;
        p.epochOrder = Array.from(this.order);
        await this.save();
        if (interrupted) return null;
      }
    }
    return p.epochSeconds + (performance.now() - started) / 1000;
  }

  /** Batch `b` of the epoch (`n` images, half of them flipped when flips are on): its mean loss. */
  private async step(
    buffers: Buffers,
    outputs: number,
    b: number,
    n: number,
    learningRate: number,
    momentum: number,
  ): Promise<number> {
    const { o, rng } = this;
    const start = b * o.batchSize;
    const flips = o.flip ? { spec: o.flip, rows: chooseHalf(n, () => rng.next(), buffers.flipRows) } : null;
    // Drawn after the flips and only with a shift, so runs without one keep their random sequence.
    const { shifts } = buffers;
    if (shifts) {
      const s = o.shift ?? 0;
      for (let i = 0; i < 2 * n; i++) shifts[i] = Math.floor(rng.next() * (2 * s + 1)) - s;
    }
    fillImages(buffers.images, o.train.pixels, this.order, start, n, flips?.rows ?? null, shifts);
    fillTargets(
      buffers.targets,
      o.train.labelsPx,
      outputs,
      this.order,
      start,
      n,
      flips,
      buffers.mask,
      shifts,
    );
    const loss = await this.engine.step({
      images: buffers.images,
      targets: buffers.targets,
      mask: buffers.mask,
      n,
      learningRate,
      momentum,
    });
    // A step on wasm or cpu runs synchronously and data() resolves as a microtask: without a macrotask
    // turn here, background uploads, the status heartbeat and signal handlers would wait for the epoch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (!Number.isFinite(loss)) {
      throw new Error(
        `training "${o.unit}" diverged: expected a finite loss, found ${loss} at epoch ${this.progress.epochIndex + 1} batch ${b + 1} (learning rate ${learningRate})`,
      );
    }
    return loss;
  }

  /** Evaluate on dev, record the epoch and the best so far, and decide early stopping. */
  private endEpoch(
    trainSeconds: number,
    learningRate: number,
    momentum: number,
  ): { metrics: EpochMetrics; newBest: boolean; best: { devLoss: number; epoch: number } } {
    const { o, progress: p } = this;
    const evalStart = performance.now();
    this.engine.syncModel();
    const { mse: devLoss, targets: devTargets } = meanSquaredError(
      predictTargets(o.model, o.dev.pixels, o.dev.count, o.batchSize),
      o.dev.labelsPx,
    );
    const epoch = p.epochIndex + 1;
    const metrics: EpochMetrics = {
      epoch,
      trainLoss: p.epochLossSum / o.train.count,
      devLoss,
      devRmsePx: lossToRmsePx(devLoss),
      devTargets,
      learningRate,
      momentum,
      seconds: trainSeconds + (performance.now() - evalStart) / 1000,
      imagesPerSecond: o.train.count / trainSeconds,
    };
    p.history.push(metrics);
    const previous = p.best;
    const best = previous === null || devLoss < previous.devLoss ? { devLoss, epoch } : previous;
    const newBest = best !== previous;
    if (newBest) {
      p.best = best;
      this.bestWeights = this.engine.readWeights();
      this.bestIsCurrent = true;
    }
    p.epochIndex = epoch;
    p.batchInEpoch = 0;
    p.epochOrder = null;
    p.epochLossSum = 0;
    p.epochSeconds = 0;
    this.epochsSinceCheckpoint++;
    // Lasagne's EarlyStopping: stop once `patience` epochs have passed without a new best.
    p.stoppedEarly = epoch - best.epoch >= o.schedule.patience && epoch < o.schedule.maxEpochs;
    return { metrics, newBest, best };
  }

  /** The model holds the best weights; the final checkpoint records the unit as finished. */
  async finish(): Promise<TrainUnitResult> {
    if (this.bestWeights) this.engine.setWeights(this.bestWeights);
    else this.engine.syncModel();
    await this.save(true);
    return this.result(false);
  }

  result(interrupted: boolean): TrainUnitResult {
    return resultOf(this.progress, interrupted, this.resumedFromEpoch);
  }

  private due(facts: { at: 'batch' | 'epoch'; moreToCome: boolean; interrupted: boolean; newBest: boolean }) {
    return checkpointDue(this.policy, {
      ...facts,
      epochsSinceCheckpoint: this.epochsSinceCheckpoint,
      msSinceCheckpoint: Date.now() - this.lastCheckpointAt,
    });
  }

  private async save(finished = false): Promise<void> {
    const current = finished && this.bestWeights ? this.bestWeights : this.engine.readWeights();
    const opt = finished ? { iterations: 0, accumulators: [] } : await this.engine.optimizerState();
    const state: TrainState = {
      format: CHECKPOINT_FORMAT,
      unit: this.o.unit,
      ...this.progress,
      finished,
      rng: this.rng.state(),
      bestIsCurrent: finished || this.bestIsCurrent,
      iterations: opt.iterations,
      weightShapes: this.weightShapes,
      optimizerShapes: opt.accumulators.map((a) => a.shape),
    };
    const best = state.best && !state.bestIsCurrent ? this.bestWeights : null;
    await this.o.checkpointer.save(
      this.o.unit,
      encodeCheckpoint({
        state,
        weights: current,
        accumulators: opt.accumulators.map((a) => a.values),
        best,
      }),
    );
    this.lastCheckpointAt = Date.now();
    this.epochsSinceCheckpoint = 0;
    this.o.onCheckpoint?.(new Date(this.lastCheckpointAt));
  }
}

function resultOf(
  record: Pick<TrainState, 'history' | 'best' | 'stoppedEarly'>,
  interrupted: boolean,
  resumedFromEpoch: number | null,
): TrainUnitResult {
  const { best } = record;
  return {
    history: record.history,
    bestEpoch: best?.epoch ?? 0,
    bestDevRmsePx: best ? lossToRmsePx(best.devLoss) : NaN,
    stoppedEarly: record.stoppedEarly,
    interrupted,
    resumedFromEpoch,
  };
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
      const problem = labelProblem(rows.labelsPx, outputs, o.missing ?? 'drop');
      if (problem) errors.push(`${name}.labelsPx: ${problem}`);
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

/** What is wrong with a unit's labels: a missing one under 'drop', an infinite one, or under 'mask' a row without any. */
function labelProblem(labelsPx: Float32Array, outputs: number, missing: MissingMode): string | null {
  const where = (i: number) => `row ${Math.floor(i / outputs)} column ${i % outputs}`;
  if (missing === 'drop') {
    const bad = labelsPx.findIndex((v) => !Number.isFinite(v));
    return bad < 0 ? null : `expected every label present, found ${labelsPx[bad]} at ${where(bad)}`;
  }
  const infinite = labelsPx.findIndex((v) => !Number.isFinite(v) && !Number.isNaN(v));
  if (infinite >= 0)
    return `expected finite labels or NaN (missing), found ${labelsPx[infinite]} at ${where(infinite)}`;
  for (let r = 0; r < labelsPx.length / outputs; r++) {
    let present = false;
    for (let c = 0; c < outputs && !present; c++) present = !Number.isNaN(labelsPx[r * outputs + c]!);
    if (!present)
      return `expected at least one label present in every row (missing: mask), found none in row ${r}`;
  }
  return null;
}
