import { ON_DEMAND_USD_PER_HOUR, PRICES_AS_OF, PRICES_REGION } from '../contracts/instance-prices';
import type { BatchJob } from './aws/batch';

/** The job name prefix of a run, as lib/constructs/batch-run.ts names its jobs (dots are not allowed). */
export function batchJobPrefix(runId: string): string {
  return `${runId.replace(/\./g, '_')}-`;
}

/** The job of one unit (or of the report) as `status` shows it. */
export interface UnitJob {
  /** `baseline`, `specialists/<name>`, or `report`. */
  unit: string;
  jobId: string;
  status: string;
  statusReason: string | null;
  attempts: number;
  /** The ECS container instance of the running attempt (its id, the last part of the ARN). */
  containerInstance: string | null;
}

/**
 * One row per unit from the run's jobs: the newest job wins, since re-running an execution submits the
 * same unit again. The unit comes from the job's `units` parameter; the report job has none.
 */
export function unitJobs(jobs: readonly BatchJob[], runId: string): UnitJob[] {
  const prefix = batchJobPrefix(runId);
  const newest = new Map<string, BatchJob>();
  for (const job of jobs) {
    if (!job.jobName.startsWith(prefix)) continue;
    const unit = job.units ?? job.jobName.slice(prefix.length);
    const seen = newest.get(unit);
    if (!seen || (job.createdAt?.getTime() ?? 0) > (seen.createdAt?.getTime() ?? 0)) newest.set(unit, job);
  }
  return [...newest.entries()]
    .sort(([a], [b]) => unitOrder(a) - unitOrder(b) || a.localeCompare(b))
    .map(([unit, job]) => ({
      unit,
      jobId: job.jobId,
      status: job.status,
      statusReason: job.statusReason,
      attempts: job.attempts.length + (job.current ? 1 : 0),
      containerInstance: job.current?.containerInstanceArn?.split('/').pop() ?? null,
    }));
}

function unitOrder(unit: string): number {
  if (unit === 'baseline') return 0;
  if (unit === 'report') return 2;
  return 1;
}

/**
 * Instance hours of the run's jobs: every finished attempt from start to stop, plus the running attempt
 * until now. Each job has a GPU instance to itself (it asks for one GPU), so job hours are instance hours;
 * instance boot and idle time before Batch scales in are not counted.
 */
export function batchJobHours(jobs: readonly BatchJob[], now: Date): number {
  let ms = 0;
  for (const job of jobs) {
    for (const a of job.attempts) {
      if (a.startedAt && a.stoppedAt) ms += Math.max(0, a.stoppedAt.getTime() - a.startedAt.getTime());
    }
    if (job.current && job.startedAt) ms += Math.max(0, now.getTime() - job.startedAt.getTime());
  }
  return ms / 3600_000;
}

export interface BatchCostEstimate {
  hours: number;
  /** The price used: the dearest of the allowed types, since Batch does not say which one it launched. */
  usdPerHour: number | null;
  usd: number | null;
  priceSource: string;
  /** Jobs still running: the estimate grows. */
  running: number;
  asOf: string;
}

/** Job hours times the on-demand list price; with spot the real cost is lower, so it is an upper bound. */
export function estimateBatchCost(
  jobs: readonly BatchJob[],
  instanceTypes: readonly string[],
  spot: boolean,
  now: Date,
): BatchCostEstimate {
  const hours = batchJobHours(jobs, now);
  const priced = instanceTypes.filter((t) => ON_DEMAND_USD_PER_HOUR[t] !== undefined);
  const usdPerHour = priced.length ? Math.max(...priced.map((t) => ON_DEMAND_USD_PER_HOUR[t] ?? 0)) : null;
  const dearest = priced.find((t) => ON_DEMAND_USD_PER_HOUR[t] === usdPerHour);
  const priceSource =
    usdPerHour === null
      ? `no list price known for ${instanceTypes.join(', ') || 'the instance types (no InstanceType output)'}`
      : `on-demand list price of ${dearest}, ${PRICES_REGION}, as of ${PRICES_AS_OF}${
          instanceTypes.length > 1 ? ', the dearest allowed type' : ''
        }${spot ? '; spot costs less, so this is an upper bound' : ''}`;
  return {
    hours,
    usdPerHour,
    usd: usdPerHour === null ? null : hours * usdPerHour,
    priceSource,
    running: jobs.filter((j) => j.current).length,
    asOf: now.toISOString(),
  };
}
