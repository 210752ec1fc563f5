import type { Command } from 'commander';
import { runLayout } from '../../contracts/run-layout';
import { type RunStatus, RunStatusSchema } from '../../contracts/run-status';
import { type RunSummary, RunSummarySchema } from '../../contracts/run-summary';
import { emit, withContext, openRunReader } from '../context';
import { renderTable } from '../../common/format';
import { mapLimit } from '../../common/map-limit';
import { summarizeSplitRun } from '../../common/split-run-status';
import { formatPx } from '../format/units';
import { type CommonOptions, withCommonOptions } from '../options';
import type { S3RunReader } from '../s3-run-reader';

export interface RunListing {
  runId: string;
  /** The status's state; `no status` before the first heartbeat. */
  state: string;
  phase: string | null;
  startedAt: string | null;
  updatedAt: string | null;
  /** Best dev RMSE over the run's models: from the summary when the run has one, else the live status. */
  bestDevRmsePx: number | null;
  bestModel: string | null;
  /** True once the results manifest exists, i.e. `facepoints results` can download the run. */
  hasResults: boolean;
}

/** The lowest dev RMSE among a run's models, in pixels, and the model that reached it. */
export function bestRmse(summary: RunSummary): { model: string; devRmsePx: number } | null {
  let best: { model: string; devRmsePx: number } | null = null;
  for (const m of summary.models)
    if (!best || m.devRmsePx < best.devRmsePx) best = { model: m.name, devRmsePx: m.devRmsePx };
  return best;
}

/** The status files of a run's `train --units` jobs (`status/<unit>.json`), in no particular order. */
async function unitStatuses(reader: S3RunReader, runId: string): Promise<RunStatus[]> {
  const root = reader.key(runId, '');
  const keys = (await reader.list(runId, runLayout.unitStatusRoot))
    .map((o) => o.key.slice(root.length))
    .filter((k) => k.endsWith('.json'));
  const statuses = await Promise.all(keys.map((k) => reader.getJson(runId, k, RunStatusSchema)));
  return statuses.filter((s): s is RunStatus => s !== null);
}

export async function listRuns(reader: S3RunReader): Promise<RunListing[]> {
  const ids = await reader.listRunIds();
  return mapLimit(ids, LIST_CONCURRENCY, async (runId): Promise<RunListing> => {
    const [status, summary, manifest] = await Promise.all([
      reader.getStatus(runId),
      reader.getJson(runId, runLayout.summary, RunSummarySchema),
      reader.head(runId, runLayout.resultsManifest),
    ]);
    const best = summary ? bestRmse(summary) : null;
    const split = status === null ? summarizeSplitRun(await unitStatuses(reader, runId)) : null;
    if (split !== null)
      return {
        runId,
        state: split.state,
        phase: split.phase,
        startedAt: split.startedAt,
        updatedAt: split.updatedAt,
        bestDevRmsePx: best?.devRmsePx ?? split.bestDevRmsePx,
        bestModel: best?.model ?? split.bestModel,
        hasResults: manifest !== null,
      };
    return {
      runId,
      state: status?.state ?? 'no status',
      phase: status?.phase ?? null,
      startedAt: status?.startedAt ?? null,
      updatedAt: status?.updatedAt ?? null,
      bestDevRmsePx: best?.devRmsePx ?? status?.bestDevRmsePx ?? null,
      bestModel: best?.model ?? (status?.bestDevRmsePx != null ? status.model : null),
      hasResults: manifest !== null,
    };
  });
}

/** Runs read at once: three small GETs each; a bucket with hundreds of runs should not open hundreds of sockets. */
const LIST_CONCURRENCY = 8;

export function formatRuns(runs: RunListing[]): string {
  if (runs.length === 0) return 'no runs in this bucket yet';
  return renderTable(
    [
      { header: 'RUN' },
      { header: 'STATE' },
      { header: 'PHASE' },
      { header: 'BEST DEV RMSE', right: true },
      { header: 'MODEL' },
      { header: 'RESULTS' },
      { header: 'STARTED' },
    ],
    runs.map((r) => [
      r.runId,
      r.state,
      r.phase ?? '-',
      formatPx(r.bestDevRmsePx),
      r.bestModel ?? '-',
      r.hasResults ? 'ready' : '-',
      r.startedAt ?? '-',
    ]),
  );
}

export function registerRunsCommand(program: Command): void {
  withCommonOptions(program.command('runs'))
    .description('list the runs in the bucket with their state and best dev RMSE')
    .action(async (flags: CommonOptions) => {
      await withContext(flags, async (ctx) => {
        emit(flags, await listRuns(openRunReader(ctx)), formatRuns);
      });
    });
}
