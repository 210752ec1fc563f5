import * as path from 'node:path';
import type { TrainConfig } from '../config';
import type { RunSummary } from '../../contracts/run-summary';
import { runLayout } from '../../contracts/run-layout';
import { DATA_CACHE_FOLDER, defaultScratchDir } from '../storage/data-cache';
import type { Store } from '../storage/store';
import { checkResumedConfig } from './config-file';
import { HashedWrites } from './hashed-writes';
import { loadAndPlan, type LoadedRun } from './load-run';
import { formatPlan, isTrained, type RunPlan } from './plan';
import type { ProgressOptions } from './progress';
import { evaluateAndReport } from './report-inputs';
import { readRunState, readSummary } from './run-files';
import { defaultRunServices, type RunServices } from './run-services';
import { StatusReporter } from './status-reporter';
import { UnitTrainer } from './unit-trainer';

export interface RunDeps {
  /** Progress and messages. @default a line on stderr */
  log?: (line: string) => void;
  /** Storage and machine services; any missing one comes from defaultRunServices(). */
  services?: Partial<RunServices>;
  progress?: ProgressOptions;
  /** EC2 instance type for the status and the cost (the command line reads FACEPOINTS_INSTANCE_TYPE). @default null */
  instanceType?: string | null;
  /** Instance price for the cost (the command line reads FACEPOINTS_HOURLY_PRICE_USD). @default the on-demand price of instanceType */
  hourlyPriceUsd?: number | null;
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

/**
 * Train a run unit by unit, resumable at any point: the configuration is written once and checked on
 * resume, finished units (done marker present) are never retrained, the unit in progress continues from
 * its latest checkpoint, and the report is written at the end. A run that already succeeded returns at
 * once. Failures are recorded in status.json and rethrown.
 */
export async function runTraining(config: TrainConfig, deps: RunDeps = {}): Promise<RunOutcome> {
  const log = deps.log ?? logToStderr;
  const services: RunServices = { ...defaultRunServices(), ...deps.services };
  const runStore = services.openStore(config.out).child(config.runId);
  const runUrl = runStore.url;

  await checkResumedConfig(runStore, config);
  const previous = await readRunState(runStore);
  if (previous === 'succeeded') {
    log(`run ${config.runId} already succeeded; its results are in ${runUrl}/${runLayout.reportDir}`);
    return { state: 'succeeded', runUrl, summary: await readSummary(runStore) };
  }

  // Results are hashed as they are written, so the results manifest needs no read-back.
  const store = new HashedWrites(runStore);
  const startedAt = new Date();
  const instanceType = deps.instanceType ?? null;
  const status = new StatusReporter(
    runStore,
    { runId: config.runId, startedAt, instanceType },
    { heartbeatMs: deps.heartbeatMs },
  );
  // Written once: a resumed run is checked against it (checkResumedConfig) and keeps it as it was.
  if ((await store.get(runLayout.config)) === null)
    await store.put(runLayout.config, `${JSON.stringify(config, null, 2)}\n`);
  await status.start();
  log(`run ${config.runId}${previous ? ` (resuming a run that was ${previous})` : ''}: writing to ${runUrl}`);

  const interruptions = services.watchInterruptions(log);
  const signal = deps.signal ? AbortSignal.any([interruptions.signal, deps.signal]) : interruptions.signal;
  const checkpointer = services.createCheckpointer(runStore, log);
  try {
    await status.update({ phase: 'loading' });
    const loadStart = Date.now();
    const loaded = await loadAndPlan(config, store, services, cacheDir(deps), log);
    const loadingSeconds = (Date.now() - loadStart) / 1000;
    await status.update({ backend: loaded.backend.name, gpuName: loaded.backend.gpuName });
    log(formatPlan(loaded.plan, loaded.backend.name));

    const trainer = new UnitTrainer({
      settings: config,
      store,
      checkpointer,
      status,
      loaded,
      signal,
      progress: deps.progress ?? {},
      log,
    });
    if ((await trainUnits(trainer, loaded, log)) === 'interrupted') {
      const reason = describeAbort(signal.reason);
      log(`interrupted (${reason}): checkpoint saved; re-run the same command to resume`);
      await checkpointer.flush();
      await finishStatus(status, store, 'interrupted', { interruption: reason });
      return { state: 'interrupted', runUrl, summary: null };
    }

    await status.update({ phase: 'report', model: null, epoch: null, maxEpochs: null });
    const summary = await evaluateAndReport({
      settings: config,
      store,
      loaded,
      predictions: trainer.predictions,
      written: store.written(),
      loadingSeconds,
      startedAt,
      instanceType,
      hourlyPriceUsd: deps.hourlyPriceUsd ?? null,
      log,
    });
    // "succeeded" promises the results are in the store: every queued upload lands before the status says so.
    await checkpointer.flush();
    await store.flush();
    await finishStatus(status, store, 'succeeded', { phase: 'done' });
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

/** Record the final state and wait until it, and everything before it, is in the store. */
async function finishStatus(
  status: StatusReporter,
  store: Store,
  ...final: Parameters<StatusReporter['finish']>
): Promise<void> {
  await status.finish(...final);
  await status.flush();
  await store.flush();
}

/** Every planned unit not finished earlier, in plan order, until one is interrupted. */
async function trainUnits(
  trainer: UnitTrainer,
  loaded: LoadedRun,
  log: (line: string) => void,
): Promise<'done' | 'interrupted'> {
  for (const unit of loaded.plan.units.filter(isTrained)) {
    if (unit.done) {
      log(`${unit.unit}: finished earlier, not retrained`);
      continue;
    }
    if ((await trainer.train(unit)) === 'interrupted') return 'interrupted';
  }
  return 'done';
}

/**
 * `--dry-run`: load and validate the data, pick the backend, measure its speed and print the plan.
 * Reads the run store (to mark finished units) but writes nothing.
 */
export async function dryRun(config: TrainConfig, deps: RunDeps = {}): Promise<RunPlan> {
  const log = deps.log ?? logToStderr;
  const services: RunServices = { ...defaultRunServices(), ...deps.services };
  const store: Store = services.openStore(config.out).child(config.runId);
  await checkResumedConfig(store, config);
  const loaded = await loadAndPlan(config, store, services, cacheDir(deps), log);
  log(formatPlan(loaded.plan, loaded.backend.name));
  return loaded.plan;
}

function cacheDir(deps: RunDeps): string {
  return path.resolve(deps.scratchDir ?? defaultScratchDir(), DATA_CACHE_FOLDER);
}

function logToStderr(line: string): void {
  process.stderr.write(`${line}\n`);
}

function describeAbort(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return typeof reason === 'string' ? reason : 'interrupted';
}
