import type { BatchClient } from '@aws-sdk/client-batch';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { Command } from 'commander';
import { z } from 'zod';
import { MODEL_NAMES, runLayout, trainedUnitIds } from '../../contracts/run-layout';
import {
  type RunStatus,
  RunStatusSchema,
  STALE_HEARTBEAT_SECONDS,
  UnitLeaseSchema,
} from '../../contracts/run-status';
import { UnitSummarySchema } from '../../contracts/run-summary';
import { listJobsByName } from '../aws/batch';
import { type ExecutionInfo, describeExecution } from '../aws/execution';
import { type InstanceInfo, describeInstance } from '../aws/instance';
import {
  type BatchCostEstimate,
  type UnitJob,
  batchJobPrefix,
  estimateBatchCost,
  unitJobs,
} from '../batch-run';
import { type OpsContext, emit, withContext, openRunReader, resolveRunId } from '../context';
import { formatDuration, formatUsd, formatUsdPerHour, renderFields, renderTable } from '../../common/format';
import { formatAgo, formatPx, secondsBetween } from '../format/units';
import { type LiveCostEstimate, estimateLiveCost } from '../live-cost';
import { durationOption } from '../../common/cli-options';
import { type CommonOptions, withCommonOptions } from '../options';
import type { S3RunReader } from '../s3-run-reader';
import { abortableSleep } from '../sleep';

export interface StatusReport {
  bucket: string;
  runId: string;
  runUrl: string;
  /** null while the run has not written its first status. */
  status: RunStatus | null;
  heartbeatAgeSeconds: number | null;
  /** Set when the run claims to be running but its heartbeat is older than STALE_HEARTBEAT_SECONDS. */
  staleHeartbeat: string | null;
  lastCheckpointAt: string | null;
  lastCheckpointAgeSeconds: number | null;
  instance: InstanceInfo | null;
  /** Why no instance is shown, when none is. */
  instanceNote: string | null;
  cost: LiveCostEstimate | null;
  /** Every trained unit of the run (from its config.json), in training order; empty before the run starts. */
  units: UnitState[];
  /** Only with engine=batch: the execution and each unit's job; null otherwise. */
  batch: BatchView | null;
  checkedAt: string;
}

/**
 * Where one unit stands. `done`: its done marker is in the run. `training`: a live status or lease says so.
 * `stalled`: its status says training but the heartbeat stopped (a killed job; a retry resumes it).
 * `interrupted` / `failed`: what its last `train --units` recorded. `pending`: nothing yet.
 */
export interface UnitState {
  unit: string;
  state: 'done' | 'training' | 'stalled' | 'interrupted' | 'failed' | 'pending';
  epoch: number | null;
  maxEpochs: number | null;
  bestDevRmsePx: number | null;
  /** The lease holder while one is live. */
  holder: string | null;
  /** The error or interruption when there is one. */
  note: string | null;
}

/** Where an engine=batch run stands in Step Functions and Batch; each part is blank with a note when it cannot be read. */
export interface BatchView {
  execution: ExecutionInfo | null;
  executionNote: string | null;
  jobs: UnitJob[];
  jobsNote: string | null;
  /** Instance hours of every job attempt times the list price. */
  cost: BatchCostEstimate | null;
}

/** What status asks Batch and Step Functions about an engine=batch run. */
export interface BatchSources {
  batch: BatchClient;
  sfn: SFNClient;
  jobQueueName: string | null;
  executionArn: string | null;
  instanceTypes: string[];
  spot: boolean;
}

export interface StatusSources {
  reader: S3RunReader;
  /** EC2 client and the instance working on this run; null when there is none to ask about. */
  ec2: EC2Client | null;
  instanceId: string | null;
  /** Explains a null instanceId in the report. */
  noInstanceReason?: string;
  /** Set on an engine=batch deployment for this run. */
  batch?: BatchSources;
  now: Date;
}

export async function collectStatus(src: StatusSources, runId: string): Promise<StatusReport> {
  const { reader, now } = src;
  const status = await reader.getStatus(runId);
  const lastCheckpoint =
    status?.lastCheckpointAt ?? (await reader.newestCheckpointAt(runId))?.toISOString() ?? null;

  let instance: InstanceInfo | null = null;
  let instanceNote: string | null = src.noInstanceReason ?? null;
  let cost: LiveCostEstimate | null = null;
  if (src.ec2 && src.instanceId) {
    // The run's own status is worth showing even when EC2 cannot be asked (a missing permission).
    try {
      instance = await describeInstance(src.ec2, src.instanceId);
      if (!instance)
        instanceNote = `instance ${src.instanceId} is no longer known to EC2 (terminated instances disappear after about an hour)`;
      else cost = await estimateLiveCost(src.ec2, instance, now);
    } catch (err) {
      instanceNote = err instanceof Error ? err.message : String(err);
    }
  }

  const heartbeatAgeSeconds = secondsBetween(status?.updatedAt, now);
  const [units, batch] = await Promise.all([
    collectUnits(reader, runId, status, now),
    src.batch ? collectBatch(src.batch, runId, now) : null,
  ]);
  return {
    bucket: reader.bucket,
    runId,
    runUrl: reader.url(runId),
    status,
    heartbeatAgeSeconds,
    staleHeartbeat: staleHeartbeat(status, heartbeatAgeSeconds, instance),
    lastCheckpointAt: lastCheckpoint,
    lastCheckpointAgeSeconds: secondsBetween(lastCheckpoint, now),
    instance,
    instanceNote,
    cost,
    units,
    batch,
    checkedAt: now.toISOString(),
  };
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The execution and the run's jobs, each read on its own so that a missing permission blanks only one. */
export async function collectBatch(src: BatchSources, runId: string, now: Date): Promise<BatchView> {
  const view: BatchView = { execution: null, executionNote: null, jobs: [], jobsNote: null, cost: null };
  const execution = async () => {
    if (!src.executionArn) {
      view.executionNote = 'unknown: the training stack has no ExecutionArn output';
      return;
    }
    try {
      view.execution = await describeExecution(src.sfn, src.executionArn);
      if (!view.execution)
        view.executionNote = `execution ${src.executionArn} is no longer known to Step Functions`;
    } catch (err) {
      view.executionNote = message(err);
    }
  };
  const jobs = async () => {
    if (!src.jobQueueName) {
      view.jobsNote = 'unknown: the training stack has no JobQueueName output';
      return;
    }
    try {
      const all = await listJobsByName(src.batch, src.jobQueueName, batchJobPrefix(runId));
      view.jobs = unitJobs(all, runId);
      view.cost = estimateBatchCost(all, src.instanceTypes, src.spot, now);
      if (all.length === 0) view.jobsNote = `no jobs of this run in queue ${src.jobQueueName} yet`;
    } catch (err) {
      view.jobsNote = message(err);
    }
  };
  await Promise.all([execution(), jobs()]);
  return view;
}

/** One line per Batch job: unit, status, attempts, job id, and the container instance or why it stopped. */
export function formatBatchJobs(jobs: readonly UnitJob[]): string {
  return renderTable(
    [
      { header: 'job unit' },
      { header: 'batch status' },
      { header: 'attempts', right: true },
      { header: 'job id' },
      { header: 'container instance / reason' },
    ],
    jobs.map((j) => [
      j.unit,
      j.status,
      String(j.attempts),
      j.jobId,
      j.containerInstance ?? j.statusReason ?? '',
    ]),
  );
}

const ModelsOfConfig = z.object({ models: z.array(z.enum(MODEL_NAMES)) });

/** Each unit's state from its done marker, its own status file (`train --units`), its lease and status.json. */
async function collectUnits(
  reader: S3RunReader,
  runId: string,
  status: RunStatus | null,
  now: Date,
): Promise<UnitState[]> {
  // The units follow from the run's models; a config.json without them (or none yet) shows no unit table.
  const text = await reader.getText(runId, runLayout.config);
  const config = text === null ? null : ModelsOfConfig.safeParse(safeJson(text));
  if (!config?.success) return [];
  const present = async (prefix: string) =>
    new Set((await reader.list(runId, prefix)).map((o) => o.key.slice(reader.key(runId, '').length)));
  const [models, unitStatuses, leases] = await Promise.all([
    present('models/'),
    present(runLayout.unitStatusRoot),
    present(runLayout.leasesRoot),
  ]);
  return Promise.all(
    trainedUnitIds(config.data.models).map(async (unit): Promise<UnitState> => {
      const base: UnitState = {
        unit,
        state: 'pending',
        epoch: null,
        maxEpochs: null,
        bestDevRmsePx: null,
        holder: null,
        note: null,
      };
      if (models.has(runLayout.unitDone(unit))) {
        const done = await reader.getJson(runId, runLayout.unitDone(unit), UnitSummarySchema);
        if (done)
          return {
            ...base,
            state: 'done',
            epoch: done.epochsRun,
            maxEpochs: done.maxEpochs,
            bestDevRmsePx: done.bestDevRmsePx,
          };
      }
      const lease = leases.has(runLayout.lease(unit))
        ? await reader.getJson(runId, runLayout.lease(unit), UnitLeaseSchema)
        : null;
      const holder = lease && Date.parse(lease.expiresAt) > now.getTime() ? lease.holder : null;
      const own = unitStatuses.has(runLayout.unitStatus(unit))
        ? await reader.getJson(runId, runLayout.unitStatus(unit), RunStatusSchema)
        : null;
      const s = own ?? (status?.model === unit ? status : null);
      if (!s) return { ...base, state: holder ? 'training' : 'pending', holder };
      const progress = { epoch: s.epoch, maxEpochs: s.maxEpochs, bestDevRmsePx: s.bestDevRmsePx, holder };
      if (s.state === 'running') {
        const age = secondsBetween(s.updatedAt, now);
        const stalled = holder === null && age !== null && age > STALE_HEARTBEAT_SECONDS;
        return { ...base, ...progress, state: stalled ? 'stalled' : 'training' };
      }
      const state = s.state === 'failed' ? 'failed' : s.state === 'interrupted' ? 'interrupted' : 'pending';
      return { ...base, ...progress, state, note: s.error ?? s.interruption };
    }),
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** One line per unit: state, epochs, best dev RMSE, and who holds it or why it stopped. */
export function formatUnits(units: readonly UnitState[]): string {
  const rows = units.map((u) => [
    u.unit,
    u.state,
    u.epoch === null ? '-' : `${u.epoch}${u.maxEpochs ? ` / ${u.maxEpochs}` : ''}`,
    formatPx(u.bestDevRmsePx),
    u.holder ?? u.note ?? '',
  ]);
  return renderTable(
    [
      { header: 'unit' },
      { header: 'state' },
      { header: 'epoch', right: true },
      { header: 'best dev RMSE', right: true },
      { header: 'holder / note' },
    ],
    rows,
  );
}

function staleHeartbeat(
  status: RunStatus | null,
  age: number | null,
  instance: InstanceInfo | null,
): string | null {
  if (status?.state !== 'running' || age === null) return null;
  const instanceGone = instance !== null && instance.state !== 'running' && instance.state !== 'pending';
  if (instanceGone) {
    return `the run says it is running but instance ${instance!.instanceId} is ${instance!.state}: it stopped without recording its end (spot reclaim or crash); redeploy to resume from the last checkpoint`;
  }
  if (age <= STALE_HEARTBEAT_SECONDS) return null;
  const where = instance
    ? `instance ${instance.instanceId} is ${instance.state}`
    : 'the instance state is unknown';
  return `STALE: no heartbeat for ${formatDuration(age)} (expected at least every minute) while ${where}; check \`facepoints logs\``;
}

export function formatStatus(r: StatusReport): string {
  const s = r.status;
  const fields: Array<[string, string]> = [['run', `${r.runId}  (${r.runUrl})`]];
  if (!s && r.units.some((u) => u.state !== 'pending')) {
    fields.push([
      'state',
      'units train in separate jobs (see below); `facepoints report` writes the run status',
    ]);
  } else if (!s) {
    fields.push(['state', 'no status.json yet: the instance is probably still booting or pulling the image']);
  } else {
    fields.push([
      'state',
      s.state + (s.error ? ` (${s.error})` : '') + (s.interruption ? ` (${s.interruption})` : ''),
    ]);
    fields.push(['phase', s.phase]);
    fields.push(['model', s.model ?? '-']);
    fields.push(['epoch', s.epoch === null ? '-' : `${s.epoch}${s.maxEpochs ? ` / ${s.maxEpochs}` : ''}`]);
    fields.push(['best dev RMSE', formatPx(s.bestDevRmsePx)]);
    fields.push(['speed', s.imagesPerSecond === null ? '-' : `${s.imagesPerSecond.toFixed(1)} images/s`]);
    fields.push([
      'time left',
      `phase ${formatDuration(s.etaPhaseSeconds)}, run ${formatDuration(s.etaRunSeconds)}`,
    ]);
    fields.push(['backend', [s.backend, s.gpuName, s.instanceType].filter(Boolean).join(', ') || '-']);
    fields.push(['started', s.startedAt]);
    if (s.finishedAt) fields.push(['finished', s.finishedAt]);
    fields.push(['heartbeat', formatAgo(r.heartbeatAgeSeconds)]);
  }
  fields.push(['last checkpoint', formatAgo(r.lastCheckpointAgeSeconds)]);
  if (r.instance) {
    const i = r.instance;
    fields.push([
      'instance',
      `${i.instanceId} ${i.instanceType} ${i.spot ? 'spot' : 'on-demand'}, ${i.state}${i.stateReason && i.state !== 'running' ? ` (${i.stateReason})` : ''}`,
    ]);
  } else {
    fields.push(['instance', r.instanceNote ?? '-']);
  }
  if (r.cost) {
    const c = r.cost;
    fields.push([
      'cost so far',
      `${formatUsd(c.usd)} (${c.hours === null ? '?' : c.hours.toFixed(2)} h x ${formatUsdPerHour(c.usdPerHour)}, ${c.priceSource}; instance only, estimated ${r.checkedAt})`,
    ]);
  }
  if (r.batch) {
    const b = r.batch;
    const e = b.execution;
    fields.push([
      'execution',
      e
        ? `${e.status}${e.error ? ` (${e.error})` : ''}, started ${e.startDate?.toISOString() ?? '-'}${e.stopDate ? `, stopped ${e.stopDate.toISOString()}` : ''}`
        : (b.executionNote ?? '-'),
    ]);
    if (b.cost) {
      const c = b.cost;
      fields.push([
        'cost so far',
        `${formatUsd(c.usd)} (${c.hours.toFixed(2)} job h x ${formatUsdPerHour(c.usdPerHour)}, ${c.priceSource}; ${c.running} job(s) running; instances only, estimated ${c.asOf})`,
      ]);
    }
  }
  let text = renderFields(fields);
  if (r.units.length > 0) text += `\n\n${formatUnits(r.units)}`;
  if (r.batch)
    text += `\n\n${r.batch.jobs.length > 0 ? formatBatchJobs(r.batch.jobs) : `jobs: ${r.batch.jobsNote ?? 'none'}`}`;
  if (r.staleHeartbeat) text += `\n\n!! ${r.staleHeartbeat}`;
  return text;
}

/** Gathers what collectStatus needs from the deployment: the instance only when it works on this run. */
export async function statusSources(ctx: OpsContext): Promise<{ sources: StatusSources; runId: string }> {
  const reader = openRunReader(ctx);
  const runId = await resolveRunId(ctx.deployment, reader);
  const dep = ctx.deployment;
  let instanceId: string | null = null;
  let noInstanceReason: string | undefined;
  if (dep.stacks === null) noInstanceReason = 'not looked up (--endpoint-url skips the stacks)';
  else if (!dep.stacks.training) noInstanceReason = 'none: stack FacepointsTraining is not deployed';
  else if (dep.stackRunId && dep.stackRunId !== runId)
    noInstanceReason = `none for this run (the training stack runs ${dep.stackRunId})`;
  else if (dep.engine === 'batch')
    noInstanceReason = 'one per job, launched by AWS Batch (see the jobs below)';
  else instanceId = dep.instanceId;
  const batch: BatchSources | undefined =
    dep.engine === 'batch' && !(dep.stackRunId && dep.stackRunId !== runId)
      ? {
          batch: ctx.clients.batch,
          sfn: ctx.clients.sfn,
          jobQueueName: dep.jobQueueName,
          executionArn: dep.executionArn,
          instanceTypes: dep.instanceType ? dep.instanceType.split(',') : [],
          spot: dep.spot ?? false,
        }
      : undefined;
  return {
    sources: {
      reader,
      ec2: instanceId ? ctx.clients.ec2 : null,
      instanceId,
      noInstanceReason,
      batch,
      now: ctx.now(),
    },
    runId,
  };
}

/** ANSI: move the cursor home and clear to the end of the screen, so each refresh redraws in place. */
export const REDRAW = '\x1b[H\x1b[J';

export interface WatchOptions {
  intervalMs: number;
  out: NodeJS.WritableStream;
  shouldStop: () => boolean;
  sleep?: (ms: number) => Promise<void>;
}

/** Redraws the status until stopped or until the run has ended and its instance is gone. */
export async function watchStatus(
  load: () => Promise<StatusReport>,
  opts: WatchOptions,
): Promise<StatusReport> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (;;) {
    const report = await load();
    opts.out.write(
      `${REDRAW}${formatStatus(report)}\n\nrefreshing every ${formatDuration(opts.intervalMs / 1000)}; Ctrl-C to stop\n`,
    );
    const ended = report.status !== null && report.status.state !== 'running';
    const instanceGone = !report.instance || ['terminated', 'stopped'].includes(report.instance.state);
    const executionEnded = report.batch?.execution ? report.batch.execution.status !== 'RUNNING' : null;
    if ((executionEnded ?? (ended && instanceGone)) || opts.shouldStop()) return report;
    await sleep(opts.intervalMs);
    if (opts.shouldStop()) return report;
  }
}

interface StatusFlags extends CommonOptions {
  watch?: boolean;
  interval: number;
}

export function registerStatusCommand(program: Command): void {
  withCommonOptions(program.command('status'))
    .description("show the run's progress, its instance, heartbeat and checkpoint ages, and its cost so far")
    .option('--watch', 'refresh in place until the run ends (Ctrl-C to stop; ignored with --json)', false)
    .option(
      '--interval <duration>',
      'refresh interval with --watch, e.g. 30s or 2m',
      durationOption('--interval', 'expects'),
      30,
    )
    .action(async (flags: StatusFlags) => {
      await withContext(flags, async (ctx) => {
        const load = async () => {
          const { sources, runId } = await statusSources(ctx);
          return collectStatus(sources, runId);
        };
        if (!flags.watch || flags.json) {
          emit(flags, await load(), formatStatus);
          return;
        }
        // Ctrl-C ends the current wait at once instead of after the interval.
        const abort = new AbortController();
        const onSigint = () => abort.abort();
        process.once('SIGINT', onSigint);
        try {
          await watchStatus(load, {
            intervalMs: flags.interval * 1000,
            out: process.stdout,
            shouldStop: () => abort.signal.aborted,
            sleep: (ms) => abortableSleep(ms, abort.signal),
          });
        } finally {
          process.removeListener('SIGINT', onSigint);
        }
      });
    });
}
