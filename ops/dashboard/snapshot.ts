import { SPECIALISTS } from '../../contracts/keypoints';
import { MODEL_NAMES, runLayout, unitId } from '../../contracts/run-layout';
import { type RunStatus, RunStatusSchema, STALE_HEARTBEAT_SECONDS } from '../../contracts/run-status';
import { formatDuration } from '../../common/format';
import { parseJson } from '../../common/parse-json';
import { splitRunAsStatus, summarizeSplitRun } from '../../common/split-run-status';
import { readMetrics, readSummary } from '../../trainer/run/run-files';
import type { Store } from '../../trainer/storage/store';
import { TrainConfigSchema } from '../../trainer/config';
import { lossToRmsePx } from '../../trainer/train/metrics';
import { bestRmse } from '../commands/runs';
import type { StatusReport } from '../commands/status';
import { secondsBetween } from '../format/units';
import type { BatchJobs, CostSoFar, RunRow, RunSnapshot, RunsSnapshot, UnitCurve, Unreachable } from './api';

/** Where the dashboard reads runs from: a store holding one folder per run, and what AWS adds. */
export interface DashboardSource {
  /** The store of runs (`--out`, or `s3://BUCKET/runs/` of the deployment); run `X` lives under `X/`. */
  store: Store;
  /**
   * `facepoints status`'s report of a run (instance, cost so far, its stale-heartbeat verdict) when the
   * runs are those of the deployment; absent for any other store.
   */
  awsStatus?: (runId: string) => Promise<StatusReport>;
  now: () => Date;
}

async function readStatusFile(run: Store, key: string): Promise<RunStatus | null> {
  const body = await run.get(key);
  return body === null ? null : parseJson(body.toString('utf8'), RunStatusSchema, `${run.url}/${key}`);
}

/**
 * status.json of one run, through the schema the trainer writes it with; null before the first beat. A run
 * split into `train --units` jobs (engine=batch) has no status.json until its report job: then its unit
 * statuses (`status/<unit>.json`, same schema) stand for it, summarized as `facepoints runs` does.
 */
export async function readStatus(run: Store): Promise<RunStatus | null> {
  const status = await readStatusFile(run, runLayout.status);
  if (status !== null) return status;
  const keys = (await run.list(runLayout.unitStatusRoot))
    .map((o) => o.key)
    .filter((k) => k.endsWith('.json'));
  const units = (await Promise.all(keys.map((k) => readStatusFile(run, k)))).filter(
    (u): u is RunStatus => u !== null,
  );
  const split = summarizeSplitRun(units);
  return split && splitRunAsStatus(split);
}

/**
 * Unit ids with a metrics file (`metrics/specialists/nose-tip.csv` -> `specialists/nose-tip`), in the order
 * the run trains them: the model ladder, then the specialists in their settings' order.
 */
export async function listMetricUnits(run: Store): Promise<string[]> {
  const prefix = runLayout.metrics('');
  const units: string[] = [];
  for (const o of await run.list(prefix.slice(0, prefix.lastIndexOf('/') + 1))) {
    const unit = o.key.slice(prefix.length - '.csv'.length).replace(/\.csv$/, '');
    if (runLayout.metrics(unit) === o.key) units.push(unit);
  }
  return units.sort((a, b) => trainingOrder(a) - trainingOrder(b));
}

const UNIT_ORDER = MODEL_NAMES.flatMap((m) => [unitId(m), ...SPECIALISTS.map((s) => unitId(m, s.name))]);

/** A unit's place in UNIT_ORDER; units the ladder does not know go last, in the store's order. */
function trainingOrder(unit: string): number {
  const i = UNIT_ORDER.indexOf(unit);
  return i === -1 ? UNIT_ORDER.length : i;
}

/** Run ids in the store: the folders with a status.json or a config.json, sorted (default ids sort by start). */
export async function listRunIds(store: Store): Promise<string[]> {
  const ids = new Set<string>();
  for (const o of await store.list('')) {
    const [id, ...rest] = o.key.split('/');
    const relative = rest.join('/');
    if (id && (relative === runLayout.status || relative === runLayout.config)) ids.add(id);
  }
  return [...ids].sort();
}

/** Everything the page shows of one run; a store that cannot be read gives `Unreachable` instead of throwing. */
export async function runSnapshot(src: DashboardSource, runId: string): Promise<RunSnapshot | Unreachable> {
  const now = src.now();
  try {
    const run = src.store.child(`${runId}/`);
    const [status, summary, units, files, aws] = await Promise.all([
      readStatus(run),
      readSummary(run),
      listMetricUnits(run),
      run.list(`${runLayout.reportDir}/`),
      src.awsStatus ? src.awsStatus(runId) : Promise.resolve(null),
    ]);
    const curves = await Promise.all(
      units.map(async (unit): Promise<UnitCurve> => {
        const history = await readMetrics(run, unit);
        return {
          unit,
          epochs: history.map((m) => m.epoch),
          trainRmsePx: history.map((m) => lossToRmsePx(m.trainLoss)),
          devRmsePx: history.map((m) => m.devRmsePx),
        };
      }),
    );
    const heartbeatAgeSeconds = secondsBetween(status?.updatedAt, now);
    const keys = new Set(files.map((f) => f.key));
    return {
      reconnecting: false,
      runId,
      runUrl: run.url,
      checkedAt: now.toISOString(),
      status,
      heartbeatAgeSeconds,
      staleWarning: aws ? aws.staleHeartbeat : staleWarning(status, heartbeatAgeSeconds),
      cost: costSoFar(aws),
      batch: batchJobs(aws),
      units: curves,
      // The trainer records it once the data is loaded; runs from before that have it only in the report.
      meanDevRmsePx:
        status?.meanDevRmsePx ?? summary?.models.find((m) => m.name === 'mean')?.devRmsePx ?? null,
      summary,
      images: {
        bestWorst: keys.has(runLayout.bestWorst),
        learningCurves: keys.has(runLayout.learningCurves),
      },
    };
  } catch (err) {
    return unreachable(err, now);
  }
}

/** The instance's cost so far, else the Batch jobs' (an engine=batch run has no instance of its own). */
function costSoFar(aws: StatusReport | null): CostSoFar | null {
  const c = aws?.cost ?? aws?.batch?.cost;
  return c ? { usd: c.usd, hours: c.hours, usdPerHour: c.usdPerHour, priceSource: c.priceSource } : null;
}

function batchJobs(aws: StatusReport | null): BatchJobs | null {
  const b = aws?.batch;
  if (!b) return null;
  return {
    execution: b.execution ? { status: b.execution.status, error: b.execution.error } : null,
    executionNote: b.executionNote,
    jobs: b.jobs.map(({ unit, status, attempts, statusReason }) => ({
      unit,
      status,
      attempts,
      statusReason,
    })),
    jobsNote: b.jobsNote,
  };
}

/** The runs view: one row per run of the store, side by side. */
export async function runsSnapshot(src: DashboardSource): Promise<RunsSnapshot | Unreachable> {
  const now = src.now();
  try {
    const ids = await listRunIds(src.store);
    const runs: RunRow[] = [];
    // A few runs at a time: a bucket with hundreds of runs should not open hundreds of sockets.
    for (let i = 0; i < ids.length; i += RUNS_AT_ONCE)
      runs.push(
        ...(await Promise.all(
          ids.slice(i, i + RUNS_AT_ONCE).map(async (runId): Promise<RunRow> => {
            try {
              return await runRow(src.store.child(`${runId}/`), runId, now);
            } catch (err) {
              return { ...EMPTY_ROW, runId, state: 'unreadable', error: errorText(err) };
            }
          }),
        )),
      );
    return { reconnecting: false, storeUrl: src.store.url, checkedAt: now.toISOString(), runs };
  } catch (err) {
    return unreachable(err, now);
  }
}

const RUNS_AT_ONCE = 8;

const EMPTY_ROW: RunRow = {
  runId: '',
  state: '',
  phase: null,
  preset: null,
  startedAt: null,
  seconds: null,
  costUsd: null,
  bestDevRmsePx: {},
  bestModel: null,
  error: null,
};

async function runRow(run: Store, runId: string, now: Date): Promise<RunRow> {
  const [status, summary, preset] = await Promise.all([readStatus(run), readSummary(run), readPreset(run)]);
  const best = summary ? bestRmse(summary) : null;
  const bestDevRmsePx: Record<string, number> = {};
  if (summary) for (const m of summary.models) bestDevRmsePx[m.name] = m.devRmsePx;
  else if (status?.model && status.bestDevRmsePx !== null) bestDevRmsePx[status.model] = status.bestDevRmsePx;
  return {
    runId,
    state: status?.state ?? 'no status',
    phase: status?.phase ?? null,
    preset: summary?.preset ?? preset,
    startedAt: status?.startedAt ?? summary?.startedAt ?? null,
    seconds:
      summary?.totalSeconds ??
      secondsBetween(status?.startedAt, status?.finishedAt ? new Date(status.finishedAt) : now),
    costUsd: summary?.costUsd ?? null,
    bestDevRmsePx,
    bestModel: best?.model ?? null,
    error: null,
  };
}

/** The preset a run was started with, from its config.json (read through the trainer's schema); null before it exists. */
async function readPreset(run: Store): Promise<string | null> {
  const body = await run.get(runLayout.config);
  if (body === null) return null;
  return parseJson(body.toString('utf8'), PresetOfConfig, `${run.url}/${runLayout.config}`).preset;
}

const PresetOfConfig = TrainConfigSchema.pick({ preset: true });

/** The same rule as `facepoints status` without an instance to ask: running, but five beats missed. */
export function staleWarning(status: RunStatus | null, ageSeconds: number | null): string | null {
  if (status?.state !== 'running' || ageSeconds === null || ageSeconds <= STALE_HEARTBEAT_SECONDS)
    return null;
  return `STALE: no heartbeat for ${formatDuration(ageSeconds)} (expected at least every minute); the trainer may have stopped without recording its end`;
}

function unreachable(err: unknown, now: Date): Unreachable {
  return {
    reconnecting: true,
    error: errorText(err),
    checkedAt: now.toISOString(),
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
