import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import * as path from 'node:path';
import { startWorker, type WorkerClient } from '../workers/worker-rpc';
import type { S3ClientSettings } from '../../common/s3-client';
import type { WriteOp } from './write-queue';

/** How a put is uploaded. */
export interface UploadSettings {
  /** Bodies above this size are uploaded in parts of this size. */
  partSize: number;
  /** Parts of one multipart upload sent at once. */
  queueSize: number;
}

/** Performs one change on S3, in this thread or (through UploadWorker) in upload-worker.ts. */
export async function sendWrite(
  client: S3Client,
  bucket: string,
  op: WriteOp,
  settings: UploadSettings,
): Promise<void> {
  if (op.kind === 'delete') {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: op.key }));
    return;
  }
  // Upload sends one PutObject below partSize and a multipart upload above it.
  const upload = new Upload({
    client,
    params: { Bucket: bucket, Key: op.key, Body: op.body },
    partSize: settings.partSize,
    queueSize: settings.queueSize,
  });
  await upload.done();
}

/** What upload-worker.ts is started with: its own client is built from plain settings. */
export interface UploadWorkerData extends UploadSettings {
  bucket: string;
  config: S3ClientSettings;
}

/** Requests of upload-worker.ts. */
export interface UploadProtocol {
  /** Performs `op`; a failure rejects with the SDK error's name, message, code and $metadata. */
  send(op: WriteOp): void;
}

/**
 * Performs S3 writes on a worker thread. Uploading ~200 MB of checkpoint (checksums, HTTP framing, TLS on
 * AWS) costs seconds of CPU; on the main thread that time is taken from the training loop between
 * batches, on a worker it runs on another core. Bodies are copied to the worker once.
 */
export class UploadWorker {
  private readonly worker: WorkerClient<UploadProtocol>;

  constructor(data: UploadWorkerData) {
    // Idle, the worker alone does not keep the process alive; pending writes are held by flush().
    this.worker = startWorker<UploadProtocol, UploadWorkerData>(path.join(__dirname, 'upload-worker.js'), {
      name: 'upload',
      workerData: data,
      unrefWhenIdle: true,
    });
  }

  send(op: WriteOp): Promise<void> {
    // Cloning a view copies its whole underlying buffer: hand over exactly the body's bytes.
    const whole =
      op.kind === 'put' && op.body.byteOffset === 0 && op.body.byteLength === op.body.buffer.byteLength;
    return this.worker.call('send', op.kind === 'put' && !whole ? { ...op, body: Buffer.from(op.body) } : op);
  }

  close(): void {
    void this.worker.terminate();
  }
}
