import { S3Client } from '@aws-sdk/client-s3';
import { serve } from '../workers/worker-rpc';
import { sendWrite, type UploadProtocol, type UploadWorkerData } from './s3-write';

serve<UploadProtocol, UploadWorkerData>((data) => {
  const client = new S3Client(data.config);
  return {
    // A Buffer arrives as a plain Uint8Array: view it as a Buffer again, without a copy.
    send: (op) =>
      sendWrite(
        client,
        data.bucket,
        op.kind === 'put'
          ? { ...op, body: Buffer.from(op.body.buffer, op.body.byteOffset, op.body.byteLength) }
          : op,
        data,
      ),
  };
});
