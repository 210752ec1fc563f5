import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { runLayout } from '../../contracts/run-layout';
import { type RunSummary, RunSummarySchema } from '../../contracts/run-summary';
import { emit, withContext, openRunReader, resolveRunId } from '../context';
import { type DownloadReport, type ProgressSink, downloadResults } from '../download';
import { OpsError } from '../errors';
import { formatDuration, renderTable } from '../../common/format';
import { formatBytes } from '../format/units';
import { type CommonOptions, withCommonOptions } from '../options';
import { parseJson } from '../../common/parse-json';
import type { S3RunReader } from '../s3-run-reader';

export interface ResultsReport {
  download: DownloadReport;
  /** The run's report/summary.json, or null when the manifest did not list it. */
  summary: RunSummary | null;
}

/** Downloads the run's results and reads the summary from the verified local copy. */
export async function fetchResults(
  reader: S3RunReader,
  runId: string,
  outDir: string,
  opts: Parameters<typeof downloadResults>[3] = {},
): Promise<ResultsReport> {
  const download = await downloadResults(reader, runId, outDir, opts);
  const summaryFile = download.files.find((f) => f.key === runLayout.summary && f.outcome !== 'corrupt');
  const summary = summaryFile
    ? parseJson(await fs.readFile(summaryFile.localPath, 'utf8'), RunSummarySchema, summaryFile.localPath)
    : null;
  return { download, summary };
}

/** Labels per model in the table, to keep it within a terminal's width; summary.json and --json hold them all. */
export const TABLE_LABELS = 2;

export function formatSummaryTable(summary: RunSummary): string {
  return renderTable(
    [
      { header: 'MODEL' },
      { header: 'DEV RMSE (px)', right: true },
      { header: 'TRAIN TIME', right: true },
      { header: 'BEST LABELS' },
      { header: 'WORST LABELS' },
    ],
    summary.models.map((m) => [
      m.name,
      m.devRmsePx.toFixed(3),
      formatDuration(m.trainSeconds),
      m.bestLabels.slice(0, TABLE_LABELS).join(', ') || '-',
      m.worstLabels.slice(0, TABLE_LABELS).join(', ') || '-',
    ]),
  );
}

export function formatResults(r: ResultsReport): string {
  const d = r.download;
  const count = (o: string) => d.files.filter((f) => f.outcome === o).length;
  const lines = [
    `${d.source} -> ${d.outDir}`,
    `${d.files.length} files: ${count('downloaded')} downloaded, ${count('resumed')} resumed, ${count('verified')} already verified, ${count('corrupt')} corrupt; ${formatBytes(d.bytesTransferred)} transferred; sizes and sha256 checked against ${runLayout.resultsManifest}`,
  ];
  for (const f of d.files) if (f.problem) lines.push(`CORRUPT ${f.problem}`);
  if (r.summary) lines.push('', formatSummaryTable(r.summary));
  return lines.join('\n');
}

function progressBar(): ProgressSink {
  const bar = new SingleBar({
    format: 'downloading [{bar}] {percentage}% | {done} of {size} | eta {eta_formatted}',
    stream: process.stderr,
    hideCursor: true,
  });
  let total = 0;
  let value = 0;
  const payload = () => ({ done: formatBytes(value), size: formatBytes(total) });
  return {
    start(totalBytes, alreadyBytes) {
      total = totalBytes;
      value = alreadyBytes;
      bar.start(totalBytes, alreadyBytes, payload());
    },
    advance(bytes) {
      value += bytes;
      bar.update(value, payload());
    },
    stop: () => bar.stop(),
  };
}

interface ResultsFlags extends CommonOptions {
  out?: string;
}

export function registerResultsCommand(program: Command): void {
  withCommonOptions(program.command('results'))
    .description(
      "download the run's report, pictures, submission and final models, verify them and print the summary",
    )
    .option('--out <dir>', 'download folder (default: results/RUN_ID)')
    .action(async (flags: ResultsFlags) => {
      await withContext(flags, async (ctx) => {
        const reader = openRunReader(ctx);
        const runId = await resolveRunId(ctx.deployment, reader);
        const outDir = path.resolve(flags.out ?? path.join('results', runId));
        const abort = new AbortController();
        const onSigint = () => abort.abort();
        process.once('SIGINT', onSigint);
        try {
          const progress = !flags.json && process.stderr.isTTY ? progressBar() : undefined;
          const report = await fetchResults(reader, runId, outDir, { signal: abort.signal, progress });
          emit(flags, report, formatResults);
          const corrupt = report.download.files.filter((f) => f.outcome === 'corrupt');
          if (corrupt.length > 0)
            throw new OpsError(
              `${corrupt.length} corrupt object(s) in ${report.download.source}; the other files are verified in ${outDir}`,
            );
        } finally {
          process.removeListener('SIGINT', onSigint);
        }
      });
    });
}
