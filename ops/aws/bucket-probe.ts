import { GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { callAws, type RetryOptions } from './call';

/**
 * What S3 says about a bucket name (HeadBucket, S3 API reference): `ours` (200: it exists and we may list
 * it), `forbidden` (403: it exists but this identity may not list it, or it belongs to another account),
 * `free` (404: no bucket of that name), `other-region` (301: it exists in another region).
 */
export type BucketState = 'ours' | 'forbidden' | 'free' | 'other-region';

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

export async function probeBucket(
  client: S3Client,
  bucket: string,
  retry?: RetryOptions,
): Promise<{ state: BucketState; region: string | null }> {
  try {
    const res = await callAws(
      { action: 's3:ListBucket', target: `bucket ${bucket}` },
      () => client.send(new HeadBucketCommand({ Bucket: bucket })),
      retry,
    );
    return { state: 'ours', region: res.BucketRegion ?? null };
  } catch (err) {
    // A HEAD response has no body, so the SDK names these errors by status ("NotFound", "403", "301").
    const status = httpStatus(err);
    if (status === 404) return { state: 'free', region: null };
    if (status === 403) return { state: 'forbidden', region: null };
    if (status === 301) return { state: 'other-region', region: null };
    throw err;
  }
}

export interface ObjectSize {
  key: string;
  size: number;
}

/** Objects under a prefix with their sizes (one page of 1,000 is plenty for the data prefix). */
export async function listObjectSizes(
  client: S3Client,
  bucket: string,
  prefix: string,
  retry?: RetryOptions,
): Promise<ObjectSize[]> {
  const res = await callAws(
    { action: 's3:ListBucket', target: `s3://${bucket}/${prefix}` },
    () => client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix })),
    retry,
  );
  return (res.Contents ?? []).flatMap((o) => (o.Key ? [{ key: o.Key, size: o.Size ?? 0 }] : []));
}

/** The first `bytes` bytes of an object (a ranged GET, billed as one request whatever the object's size). */
export async function readObjectStart(
  client: S3Client,
  bucket: string,
  key: string,
  bytes: number,
  retry?: RetryOptions,
): Promise<Buffer> {
  const res = await callAws(
    { action: 's3:GetObject', target: `s3://${bucket}/${key}` },
    () => client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${bytes - 1}` })),
    retry,
  );
  const body = res.Body ? await res.Body.transformToByteArray() : new Uint8Array();
  return Buffer.from(body).subarray(0, bytes);
}
