import type * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../config';
import type { FaceSet } from '../data/dataset';
import { flipSpec } from '../data/flip';
import { buildNetwork, copyAllButOutput, type NetworkConfig } from '../models/ladder';
import { SeedSource } from '../models/seed-source';
import { runLayout } from '../../contracts/run-layout';
import type { Checkpointer } from '../storage/checkpointer';
import type { Store } from '../storage/store';
import { predictUnitPx } from '../predict/test-time-views';
import { trainUnit, type TrainUnitResult } from '../train/train-unit';
import { augmentedTrainingSet } from './augmented-set';
import type { LoadedRun } from './load-run';
import { appendEpoch, formatMetricsCsv } from './metrics-csv';
import { loadModel, saveModel } from './model-io';
import { type TrainedUnit, unitRows } from './plan';
import { unitProgress, type ProgressOptions, type UnitProgress } from './progress';
import { readMetrics, writeDoneMarker } from './run-files';
import type { StatusReporter } from './status-reporter';
import { timeLeft } from './time-left';
import { gatherUnitRows } from './unit-data';

/** The settings training a unit reads. */
export type UnitTrainerSettings = NetworkConfig &
  Pick<
    TrainConfig,
    | 'seed'
    | 'batchSize'
    | 'flip'
    | 'shift'
    | 'testTimeAugmentation'
    | 'augmentations'
    | 'checkpointEveryEpochs'
    | 'checkpointEveryMinutes'
  >;

/** A trained unit's outputs (its own columns, in pixels) on every dev row and every test image. */
export interface UnitPredictions {
  devPredPx: Float32Array;
  testPredPx: Float32Array;
}

export interface UnitTrainerContext {
  settings: UnitTrainerSettings;
  store: Store;
  checkpointer: Checkpointer;
  status: StatusReporter;
  loaded: LoadedRun;
  signal: AbortSignal;
  progress: ProgressOptions;
  log: (line: string) => void;
}

/**
 * Trains one planned unit at a time and keeps status, progress and metrics current. A unit it finishes
 * is evaluated while its model is in memory, so the report need not load it again.
 */
export class UnitTrainer {
  private augmented: FaceSet | null = null;
  private readonly evaluated = new Map<string, UnitPredictions>();

  constructor(private readonly c: UnitTrainerContext) {}

  /** Predictions of the units this trainer finished, by unit. */
  get predictions(): ReadonlyMap<string, UnitPredictions> {
    return this.evaluated;
  }

  async train(u: TrainedUnit): Promise<'done' | 'interrupted'> {
    const { settings } = this.c;
    const seed = unitSeed(settings.seed, u.unit);
    const model = buildNetwork(u.network, u.columns.length, settings, new SeedSource(seed));
    try {
      if (u.initFromBaseline) await this.initFromBaseline(model);
      const { result, trainRows } = await this.runEpochs(u, model, seed);
      if (result.interrupted) return 'interrupted';
      await this.finish(u, model, result, trainRows);
      return 'done';
    } finally {
      model.dispose();
    }
  }

  private async initFromBaseline(model: tf.LayersModel): Promise<void> {
    const baseline = await loadModel(this.c.store, 'baseline');
    try {
      copyAllButOutput(baseline, model);
    } finally {
      baseline.dispose();
    }
  }

  /** The unit's training set: the original rows, or for augmented specialists the augmented copies too. */
  private async trainingSet(u: TrainedUnit): Promise<{ set: FaceSet; rows: Int32Array }> {
    const { training } = this.c.loaded.data;
    if (u.model !== 'specialists-augmented') return { set: training, rows: u.trainRows };
    this.augmented ??= await augmentedTrainingSet(
      training,
      this.c.loaded.split.train,
      this.c.settings.augmentations,
      this.c.log,
    );
    const set = this.augmented;
    return {
      set,
      rows: unitRows(
        set,
        Int32Array.from({ length: set.count }, (_, i) => i),
        u.columns,
        u.missing,
      ),
    };
  }

  /** The unit's epochs (resumed from its checkpoint), and how many training images it had. */
  private async runEpochs(
    u: TrainedUnit,
    model: tf.LayersModel,
    seed: number,
  ): Promise<{ result: TrainUnitResult; trainRows: number }> {
    const { settings, store, status, loaded, log } = this.c;
    const train = await this.trainingSet(u);
    const metricsKey = runLayout.metrics(u.unit);
    let history = await readMetrics(store, u.unit);
    const epochSeconds: number[] = [];

    await status.update({
      phase: u.model,
      model: u.unit,
      epoch: 0,
      maxEpochs: u.maxEpochs,
      bestDevRmsePx: null,
      imagesPerSecond: null,
    });
    log(
      `${u.unit}: ${train.rows.length} train images, ${u.devRows.length} dev rows, up to ${u.maxEpochs} epoch${u.maxEpochs === 1 ? '' : 's'}`,
    );
    // The bar owns the terminal line while the unit trains: nothing else is logged until it stops.
    const bar: UnitProgress = unitProgress(u.unit, u.maxEpochs, this.c.progress);
    try {
      const result = await trainUnit({
        unit: u.unit,
        model,
        schedule: u.schedule,
        batchSize: settings.batchSize,
        flip: settings.flip ? flipSpec(u.columns, u.flipPairs) : null,
        shift: settings.shift,
        missing: u.missing,
        train: gatherUnitRows(train.set, train.rows, u.columns),
        dev: gatherUnitRows(loaded.data.training, u.devRows, u.columns),
        seed,
        checkpointer: this.c.checkpointer,
        checkpointEveryEpochs: settings.checkpointEveryEpochs,
        checkpointEveryMinutes: settings.checkpointEveryMinutes,
        signal: this.c.signal,
        workers: loaded.workers,
        backend: loaded.backend.name,
        onBatch: (done, total) => bar.batch(done, total),
        onCheckpoint: (at) =>
          void status.update({ lastCheckpointAt: at.toISOString() }).catch(() => undefined),
        onEpoch: async (m, p) => {
          history = appendEpoch(history, m);
          epochSeconds.push(m.seconds);
          await store.put(metricsKey, formatMetricsCsv(history));
          const eta = timeLeft(loaded.plan.units, u, m.epoch, epochSeconds);
          bar.epoch(m, p.maxEpochs, eta.unit);
          await status.update({
            epoch: m.epoch,
            maxEpochs: p.maxEpochs,
            bestDevRmsePx: p.bestDevRmsePx,
            imagesPerSecond: m.imagesPerSecond,
            etaPhaseSeconds: eta.phase,
            etaRunSeconds: eta.run,
          });
        },
      });
      return { result, trainRows: train.rows.length };
    } finally {
      bar.stop();
    }
  }

  /** Metrics, model and predictions of a finished unit, then its done marker. */
  private async finish(
    u: TrainedUnit,
    model: tf.LayersModel,
    result: TrainUnitResult,
    trainRows: number,
  ): Promise<void> {
    const { store, settings, loaded, log } = this.c;
    await store.put(runLayout.metrics(u.unit), formatMetricsCsv(result.history));
    await saveModel(model, store, u.unit);
    const { dev, data } = loaded;
    this.evaluated.set(u.unit, {
      devPredPx: predictUnitPx(
        model,
        dev.pixels,
        dev.count,
        settings.batchSize,
        u,
        settings.testTimeAugmentation,
      ),
      testPredPx: predictUnitPx(
        model,
        data.test.pixels,
        data.test.count,
        settings.batchSize,
        u,
        settings.testTimeAugmentation,
      ),
    });
    await writeDoneMarker(store, {
      unit: u.unit,
      trainRows,
      devRows: u.devRows.length,
      params: u.params,
      maxEpochs: u.maxEpochs,
      epochsRun: result.history.length,
      bestEpoch: result.bestEpoch,
      bestDevRmsePx: result.bestDevRmsePx,
      stoppedEarly: result.stoppedEarly,
      trainSeconds: result.history.reduce((s, h) => s + h.seconds, 0),
      finishedAt: new Date().toISOString(),
    });
    const devTargets = result.history[result.bestEpoch - 1]?.devTargets;
    log(
      `${u.unit}: best dev RMSE ${result.bestDevRmsePx.toFixed(2)} px at epoch ${result.bestEpoch}` +
        `${devTargets === undefined ? '' : ` over ${devTargets} dev targets`}` +
        `${result.stoppedEarly ? ' (stopped early)' : ''}`,
    );
  }
}

/** A fixed seed per unit, so a unit's initial weights do not depend on which units ran before it. */
export function unitSeed(seed: number, unit: string): number {
  let h = 2166136261;
  for (let i = 0; i < unit.length; i++) h = Math.imul(h ^ unit.charCodeAt(i), 16777619);
  return ((h ^ seed) >>> 0) % 2147483647;
}
