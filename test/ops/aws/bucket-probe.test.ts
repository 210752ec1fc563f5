import {
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  NotFound,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { listObjectSizes, probeBucket, readObjectStart } from '../../../ops/aws/bucket-probe';

const s3 = mockClient(S3Client);
const client = new S3Client({ region: 'eu-west-1' });
const noWait = { sleep: async () => {} };
const BUCKET = 'facepoints-123456789012-eu-west-1-an';

/** A HEAD error as the SDK builds it: no body, so the name is the status code (S3 API reference, HeadBucket). */
function headError(status: number) {
  return new S3ServiceException({
    name: String(status),
    $fault: 'client',
    $metadata: { httpStatusCode: status },
    message: 'UnknownError',
  });
}

beforeEach(() => s3.reset());

test('200: the bucket exists and this identity may list it (HeadBucket response shape)', async () => {
  s3.on(HeadBucketCommand, { Bucket: BUCKET }).resolves({
    BucketRegion: 'eu-west-1',
    AccessPointAlias: false,
    $metadata: { httpStatusCode: 200 },
  });
  expect(await probeBucket(client, BUCKET, noWait)).toEqual({ state: 'ours', region: 'eu-west-1' });
});

test('404 free, 403 forbidden, 301 in another region', async () => {
  s3.on(HeadBucketCommand).rejects(
    new NotFound({ $metadata: { httpStatusCode: 404 }, message: 'UnknownError' }),
  );
  expect((await probeBucket(client, BUCKET, noWait)).state).toBe('free');
  s3.reset();
  s3.on(HeadBucketCommand).rejects(headError(403));
  expect((await probeBucket(client, BUCKET, noWait)).state).toBe('forbidden');
  s3.reset();
  s3.on(HeadBucketCommand).rejects(headError(301));
  expect((await probeBucket(client, BUCKET, noWait)).state).toBe('other-region');
});

test('the data prefix listed with sizes (ListObjectsV2 response shape); AccessDenied names s3:ListBucket', async () => {
  s3.on(ListObjectsV2Command, { Bucket: BUCKET, Prefix: 'data/' }).resolves({
    IsTruncated: false,
    Contents: [
      {
        Key: 'data/IdLookupTable.csv',
        LastModified: new Date('2026-11-29T01:00:00Z'),
        ETag: '"a"',
        Size: 843_638,
        StorageClass: 'STANDARD',
      },
      {
        Key: 'data/training.csv',
        LastModified: new Date('2026-11-29T01:00:00Z'),
        ETag: '"b"',
        Size: 238_052_865,
        StorageClass: 'STANDARD',
      },
    ],
    Name: BUCKET,
    Prefix: 'data/',
    MaxKeys: 1000,
    KeyCount: 2,
  });
  expect(await listObjectSizes(client, BUCKET, 'data/', noWait)).toEqual([
    { key: 'data/IdLookupTable.csv', size: 843_638 },
    { key: 'data/training.csv', size: 238_052_865 },
  ]);
  s3.reset();
  s3.on(ListObjectsV2Command).rejects(
    new S3ServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
      message: 'Access Denied',
    }),
  );
  await expect(listObjectSizes(client, BUCKET, 'data/', noWait)).rejects.toThrow(
    `lacks the permission s3:ListBucket (s3://${BUCKET}/data/)`,
  );
});

test('the first bytes of an object by a ranged GET; AccessDenied names s3:GetObject', async () => {
  s3.on(GetObjectCommand, { Bucket: BUCKET, Key: 'data/test.csv', Range: 'bytes=0-15' }).resolves({
    // The SDK's stream body, reduced to the one method the code calls.
    Body: { transformToByteArray: async () => new Uint8Array(Buffer.from('ImageId,Image\n1,')) } as never,
    ContentRange: 'bytes 0-15/60976573',
    ContentLength: 16,
    $metadata: { httpStatusCode: 206 },
  });
  expect((await readObjectStart(client, BUCKET, 'data/test.csv', 16, noWait)).toString()).toBe(
    'ImageId,Image\n1,',
  );
  s3.reset();
  s3.on(GetObjectCommand).rejects(
    new S3ServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
      message: 'Access Denied',
    }),
  );
  await expect(readObjectStart(client, BUCKET, 'data/test.csv', 16, noWait)).rejects.toThrow(
    `lacks the permission s3:GetObject (s3://${BUCKET}/data/test.csv)`,
  );
});
