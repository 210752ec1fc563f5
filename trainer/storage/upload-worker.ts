import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { Worker } from 'node:worker_threads';
import type { WriteOp } from './write-queue';

/** The client settings a worker can receive (plain data: a client object cannot cross threads). */
export type WorkerClientConfig = Pick<
  S3ClientConfig,
  'region' | 'endpoint' | 'forcePathStyle' | 'requestChecksumCalculation' | 'responseChecksumValidation'
> & {
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  requestHandler?: { connectionTimeout: number; requestTimeout: number };
};

// Plain JavaScript evaluated in the worker, so it runs the same from sources (tsx, ts-jest) and from dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('worker_threads');
const { S3Client, DeleteObjectCommand } = require(workerData.clientS3);
const { Upload } = require(workerData.libStorage);
const client = new S3Client(workerData.config);
parentPort.on('message', async ({ id, op }) => {
  try {
    if (op.kind === 'delete') {
      await client.send(new DeleteObjectCommand({ Bucket: workerData.bucket, Key: op.key }));
    } else {
      await new Upload({
        client,
        params: { Bucket: workerData.bucket, Key: op.key, Body: Buffer.from(op.body.buffer, op.body.byteOffset, op.body.byteLength) },
        partSize: workerData.partSize,
        queueSize: workerData.queueSize,
      }).done();
    }
    parentPort.postMessage({ id, ok: true });
  } catch (err) {
    parentPort.postMessage({ id, ok: false, error: {
      name: err && err.name, message: String(err && err.message), code: err && err.code,
      status: err && err.$metadata ? err.$metadata.httpStatusCode : undefined,
    } });
  }
});
`;

interface Reply {
  id: number;
  ok: boolean;
  error?: { name?: string; message: string; code?: string; status?: number };
}

/**
 * Performs S3 writes on a worker thread. Uploading ~200 MB of checkpoint (checksums, HTTP framing, TLS on
 * AWS) costs seconds of CPU; on the main thread that time is taken from the training loop between
 * batches, on a worker it runs on another core. Bodies are copied to the worker once.
 */
export class UploadWorker {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve(): void; reject(err: Error): void }>();
  private nextId = 1;

  constructor(opts: { bucket: string; config: WorkerClientConfig; partSize: number; queueSize: number }) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        ...opts,
        clientS3: require.resolve('@aws-sdk/client-s3'),
        libStorage: require.resolve('@aws-sdk/lib-storage'),
      },
    });
    this.worker.on('message', (reply: Reply) => {
      const w = this.waiting.get(reply.id);
      if (!w) return;
      this.waiting.delete(reply.id);
      if (reply.ok) w.resolve();
      else w.reject(toSdkLikeError(reply.error!));
    });
    this.worker.on('error', (err) => this.failAll(err));
    this.worker.on('exit', (code) => this.failAll(new Error(`upload worker exited with code ${code}`)));
    // Idle, the worker alone does not keep the process alive; pending writes are held by flush().
    this.worker.unref();
  }

  send(op: WriteOp): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const id = this.nextId++;
      this.waiting.set(id, { resolve, reject });
      this.worker.ref();
      // Cloning a view copies its whole underlying buffer: hand over exactly the body's bytes.
      const whole =
        op.kind === 'put' && op.body.byteOffset === 0 && op.body.byteLength === op.body.buffer.byteLength;
      this.worker.postMessage({
        id,
        op: op.kind === 'put' && !whole ? { ...op, body: Buffer.from(op.body) } : op,
      });
    }).finally(() => {
      if (this.waiting.size === 0) this.worker.unref();
    });
  }

  close(): void {
    void this.worker.terminate();
  }

  private failAll(err: Error): void {
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }
}

/** An Error carrying the fields the retry logic reads from SDK errors (name, code, $metadata.httpStatusCode). */
function toSdkLikeError(e: NonNullable<Reply['error']>): Error {
  const err = new Error(e.message) as Error & { code?: string; $metadata?: { httpStatusCode?: number } };
  if (e.name) err.name = e.name;
  if (e.code) err.code = e.code;
  if (e.status !== undefined) err.$metadata = { httpStatusCode: e.status };
  return err;
}
