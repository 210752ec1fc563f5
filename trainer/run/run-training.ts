import * as path from 'node:path';
import { ON_DEMAND_USD_PER_HOUR } from '../../lib/instance-prices';
import { selectBackend, type SelectedBackend } from '../backend/select-backend';
import { chooseWorkers } from '../train/step-engine';
import type { TrainConfig } from '../config';
import { DataError, type FaceSet } from '../data/dataset';
import { flipSpec } from '../data/flip';
import { loadKaggleDir, type KaggleData } from '../data/kaggle-csv';
import { rowsWithAll, splitTrainDev } from '../data/split';
import { COORDINATES, columnIndex } from '../keypoints';
import { buildNetwork, copyAllButOutput } from '../models/ladder';
import { SeedSource } from '../models/seed-source';
import type { UnitCurve } from '../report/learning-curves';
import type { RunSummary, UnitSummary } from '../report/summary';
import { UnitSummarySchema } from '../report/summary';
import { writeReport, type ModelPredictions } from '../report/write-report';
import { runLayout, type ModelName } from '../run-layout';
import type { Checkpointer } from '../storage/checkpointer';
import { DATA_CACHE_FOLDER, defaultScratchDir } from '../storage/data-cache';
import type { Store } from '../storage/store';
import { meanModel, predictPx } from '../train/evaluate';
import { lossToRmsePx, type EpochMetrics } from '../train/metrics';
import { trainUnit } from '../train/train-unit';
import { augmentedTrainingSet } from './augmented-set';
import { checkResumedConfig } from './config-file';
import { probeBatches, speedProbe } from './estimate';
import { appendEpoch, formatMetricsCsv, parseMetricsCsv } from './metrics-csv';
import { loadModel, saveModel } from './model-io';
import { formatPlan, planRun, type PlannedUnit, type RunPlan } from './plan';
import { unitProgress, type ProgressOptions, type UnitProgress } from './progress';
import { defaultRunServices, type RunServices } from './run-services';
import { StatusReporter } from './status-reporter';
import { UsageError } from './usage-error';
import { gatherAllColumns, gatherUnitRows } from './unit-data';

export interface RunDeps {
  /** Progress and messages. @default a line on stderr */
  log?: (line: string) => void;
  /** Storage and machine services; any missing one comes from defaultRunServices(). */
  services?: Partial<RunServices>;
  progress?: ProgressOptions;
  /** EC2 instance type for the status and the cost. @default env FACEPOINTS_INSTANCE_TYPE, else null */
  instanceType?: string | null;
  /** The one writable folder outside the run store; s3:// data is cached in its `data/`. @default defaultScratchDir() */
  scratchDir?: string;
  /** Status heartbeat. @default 60 s */
  heartbeatMs?: number;
  /** Extra interruption source (tests); SIGTERM and spot notices come from the services. */
  signal?: AbortSignal;
}

export interface RunOutcome {
  state: 'succeeded' | 'interrupted';
  /** The run directory, e.g. file:///home/me/runs/20261129-043000. */
  runUrl: string;
  /** The run's summary when it succeeded (read back when it had already succeeded). */
  summary: RunSummary | null;
}

/** What `models/<unit>/done.json` records: the unit's figures, kept across attempts of the run. */
type DoneMarker = UnitSummary & { finishedAt: string };

interface Loaded {
  data: KaggleData;
  split: { train: Int32Array; dev: Int32Array };
  backend: SelectedBackend;
  /** Gradient worker threads of every unit (chooseWorkers). */
  workers: number;
  plan: RunPlan;
}

/**
 * Train a run unit by unit, resumable at any point: the configuration is written once and checked on
 * resume, finished units (done marker present) are never retrained, the unit in progress continues from
 * its latest checkpoint, and the report is written at the end. A run that already succeeded returns at
 * once. Failures are recorded in status.json and rethrown.
 */
export async function runTraining(config: TrainConfig, deps: RunDeps = {}): Promise<RunOutcome> {
  const log = deps.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const services: RunServices = { ...defaultRunServices(), ...deps.services };
  const store = services.openStore(config.out).child(config.runId);
  const runUrl = store.url;

  await checkResumedConfig(store, config);
  const previous = await readStatusState(store);
  if (previous === 'succeeded') {
    log(`run ${config.runId} already succeeded; its results are in ${runUrl}/${runLayout.reportDir}`);
    const summary = await store.get(runLayout.summary);
    return {
      state: 'succeeded',
      runUrl,
      summary: summary ? (JSON.parse(summary.toString('utf8')) as RunSummary) : null,
    };
  }

  const startedAt = new Date();
  const instanceType =
    deps.instanceType !== undefined ? deps.instanceType : process.env.FACEPOINTS_INSTANCE_TYPE || null;
  const status = new StatusReporter(
    store,
    { runId: config.runId, startedAt, instanceType },
    { heartbeatMs: deps.heartbeatMs },
  );
  if ((await store.get(runLayout.config)) === null)
    await store.put(runLayout.config, `${JSON.stringify(config, null, 2)}\n`);
  await status.start();
  log(`run ${config.runId}${previous ? ` (resuming a run that was ${previous})` : ''}: writing to ${runUrl}`);

  const interruptions = services.watchInterruptions(log);
  const signal = deps.signal ? AbortSignal.any([interruptions.signal, deps.signal]) : interruptions.signal;
  const checkpointer = services.createCheckpointer(store, log);
  try {
    await status.update({ phase: 'loading' });
    const loadStart = Date.now();
    const loaded = await loadAndPlan(config, store, services, deps, log);
    const loadingSeconds = (Date.now() - loadStart) / 1000;
    await status.update({ backend: loaded.backend.name, gpuName: loaded.backend.gpuName });
    log(formatPlan(loaded.plan, loaded.backend.name));

    const trainer = new UnitTrainer(
      config,
      store,
      checkpointer,
      status,
      loaded,
      signal,
      deps.progress ?? {},
      log,
    );
    for (const unit of loaded.plan.units) {
      if (unit.network === null) continue;
      if (unit.done) {
        log(`${unit.unit}: finished earlier, not retrained`);
        continue;
      }
      if ((await trainer.train(unit)) === 'interrupted') {
        const reason = describeAbort(signal.reason);
        log(`interrupted (${reason}): checkpoint saved; re-run the same command to resume`);
        await checkpointer.flush();
        await status.finish('interrupted', { interruption: reason });
        await status.flush();
        await store.flush();
        return { state: 'interrupted', runUrl, summary: null };
      }
    }

    await status.update({ phase: 'report', model: null, epoch: null, maxEpochs: null });
    const summary = await report(config, store, loaded, loadingSeconds, startedAt, instanceType, log);
    // "succeeded" promises the results are in the store: every queued upload lands before the status says so.
    await checkpointer.flush();
    await store.flush();
    await status.finish('succeeded', { phase: 'done' });
    await status.flush();
    await store.flush();
    log(`run ${config.runId} succeeded: report in ${runUrl}/${runLayout.reportMarkdown}`);
    return { state: 'succeeded', runUrl, summary };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await status.finish('failed', { error: message }).catch(() => undefined);
    await store.flush().catch(() => undefined);
    throw err;
  } finally {
    status.stop();
    interruptions.dispose();
  }
}

/**
 * `--dry-run`: load and validate the data, pick the backend, measure its speed and print the plan.
 * Reads the run store (to mark finished units) but writes nothing.
 */
export async function dryRun(config: TrainConfig, deps: RunDeps = {}): Promise<RunPlan> {
  const log = deps.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const services: RunServices = { ...defaultRunServices(), ...deps.services };
  const store = services.openStore(config.out).child(config.runId);
  await checkResumedConfig(store, config);
  const loaded = await loadAndPlan(config, store, services, deps, log);
  log(formatPlan(loaded.plan, loaded.backend.name));
  return loaded.plan;
}

async function loadAndPlan(
  config: TrainConfig,
  store: Store,
  services: RunServices,
  deps: RunDeps,
  log: (line: string) => void,
): Promise<Loaded> {
  const started = Date.now();
  const data = await asUsageErrorForLocalData(config.data, async () => {
    const dataDir = await services.resolveDataDir(
      config.data,
      path.resolve(deps.scratchDir ?? defaultScratchDir(), DATA_CACHE_FOLDER),
      log,
    );
    return {
      dir: dataDir,
      ...(await loadKaggleDir(dataDir, { maxRows: config.maxRows > 0 ? config.maxRows : undefined })),
    };
  });
  const dataDir = data.dir;
  log(
    `data: ${data.training.count} training rows, ${data.test.count} test images, ${data.lookup.length} lookup rows ` +
      `from ${dataDir} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  const backend = await selectBackend({ backend: config.backend, requireGpu: config.requireGpu, log });
  const split = splitTrainDev(data.training, config.devFraction, config.seed);
  log(`split: ${split.train.length} train rows, ${split.dev.length} dev rows (seed ${config.seed})`);
  const workers = asUsageError(() => chooseWorkers(config.workers, backend.name, config.batchSize));
  log(
    `training: ${workers === 1 ? 'in this thread' : `${workers} gradient worker threads`} (${backend.name}, batch ${config.batchSize})`,
  );
  const sample = gatherUnitRows(
    data.training,
    split.train.subarray(0, probeBatches(config.batchSize) * config.batchSize),
    [],
  );
  const plan = await planRun({
    config,
    training: data.training,
    split,
    isDone: async (unit) => (await store.get(runLayout.unitDone(unit))) !== null,
    probe: speedProbe(config, sample, { workers, backend: backend.name }),
  });
  return { data, split, backend, workers, plan };
}

/**
 * A local data folder that is missing or lacks a Kaggle file is the user's to fix (exit 64, no retry);
 * a download from S3 can fail for reasons a retry cures, so its errors pass unchanged.
 */
async function asUsageErrorForLocalData<T>(data: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (data.startsWith('s3://') || err instanceof DataError || !(err instanceof Error)) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== undefined && code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
    throw new UsageError(err.message);
  }
}

function asUsageError<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** Trains one planned unit at a time and keeps status, progress and metrics current. */
class UnitTrainer {
  private augmented: FaceSet | null = null;

  constructor(
    private readonly config: TrainConfig,
    private readonly store: Store,
    private readonly checkpointer: Checkpointer,
    private readonly status: StatusReporter,
    private readonly loaded: Loaded,
    private readonly signal: AbortSignal,
    private readonly progressOptions: ProgressOptions,
    private readonly log: (line: string) => void,
  ) {}

  async train(u: PlannedUnit): Promise<'done' | 'interrupted'> {
    const { config, store } = this;
    const { training } = this.loaded.data;
    const seed = unitSeed(config.seed, u.unit);
    const model = buildNetwork(u.network!, u.columns.length, config, new SeedSource(seed));
    let progress: UnitProgress | null = null;
    try {
      if (u.initFromBaseline) {
        const baseline = await loadModel(store, 'baseline');
        try {
          copyAllButOutput(baseline, model);
        } finally {
          baseline.dispose();
        }
      }
      let trainSet = training;
      let trainRows = u.trainRows;
      if (u.model === 'specialists-augmented') {
        this.augmented ??= await augmentedTrainingSet(
          training,
          this.loaded.split.train,
          config.augmentations,
          this.log,
        );
        trainSet = this.augmented;
        trainRows = rowsWithAll(
          trainSet,
          Int32Array.from({ length: trainSet.count }, (_, i) => i),
          u.columns,
        );
      }
      const metricsKey = runLayout.metrics(u.unit);
      const existing = await store.get(metricsKey);
      let history = existing ? parseMetricsCsv(existing.toString('utf8'), metricsKey) : [];
      const epochSeconds: number[] = [];

      await this.status.update({
        phase: u.model,
        model: u.unit,
        epoch: 0,
        maxEpochs: u.maxEpochs,
        bestDevRmsePx: null,
        imagesPerSecond: null,
      });
      this.log(
        `${u.unit}: ${trainRows.length} train images, ${u.devRows.length} dev rows, up to ${u.maxEpochs} epoch${u.maxEpochs === 1 ? '' : 's'}`,
      );
      // The bar owns the terminal line while the unit trains: nothing else is logged until it stops.
      const bar = unitProgress(u.unit, u.maxEpochs, this.progressOptions);
      progress = bar;
      const result = await trainUnit({
        unit: u.unit,
        model,
        schedule: u.schedule!,
        batchSize: config.batchSize,
        flip: config.flip ? flipSpec(u.columns, u.flipPairs) : null,
        train: gatherUnitRows(trainSet, trainRows, u.columns),
        dev: gatherUnitRows(training, u.devRows, u.columns),
        seed,
        checkpointer: this.checkpointer,
        checkpointEveryEpochs: config.checkpointEveryEpochs,
        checkpointEveryMinutes: config.checkpointEveryMinutes,
        signal: this.signal,
        workers: this.loaded.workers,
        backend: this.loaded.backend.name,
        onBatch: (done, total) => bar.batch(done, total),
        onCheckpoint: (at) =>
          void this.status.update({ lastCheckpointAt: at.toISOString() }).catch(() => undefined),
        onEpoch: async (m, p) => {
          history = appendEpoch(history, m);
          epochSeconds.push(m.seconds);
          await store.put(metricsKey, formatMetricsCsv(history));
          const eta = this.eta(u, m.epoch, epochSeconds);
          bar.epoch(m, p.maxEpochs, eta.unit);
          await this.status.update({
            epoch: m.epoch,
            maxEpochs: p.maxEpochs,
            bestDevRmsePx: p.bestDevRmsePx,
            imagesPerSecond: m.imagesPerSecond,
            etaPhaseSeconds: eta.phase,
            etaRunSeconds: eta.run,
          });
        },
      });
      bar.stop();
      progress = null;
      if (result.interrupted) return 'interrupted';

      await store.put(metricsKey, formatMetricsCsv(result.history));
      await saveModel(model, store, u.unit);
      const marker: DoneMarker = {
        unit: u.unit,
        trainRows: trainRows.length,
        devRows: u.devRows.length,
        params: u.params,
        maxEpochs: u.maxEpochs,
        epochsRun: result.history.length,
        bestEpoch: result.bestEpoch,
        bestDevRmsePx: result.bestDevRmsePx,
        stoppedEarly: result.stoppedEarly,
        trainSeconds: result.history.reduce((s, h) => s + h.seconds, 0),
        finishedAt: new Date().toISOString(),
      };
      // The marker goes last: it promises that the model and metrics above are complete.
      await store.put(runLayout.unitDone(u.unit), `${JSON.stringify(marker, null, 2)}\n`);
      this.log(
        `${u.unit}: best dev RMSE ${result.bestDevRmsePx.toFixed(2)} px at epoch ${result.bestEpoch}` +
          `${result.stoppedEarly ? ' (stopped early)' : ''}`,
      );
      return 'done';
    } finally {
      progress?.stop();
      model.dispose();
    }
  }

  /** Time left: this unit from its own epoch times, later units from the plan scaled by how far off it was. */
  private eta(
    u: PlannedUnit,
    epoch: number,
    epochSeconds: number[],
  ): { unit: number; phase: number; run: number } {
    const perEpoch = epochSeconds.reduce((a, b) => a + b, 0) / Math.max(1, epochSeconds.length);
    const unitLeft = Math.max(0, u.maxEpochs - epoch) * perEpoch;
    const plannedPerEpoch =
      u.estimatedSeconds !== null && u.maxEpochs > 0 ? u.estimatedSeconds / u.maxEpochs : null;
    const scale = plannedPerEpoch && plannedPerEpoch > 0 ? perEpoch / plannedPerEpoch : 1;
    const units = this.loaded.plan.units;
    const later = units.slice(units.indexOf(u) + 1).filter((x) => x.network !== null && !x.done);
    const left = (xs: PlannedUnit[]) => xs.reduce((s, x) => s + (x.estimatedSeconds ?? 0) * scale, 0);
    return {
      unit: unitLeft,
      phase: unitLeft + left(later.filter((x) => x.model === u.model)),
      run: unitLeft + left(later),
    };
  }
}

/** Evaluate every model on the dev rows and the test images, then write the report. */
async function report(
  config: TrainConfig,
  store: Store,
  loaded: Loaded,
  loadingSeconds: number,
  startedAt: Date,
  instanceType: string | null,
  log: (line: string) => void,
): Promise<RunSummary> {
  const evalStart = Date.now();
  const { data, split, plan } = loaded;
  const dev = { ...gatherAllColumns(data.training, split.dev), rows: split.dev };
  const trainLabels = gatherAllColumns(data.training, split.train).labelsPx;
  const means = meanModel(trainLabels, split.train.length);
  const repeat = (count: number) => {
    const out = new Float32Array(count * COORDINATES);
    for (let r = 0; r < count; r++) out.set(means, r * COORDINATES);
    return out;
  };
  const models: ModelPredictions[] = [
    { name: 'mean', devPredPx: repeat(dev.count), testPredPx: repeat(data.test.count), trainSeconds: 0 },
  ];
  const units: UnitSummary[] = [];
  const curves: UnitCurve[] = [];
  const phases = [{ name: 'loading', seconds: loadingSeconds }];

  const groups = new Map<ModelName, PlannedUnit[]>();
  for (const u of plan.units)
    if (u.network !== null) groups.set(u.model, [...(groups.get(u.model) ?? []), u]);
  for (const [name, groupUnits] of groups) {
    const devPredPx = new Float32Array(dev.count * COORDINATES).fill(Number.NaN);
    const testPredPx = new Float32Array(data.test.count * COORDINATES).fill(Number.NaN);
    let trainSeconds = 0;
    for (const u of groupUnits) {
      const marker = await readDoneMarker(store, u.unit);
      units.push(UnitSummarySchema.parse(marker));
      trainSeconds += marker.trainSeconds;
      const metrics = await store.get(runLayout.metrics(u.unit));
      const history: EpochMetrics[] = metrics
        ? parseMetricsCsv(metrics.toString('utf8'), runLayout.metrics(u.unit))
        : [];
      curves.push({
        unit: u.unit,
        bestEpoch: marker.bestEpoch,
        points: history.map((h) => ({
          epoch: h.epoch,
          trainRmsePx: lossToRmsePx(h.trainLoss),
          devRmsePx: h.devRmsePx,
        })),
      });
      const model = await loadModel(store, u.unit);
      try {
        const cols = u.columns.map(columnIndex);
        scatter(devPredPx, predictPx(model, dev.pixels, dev.count, config.batchSize), cols);
        scatter(testPredPx, predictPx(model, data.test.pixels, data.test.count, config.batchSize), cols);
      } finally {
        model.dispose();
      }
    }
    models.push({ name, devPredPx, testPredPx, trainSeconds });
    phases.push({ name, seconds: trainSeconds });
  }
  phases.push({ name: 'evaluation', seconds: (Date.now() - evalStart) / 1000 });
  const totalSeconds = phases.reduce((s, p) => s + p.seconds, 0);
  const envPrice = Number(process.env.FACEPOINTS_HOURLY_PRICE_USD);
  const hourlyPriceUsd =
    Number.isFinite(envPrice) && envPrice > 0
      ? envPrice
      : instanceType
        ? (ON_DEMAND_USD_PER_HOUR[instanceType] ?? null)
        : null;

  const summary = await writeReport(store, {
    runId: config.runId,
    preset: config.preset,
    backend: loaded.backend.name,
    gpuName: loaded.backend.gpuName,
    instanceType,
    startedAt,
    finishedAt: new Date(),
    phases,
    totalSeconds,
    hourlyPriceUsd,
    trainRows: split.train.length,
    dev,
    test: data.test,
    lookup: data.lookup,
    models,
    units,
    curves,
  });
  for (const m of summary.models) log(`${m.name.padEnd(22)} dev RMSE ${m.devRmsePx.toFixed(2)} px`);
  return summary;
}

/** Put a unit's `cols.length` outputs per row into their places among the 30 columns. */
function scatter(target: Float32Array, unitPred: Float32Array, cols: number[]): void {
  const rows = unitPred.length / cols.length;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols.length; c++) target[r * COORDINATES + cols[c]] = unitPred[r * cols.length + c];
  }
}

async function readDoneMarker(store: Store, unit: string): Promise<DoneMarker> {
  const key = runLayout.unitDone(unit);
  const body = await store.get(key);
  if (body === null) throw new Error(`report: expected ${key} in ${store.url}, found nothing`);
  return JSON.parse(body.toString('utf8')) as DoneMarker;
}

async function readStatusState(store: Store): Promise<string | null> {
  const body = await store.get(runLayout.status);
  if (body === null) return null;
  try {
    return (JSON.parse(body.toString('utf8')) as { state?: string }).state ?? null;
  } catch {
    return null;
  }
}

/** A fixed seed per unit, so a unit's initial weights do not depend on which units ran before it. */
export function unitSeed(seed: number, unit: string): number {
  let h = 2166136261;
  for (let i = 0; i < unit.length; i++) h = Math.imul(h ^ unit.charCodeAt(i), 16777619);
  return ((h ^ seed) >>> 0) % 2147483647;
}

function describeAbort(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return typeof reason === 'string' ? reason : 'interrupted';
}
