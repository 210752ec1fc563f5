import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createWriteStream, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { DATA_FILES } from '../../contracts/run-layout';
import { createS3Client, describeError, isNotFound } from '../../common/s3-client';
import { formatS3Url, parseS3Url } from './s3-url';

/** The folder of the scratch directory that holds downloaded s3:// data. */
export const DATA_CACHE_FOLDER = 'data';

/**
 * The trainer's scratch directory when none is given: one per user in the OS temp folder, writable
 * wherever the trainer runs (the image's user cannot write its working directory or HOME), and never a
 * folder another user created first.
 */
export function defaultScratchDir(): string {
  // process.getuid, not os.userInfo: a container's uid often has no passwd entry, and userInfo throws then.
  return path.join(os.tmpdir(), `facepoints-${process.getuid?.() ?? 'user'}`);
}

export interface DataCacheOptions {
  /** @default createS3Client() */
  client?: S3Client;
  /** Least time between two progress lines of one download. @default 5000 */
  progressEveryMs?: number;
}

/**
 * The local folder holding the Kaggle files (DATA_FILES) named by `--data`: a folder or `file://` URL
 * passes through; `s3://BUCKET/PREFIX` is downloaded into `cacheDir/BUCKET/PREFIX` once, and again only
 * for a file whose local size differs from the object's (a partial or replaced download).
 */
export async function resolveDataDir(
  data: string,
  cacheDir: string,
  log: (line: string) => void,
  opts: DataCacheOptions = {},
): Promise<string> {
  if (!data.startsWith('s3://')) {
    const dir = data.startsWith('file://') ? fileURLToPath(data) : path.resolve(data);
    const stat = await fs.stat(dir).catch(() => null);
    if (!stat?.isDirectory()) {
      throw new Error(
        `--data: expected a folder holding ${Object.values(DATA_FILES).join(', ')} or an s3:// URL, found ${stat ? 'a file' : 'nothing'} at ${dir}`,
      );
    }
    return dir;
  }

  const loc = parseS3Url(data);
  const client = opts.client ?? createS3Client();
  const localDir = path.resolve(cacheDir, loc.bucket, ...loc.prefix.split('/').filter(Boolean));
  await fs.mkdir(localDir, { recursive: true });
  for (const name of Object.values(DATA_FILES)) {
    const key = loc.prefix + name;
    const url = `${formatS3Url({ bucket: loc.bucket, prefix: '' })}/${key}`;
    let size: number;
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: key }));
      size = head.ContentLength ?? 0;
    } catch (err) {
      if (isNotFound(err)) throw new Error(`--data ${data}: expected the object ${url}, found none`);
      throw new Error(`--data ${data}: cannot read ${url}: ${describeError(err)}`);
    }
    const target = path.join(localDir, name);
    const local = await fs.stat(target).catch(() => null);
    if (local?.size === size) continue;
    if (local) log(`data: ${target} has ${local.size} bytes, ${url} has ${size}; downloading again`);
    await download(client, loc.bucket, key, url, target, size, log, opts.progressEveryMs ?? 5000);
  }
  return localDir;
}

async function download(
  client: S3Client,
  bucket: string,
  key: string,
  url: string,
  target: string,
  size: number,
  log: (line: string) => void,
  progressEveryMs: number,
): Promise<void> {
  const mb = (n: number): string => (n / 1e6).toFixed(1);
  log(`data: downloading ${url} (${mb(size)} MB) to ${target}`);
  const started = Date.now();
  let received = 0;
  let lastReport = started;
  const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!(res.Body instanceof Readable))
    throw new Error(`data: expected a byte stream for ${url}, found ${typeof res.Body}`);
  res.Body.on('data', (chunk: Buffer) => {
    received += chunk.length;
    const now = Date.now();
    if (now - lastReport >= progressEveryMs) {
      lastReport = now;
      log(
        `data: ${url} ${mb(received)}/${mb(size)} MB (${Math.floor((100 * received) / Math.max(size, 1))}%)`,
      );
    }
  });
  // Into a temporary name first: an interrupted download never looks like a finished one of the right size.
  const partial = `${target}.partial`;
  await pipeline(res.Body, createWriteStream(partial));
  const written = (await fs.stat(partial)).size;
  if (written !== size) {
    await fs.rm(partial, { force: true });
    throw new Error(`data: ${url} should have ${size} bytes, downloaded ${written}; run again to retry`);
  }
  await fs.rename(partial, target);
  const secs = (Date.now() - started) / 1000;
  log(`data: ${url} done, ${mb(size)} MB in ${secs.toFixed(1)} s`);
}
