import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import {
  createS3Client,
  describeError,
  isNotFound,
  isPermanentS3Error,
  s3ClientConfig,
} from '../../common/s3-client';
import { formatS3Url, normalizePrefix, parseS3Url, type S3Location } from './s3-url';
import type { Store, StoredObject } from './store';
import { sendWrite, UploadWorker, type UploadSettings } from './s3-write';
import { WriteQueue } from './write-queue';

export interface S3StoreOptions {
  /** A configured client. @default createS3Client() (SDK default chain, `AWS_ENDPOINT_URL_S3`) */
  client?: S3Client;
  /** Environment the client and the upload worker are configured from (endpoint, region, credentials). @default process.env */
  env?: NodeJS.ProcessEnv;
  /**
   * Upload on a worker thread with its own client (configured like createS3Client()), so request signing,
   * socket writes (and TLS) stay off the training thread: per 198 MB checkpoint to a loopback S3 server the
   * training thread spent ~530 ms uploading in line and 10-25 ms handing the bodies over (its CPU time,
   * read from /proc; bench/checkpoint-overhead.ts reports the worker figure). Checkpoint
   * bodies live in shared memory and reach the worker without a copy; other bodies are copied.
   * @default true, unless `client` is given (the worker cannot use an injected client)
   */
  uploadInWorker?: boolean;
  /** Where outages and refused writes are reported. @default a line on stderr */
  log?: (line: string) => void;
  /** Bodies above this size are uploaded in parts of this size (S3's minimum part is 5 MiB). @default 8 MiB */
  partSize?: number;
  /** Parts of one multipart upload sent at once. @default 4 */
  partConcurrency?: number;
  /** How long flush() waits for queued writes before rejecting. @default 900000 (15 minutes) */
  flushGiveUpMs?: number;
  /** How long get() and list() retry an unreachable S3 before throwing. @default 300000 (5 minutes) */
  readGiveUpMs?: number;
  /** First and longest delay between retries of a write. @default 250 and 10000 */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

interface Shared {
  client: S3Client;
  bucket: string;
  queue: WriteQueue;
  opts: S3StoreOptions;
  worker: UploadWorker | null;
}

/**
 * A Store on an S3 prefix. put() and delete() return once the change is queued; a background queue
 * uploads in order and retries through outages (see WriteQueue), and get()/list() see queued changes.
 * A body passed to put() is kept, not copied, until it is uploaded: do not modify it afterwards.
 */
export class S3Store implements Store {
  readonly url: string;
  private readonly shared: Shared;
  private readonly prefix: string;

  /** `location` is `s3://BUCKET/PREFIX` or a parsed location. */
  constructor(location: string | S3Location, opts?: S3StoreOptions);
  /** @internal a child sharing its parent's client and queue */
  constructor(location: S3Location, opts: S3StoreOptions, shared: Shared);
  constructor(location: string | S3Location, opts: S3StoreOptions = {}, shared?: Shared) {
    const loc = typeof location === 'string' ? parseS3Url(location) : location;
    this.prefix = loc.prefix;
    this.url = formatS3Url(loc);
    if (shared) {
      this.shared = shared;
    } else {
      const client = opts.client ?? createS3Client(opts.env);
      const target = formatS3Url({ bucket: loc.bucket, prefix: '' });
      const upload = uploadSettings(opts);
      const worker =
        (opts.uploadInWorker ?? opts.client === undefined)
          ? new UploadWorker({ bucket: loc.bucket, config: s3ClientConfig(opts.env), ...upload })
          : null;
      const queue = new WriteQueue({
        send: (op) => (worker ? worker.send(op) : sendWrite(client, loc.bucket, op, upload)),
        isPermanent: isPermanentS3Error,
        target,
        log: opts.log ?? ((line) => process.stderr.write(`${line}\n`)),
        baseDelayMs: opts.retryBaseMs,
        maxDelayMs: opts.retryMaxMs,
        flushGiveUpMs: opts.flushGiveUpMs,
      });
      this.shared = { client, bucket: loc.bucket, queue, opts, worker };
    }
  }

  private fullKey(key: string): string {
    if (
      key === '' ||
      key.startsWith('/') ||
      key.split('/').some((p) => p === '..' || p === '.' || p === '')
    ) {
      throw new Error(`expected a relative key like "a/b.json" in ${this.url}, found "${key}"`);
    }
    return this.prefix + key;
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const buf =
      typeof body === 'string'
        ? Buffer.from(body, 'utf8')
        : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    this.shared.queue.enqueue({ kind: 'put', key: this.fullKey(key), body: buf });
  }

  async delete(key: string): Promise<void> {
    this.shared.queue.enqueue({ kind: 'delete', key: this.fullKey(key) });
  }

  async get(key: string): Promise<Buffer | null> {
    const full = this.fullKey(key);
    const queued = this.shared.queue.latest(full);
    if (queued) return queued.kind === 'put' ? Buffer.from(queued.body) : null;
    const { client, bucket } = this.shared;
    return this.withReadRetry(`get ${full}`, async () => {
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: full }));
        if (!res.Body) return Buffer.alloc(0);
        return Buffer.from(await res.Body.transformToByteArray());
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    });
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const full = this.prefix + prefix;
    const { client, bucket, queue } = this.shared;
    const found = new Map<string, number>();
    await this.withReadRetry(`list ${full}`, async () => {
      found.clear();
      let token: string | undefined;
      do {
        const res = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: full, ContinuationToken: token }),
        );
        for (const o of res.Contents ?? []) if (o.Key) found.set(o.Key, o.Size ?? 0);
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token);
    });
    // Queued changes are applied in order on top of what S3 holds, so the listing is what it will be.
    for (const op of queue.unsent()) {
      if (!op.key.startsWith(full)) continue;
      if (op.kind === 'put') found.set(op.key, op.body.length);
      else found.delete(op.key);
    }
    return [...found.entries()]
      .map(([k, size]) => ({ key: k.slice(this.prefix.length), size }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  child(prefix: string): Store {
    const loc = { bucket: this.shared.bucket, prefix: this.prefix + normalizePrefix(prefix) };
    return new S3Store(loc, this.shared.opts, this.shared);
  }

  flush(): Promise<void> {
    return this.shared.queue.flush();
  }

  /** Writes accepted but not yet stored (for status lines and tests). */
  get pendingWrites(): number {
    return this.shared.queue.size;
  }

  /** Stops background retries (unsent writes are dropped) and closes the client's connections. */
  close(): void {
    this.shared.queue.close();
    this.shared.worker?.close();
    this.shared.client.destroy();
  }

  private async withReadRetry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const giveUp = Date.now() + (this.shared.opts.readGiveUpMs ?? 300_000);
    let delay = this.shared.opts.retryBaseMs ?? 250;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (isPermanentS3Error(err) || Date.now() + delay > giveUp) {
          throw new Error(
            `${what} in ${formatS3Url({ bucket: this.shared.bucket, prefix: '' })} failed: ${describeError(err)}`,
          );
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, this.shared.opts.retryMaxMs ?? 10_000);
      }
    }
  }
}

function uploadSettings(opts: S3StoreOptions): UploadSettings {
  return {
    // S3's smallest part is 5 MiB.
    partSize: Math.max(opts.partSize ?? 8 * 1024 * 1024, 5 * 1024 * 1024),
    queueSize: opts.partConcurrency ?? 4,
  };
}
