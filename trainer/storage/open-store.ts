import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileStore } from './file-store';
import { S3Store, type S3StoreOptions } from './s3-store';
import type { Store } from './store';

/**
 * The store behind a `--out` URL: `file://DIR` (absolute, e.g. `file:///home/me/runs`, or relative,
 * `file://runs`) or `s3://BUCKET/PREFIX`. `opts` applies to S3 only.
 */
export function openStore(url: string, opts: S3StoreOptions = {}): Store {
  if (url.startsWith('s3://')) return new S3Store(url, opts);
  if (url.startsWith('file://')) {
    const rest = url.slice('file://'.length);
    if (rest === '') throw new Error(`expected a folder after file:// in "${url}", found nothing`);
    // file:///abs is a standard file URL; file://rel is accepted as a path relative to the working folder.
    const dir = rest.startsWith('/') ? fileURLToPath(url) : path.resolve(rest);
    return new FileStore(dir);
  }
  throw new Error(
    `expected a store URL starting with file:// or s3:// (e.g. file:///home/me/runs, s3://my-bucket/runs), found "${url}"`,
  );
}
