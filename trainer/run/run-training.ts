import * as path from 'node:path';
import type { TrainConfig } from '../config';
import type { RunSummary } from '../../contracts/run-summary';
import { runLayout } from '../../contracts/run-layout';
import type { UnitLease } from '../../contracts/run-status';
import { DATA_CACHE_FOLDER, defaultScratchDir } from '../storage/data-cache';
import type { Store } from '../storage/store';
import { checkResumedConfig } from './config-file';
import { HashedWrites } from './hashed-writes';
import { loadAndPlan } from './load-run';
import { Leases } from './lease';
import { formatPlan, type RunPlan, type TrainedUnit } from './plan';
import type { ProgressOptions } from './progress';
import { evaluateAndReport, meanDevRmsePx } from './report-inputs';
import { readRunState, readSummary } from './run-files';
import { defaultRunServices, type RunServices } from './run-services';
import { StatusReporter } from './status-reporter';
import { UnitTrainer, type UnitTrainerContext } from './unit-trainer';
import { ALL_UNITS, type RunScope, unitsInScope } from './unit-scope';
import { describePlanEngines } from './engine-estimate';

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
  /** Time between writing a unit's lease and reading it back (Leases). @default 2000 */
  leaseSettleMs?: number;
}

export interface RunOutcome {
  /**
   * `succeeded`: the report is written. `trained`: the units of a `--units` invocation are finished (the
   * run needs `report` once all are). `interrupted`: stopped with a checkpoint, resume with the same
   * command. `busy`: a unit is being trained by another process (its lease is live); try again later.
   */
  state: 'succeeded' | 'trained' | 'interrupted' | 'busy';
  /** The run directory, e.g. file:///home/me/runs/20261129-043000. */
  runUrl: string;
  /** The run's summary when it succeeded (read back when it had already succeeded). */
  summary: RunSummary | null;
  /** Units this invocation trained to the end. */
  trained: string[];
  /** When `busy`: the unit and who holds it. */
  busy: UnitLease | null;
}

/**
 * Train a run unit by unit, resumable at any point: the configuration is written once and checked on
 * resume, finished units (done marker present) are never retrained, the unit in progress continues from
 * its latest checkpoint, and the report is written at the end. A run that already succeeded returns at
 * once. Failures are recorded in status.json and rethrown.
 *
 * `scope` narrows one invocation to some units (no report, no status.json: each unit gets its own
 * status file) or to the report alone. Every unit is trained under a lease, so two invocations never
 * train the same unit at once.
 */
export async function runTraining(
  config: TrainConfig,
  deps: RunDeps = {},
  scope: RunScope = ALL_UNITS,
): Promise<RunOutcome> {
  const log = deps.log ?? logToStderr;
  const services: RunServices = { ...defaultRunServices(), ...deps.services };
  const runStore = services.openStore(config.out).child(config.runId);
  const runUrl = runStore.url;

  await checkResumedConfig(runStore, config);
  const previous = await readRunState(runStore);
  if (previous === 'succeeded') {
    log(`run ${config.runId} already succeeded; its results are in ${runUrl}/${runLayout.reportDir}`);
    return { ...ended('succeeded', runUrl), summary: await readSummary(runStore) };
  }

  // Results are hashed as they are written, so the results manifest needs no read-back.
  const store = new HashedWrites(runStore);
  const startedAt = new Date();
  const instanceType = deps.instanceType ?? null;
  // status.json belongs to invocations that end in the report; `--units` ones write one file per unit.
  const runStatus =
    scope.kind === 'units'
      ? null
      : new StatusReporter(
          runStore,
          { runId: config.runId, startedAt, instanceType },
          { heartbeatMs: deps.heartbeatMs },
        );
  // Written once: a resumed run is checked against it (checkResumedConfig) and keeps it as it was.
  if ((await store.get(runLayout.config)) === null)
    await store.put(runLayout.config, `${JSON.stringify(config, null, 2)}\n`);
  await runStatus?.start();
  log(
    `run ${config.runId}${previous ? ` (resuming a run that was ${previous})` : ''}${describeScope(scope)}: writing to ${runUrl}`,
  );

  const interruptions = services.watchInterruptions(log);
  const leaseLost = new AbortController();
  const signal = AbortSignal.any([
    interruptions.signal,
    leaseLost.signal,
    ...(deps.signal ? [deps.signal] : []),
  ]);
  const checkpointer = services.createCheckpointer(runStore, log);
  // A store of its own: flushing a lease write must not wait for queued checkpoint uploads.
  const leases = new Leases(services.openStore(config.out).child(config.runId), {
    renewMs: deps.heartbeatMs,
    settleMs: deps.leaseSettleMs,
    log,
  });
  const unitStatuses = new Map<string, StatusReporter>();
  try {
    await runStatus?.update({ phase: scope.kind === 'report' ? 'report' : 'loading' });
    const loadStart = Date.now();
    const loaded = await loadAndPlan(loadSettings(config, scope), store, services, cacheDir(deps), log, {
      measureSpeed: scope.kind !== 'report',
    });
    const loadingSeconds = (Date.now() - loadStart) / 1000;
    // Every status of the run (status.json, status/<unit>.json) carries what is known once the data is loaded.
    const loadedStatus = {
      backend: loaded.backend.name,
      gpuName: loaded.backend.gpuName,
      meanDevRmsePx: meanDevRmsePx(loaded),
    };
    await runStatus?.update(loadedStatus);
    log(formatPlan(loaded.plan, loaded.backend.name));
    const units = unitsInScope(loaded.plan, scope, runUrl);

    const context: Omit<UnitTrainerContext, 'status'> = {
      settings: config,
      store,
      checkpointer,
      loaded,
      signal,
      progress: deps.progress ?? {},
      log,
    };
    // One trainer for a whole run (it keeps the augmented set and the predictions for the report);
    // one per unit when each unit reports its own status.
    const shared = runStatus ? new UnitTrainer({ ...context, status: runStatus }) : null;
    const trainerFor = async (unit: string): Promise<UnitTrainer> => {
      if (shared) return shared;
      const status = new StatusReporter(
        runStore,
        { runId: config.runId, startedAt: new Date(), instanceType },
        { heartbeatMs: deps.heartbeatMs, key: runLayout.unitStatus(unit) },
      );
      unitStatuses.set(unit, status);
      await status.start();
      await status.update(loadedStatus);
      return new UnitTrainer({ ...context, status });
    };

    // A unit's own status ends with the unit, before the next one starts.
    const unitEnded = async (unit: string, ended: 'done' | 'interrupted'): Promise<void> => {
      const status = unitStatuses.get(unit);
      if (!status) return;
      unitStatuses.delete(unit);
      if (ended === 'done') await finishStatus(status, store, 'succeeded', { phase: 'done' });
      else await finishStatus(status, store, 'interrupted', { interruption: describeAbort(signal.reason) });
    };
    const outcome = await trainUnits(units, { trainerFor, unitEnded, leases, leaseLost, store, log });
    if (outcome.ended === 'busy') {
      const b = outcome.busy;
      log(
        `${b.unit}: being trained by ${b.holder} (lease until ${b.expiresAt}); not trained here, try again later`,
      );
      await checkpointer.flush();
      if (runStatus) await finishStatus(runStatus, store, 'interrupted', { interruption: `busy: ${b.unit}` });
      else await store.flush();
      return { ...ended('busy', runUrl), trained: outcome.trained, busy: b };
    }
    if (outcome.ended === 'interrupted') {
      const reason = describeAbort(signal.reason);
      log(`interrupted (${reason}): checkpoint saved; re-run the same command to resume`);
      await checkpointer.flush();
      if (runStatus) await finishStatus(runStatus, store, 'interrupted', { interruption: reason });
      else await store.flush();
      return { ...ended('interrupted', runUrl), trained: outcome.trained };
    }
    if (!runStatus) {
      await checkpointer.flush();
      await store.flush();
      log(
        `run ${config.runId}: ${units.map((u) => u.unit).join(', ')} finished; ` +
          'write the report with `facepoints report` once every unit is',
      );
      return { ...ended('trained', runUrl), trained: outcome.trained };
    }

    await runStatus.update({ phase: 'report', model: null, epoch: null, maxEpochs: null });
    const summary = await evaluateAndReport({
      settings: config,
      store,
      loaded,
      predictions: shared?.predictions ?? new Map(),
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
    await finishStatus(runStatus, store, 'succeeded', { phase: 'done' });
    log(`run ${config.runId} succeeded: report in ${runUrl}/${runLayout.reportMarkdown}`);
    return { ...ended('succeeded', runUrl), summary, trained: outcome.trained };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    for (const status of [runStatus, ...unitStatuses.values()])
      await status?.finish('failed', { error: message }).catch(() => undefined);
    await store.flush().catch(() => undefined);
    throw err;
  } finally {
    runStatus?.stop();
    for (const status of unitStatuses.values()) status.stop();
    interruptions.dispose();
  }
}

function ended(state: RunOutcome['state'], runUrl: string): RunOutcome {
  return { state, runUrl, summary: null, trained: [], busy: null };
}

function describeScope(scope: RunScope): string {
  if (scope.kind === 'units') return `, units ${scope.units.join(', ')}`;
  return scope.kind === 'report' ? ', report only' : '';
}

/** The report trains nothing: it runs wherever it is started, GPU or not. */
function loadSettings(config: TrainConfig, scope: RunScope): TrainConfig {
  return scope.kind === 'report' ? { ...config, requireGpu: false } : config;
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

interface TrainUnitsContext {
  trainerFor(unit: string): Promise<UnitTrainer>;
  /** Called when a unit this invocation trained finishes or is interrupted. */
  unitEnded(unit: string, ended: 'done' | 'interrupted'): Promise<void>;
  leases: Leases;
  /** Aborted when a held lease is lost, which interrupts the unit in training. */
  leaseLost: AbortController;
  store: Store;
  log: (line: string) => void;
}

type TrainUnitsOutcome =
  | { ended: 'done' | 'interrupted'; trained: string[] }
  | { ended: 'busy'; trained: string[]; busy: UnitLease };

/**
 * The given units not finished earlier, in plan order, each under its lease, until one is interrupted
 * or held by another process. A unit another process finished meanwhile is not trained again.
 */
async function trainUnits(units: readonly TrainedUnit[], c: TrainUnitsContext): Promise<TrainUnitsOutcome> {
  const trained: string[] = [];
  for (const unit of units) {
    if (unit.done) {
      c.log(`${unit.unit}: finished earlier, not retrained`);
      continue;
    }
    const lease = await c.leases.acquire(unit.unit);
    if (!lease.held) return { ended: 'busy', trained, busy: lease.current };
    const onLost = () => c.leaseLost.abort(lease.lost.reason);
    lease.lost.addEventListener('abort', onLost);
    try {
      if ((await c.store.get(runLayout.unitDone(unit.unit))) !== null) {
        c.log(`${unit.unit}: finished by another process, not retrained`);
        continue;
      }
      const trainer = await c.trainerFor(unit.unit);
      const ended = await trainer.train(unit);
      await c.unitEnded(unit.unit, ended);
      if (ended === 'interrupted') return { ended: 'interrupted', trained };
      trained.push(unit.unit);
    } finally {
      lease.lost.removeEventListener('abort', onLost);
      await lease.release();
    }
  }
  return { ended: 'done', trained };
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
  for (const line of describePlanEngines(loaded.plan, deps.instanceType ?? null)) log(line);
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
