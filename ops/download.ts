import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { once } from 'node:events';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { runLayout } from '../contracts/run-layout';
import { type ResultsManifestEntry, ResultsManifestSchema } from '../contracts/results-manifest';
import { OpsError } from './errors';
import { parseJson } from '../common/parse-json';
import type { S3RunReader } from './s3-run-reader';

/** Receives byte counts as they arrive; the CLI feeds a cli-progress bar with them. */
export interface ProgressSink {
  start(totalBytes: number, alreadyBytes: number): void;
  advance(bytes: number): void;
  stop(): void;
}

export interface DownloadOptions {
  /** Aborting leaves the partial file in place (`NAME.part`) for the next attempt to resume. */
  signal?: AbortSignal;
  progress?: ProgressSink;
}

/**
 * verified: a complete local copy already matched the manifest and was not fetched again.
 * downloaded / resumed: fetched whole, or only its missing tail with an HTTP Range.
 * corrupt: the bucket's object does not match the manifest; nothing is left on disk for it.
 */
export type FileOutcome = 'verified' | 'downloaded' | 'resumed' | 'corrupt';

export interface FileResult {
  key: string;
  localPath: string;
  size: number;
  outcome: FileOutcome;
  bytesTransferred: number;
  problem?: string;
}

export interface DownloadReport {
  runId: string;
  source: string;
  outDir: string;
  files: FileResult[];
  bytesTransferred: number;
}

export const PARTIAL_SUFFIX = '.part';

async function fileSize(p: string): Promise<number | null> {
  try {
    return (await fs.stat(p)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export async function sha256OfFile(p: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(p), hash);
  return hash.digest('hex');
}

/** Resolves a manifest key inside outDir, refusing keys that would escape it (`../`, absolute paths). */
function localPathFor(outDir: string, key: string, where: string): string {
  const target = path.resolve(outDir, ...key.split('/'));
  if (!target.startsWith(path.resolve(outDir) + path.sep))
    throw new OpsError(`${where}: file key "${key}" points outside the download folder`);
  return target;
}

/**
 * Downloads every file of the run's results manifest into outDir, verifying size and sha256. Complete
 * local files that verify are kept, partial ones are resumed from their length, and a corrupt object is
 * reported while the other files still download; the report lists each file's outcome.
 */
export async function downloadResults(
  reader: S3RunReader,
  runId: string,
  outDir: string,
  opts: DownloadOptions = {},
): Promise<DownloadReport> {
  const manifestUrl = reader.url(runId, runLayout.resultsManifest);
  const manifestText = await reader.getText(runId, runLayout.resultsManifest);
  if (manifestText === null) {
    const status = await reader.getStatus(runId);
    const state = status ? `state ${status.state}, phase ${status.phase}` : 'no status.json either';
    throw new OpsError(
      `${manifestUrl} not found (${state}): a run writes its results manifest last, when it succeeds; wait for it or check \`facepoints status --run ${runId}\``,
    );
  }
  const files = parseJson(manifestText, ResultsManifestSchema, manifestUrl).artifacts;
  const planned = files.map((f) => ({ file: f, local: localPathFor(outDir, f.key, manifestUrl) }));

  const total = files.reduce((s, f) => s + f.size, 0);
  const results: FileResult[] = [];
  let transferred = 0;
  const already = await Promise.all(
    planned.map(async (p) =>
      Math.min(p.file.size, (await fileSize(p.local)) ?? (await fileSize(p.local + PARTIAL_SUFFIX)) ?? 0),
    ),
  );
  opts.progress?.start(
    total,
    already.reduce((s, n) => s + n, 0),
  );
  try {
    for (const { file, local } of planned) {
      const r = await fetchOne(reader, runId, file, local, opts);
      transferred += r.bytesTransferred;
      results.push(r);
    }
  } catch (err) {
    if (opts.signal?.aborted) {
      const done = results.filter((r) => r.outcome !== 'corrupt').length;
      throw new OpsError(
        `download interrupted after ${done} of ${files.length} files: run the same command again to resume (partial files are kept as *${PARTIAL_SUFFIX})`,
      );
    }
    throw err;
  } finally {
    opts.progress?.stop();
  }
  await fs.mkdir(path.dirname(path.join(outDir, runLayout.resultsManifest)), { recursive: true });
  await fs.writeFile(path.join(outDir, ...runLayout.resultsManifest.split('/')), manifestText);
  return { runId, source: reader.url(runId), outDir, files: results, bytesTransferred: transferred };
}

async function verify(
  p: string,
  file: ResultsManifestEntry,
): Promise<{ ok: boolean; size: number; sha256: string }> {
  const size = (await fileSize(p)) ?? 0;
  const sha256 = await sha256OfFile(p);
  return { ok: size === file.size && sha256 === file.sha256, size, sha256 };
}

async function fetchOne(
  reader: S3RunReader,
  runId: string,
  file: ResultsManifestEntry,
  local: string,
  opts: DownloadOptions,
): Promise<FileResult> {
  const base = { key: file.key, localPath: local, size: file.size };
  const part = local + PARTIAL_SUFFIX;
  if ((await fileSize(local)) !== null) {
    if ((await verify(local, file)).ok) return { ...base, outcome: 'verified', bytesTransferred: 0 };
    await fs.rm(local); // a stale or damaged copy: fetch it again
  }
  await fs.mkdir(path.dirname(local), { recursive: true });

  let offset = (await fileSize(part)) ?? 0;
  if (offset > file.size) {
    await fs.rm(part);
    offset = 0;
  }
  let transferred = 0;
  // A resumed file that fails verification may have been the tail of an older object version: one
  // fresh download settles whether the bucket's object itself is bad.
  for (const resumeFrom of offset > 0 ? [offset, 0] : [0]) {
    if (resumeFrom === 0 && (await fileSize(part)) !== null) await fs.rm(part);
    if (resumeFrom < file.size)
      transferred += await appendFromBucket(reader, runId, file.key, part, resumeFrom, opts);
    const check = await verify(part, file);
    if (check.ok) {
      await fs.rename(part, local);
      return { ...base, outcome: resumeFrom > 0 ? 'resumed' : 'downloaded', bytesTransferred: transferred };
    }
    if (resumeFrom === 0) {
      await fs.rm(part, { force: true });
      return {
        ...base,
        outcome: 'corrupt',
        bytesTransferred: transferred,
        problem:
          `${reader.url(runId, file.key)} is corrupt: the manifest expects ${file.size} bytes with sha256 ${file.sha256}, ` +
          `the bucket holds ${check.size} bytes with sha256 ${check.sha256}`,
      };
    }
  }
  throw new Error('unreachable: the last attempt starts from byte 0');
}

async function appendFromBucket(
  reader: S3RunReader,
  runId: string,
  key: string,
  part: string,
  from: number,
  opts: DownloadOptions,
): Promise<number> {
  const body = await reader.stream(runId, key, from);
  const out = createWriteStream(part, { flags: from > 0 ? 'a' : 'w' });
  let writeError: Error | null = null;
  out.on('error', (err) => (writeError = err));
  let count = 0;
  try {
    // Every chunk received is handed to the file before the abort is honoured, and the file is closed
    // gracefully, so an interruption keeps all it got (a destroyed pipeline would drop buffered writes).
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (writeError) break;
      if (!out.write(chunk)) await once(out, 'drain');
      count += chunk.length;
      opts.progress?.advance(chunk.length);
      if (opts.signal?.aborted) break;
    }
  } finally {
    await new Promise<void>((resolve) => out.end(() => resolve()));
  }
  if (writeError) throw writeError;
  if (opts.signal?.aborted)
    throw Object.assign(new Error(`download of ${key} aborted`), { name: 'AbortError' });
  return count;
}
