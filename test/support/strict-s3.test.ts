import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { isNotFound, isPermanentS3Error } from '../../common/s3-client';
import { mapS3Request, startStrictS3, type PolicyDocument, type StrictS3Server } from './strict-s3';

const BUCKET = 'strict-test';
const ARN = `arn:aws:s3:::${BUCKET}`;
const base = { partition: 'aws', context: { 'aws:SecureTransport': 'true' } };
const map = (method: string, pathAndQuery: string, headers: Record<string, string> = {}) => {
  const m = mapS3Request(method, new URL(pathAndQuery, 'http://s3'), headers, base);
  return 'auths' in m ? [m.operation, ...m.auths.map((a) => `${a.action} ${a.resource}`)] : [m.operation];
};

test('requests map to the operation and the IAM actions S3 authorizes them with', () => {
  expect(map('GET', `/${BUCKET}/runs/a%20b/x.json?x-id=GetObject`)).toEqual([
    'GetObject',
    `s3:GetObject ${ARN}/runs/a b/x.json`,
  ]);
  expect(map('HEAD', `/${BUCKET}/k`)).toEqual(['HeadObject', `s3:GetObject ${ARN}/k`]);
  expect(map('GET', `/${BUCKET}/k?versionId=3`)).toEqual(['GetObject', `s3:GetObjectVersion ${ARN}/k`]);
  expect(map('HEAD', `/${BUCKET}`)).toEqual(['HeadBucket', `s3:ListBucket ${ARN}`]);
  expect(map('GET', `/${BUCKET}?location`)).toEqual(['GetBucketLocation', `s3:GetBucketLocation ${ARN}`]);
  expect(map('GET', `/${BUCKET}/?list-type=2&prefix=runs%2F&delimiter=%2F`)).toEqual([
    'ListObjectsV2',
    `s3:ListBucket ${ARN}`,
  ]);
  expect(map('GET', `/${BUCKET}?prefix=data%2F`)).toEqual(['ListObjects', `s3:ListBucket ${ARN}`]);
  expect(map('POST', `/${BUCKET}/k?uploads`)).toEqual(['CreateMultipartUpload', `s3:PutObject ${ARN}/k`]);
  expect(map('PUT', `/${BUCKET}/k?partNumber=1&uploadId=u`)).toEqual(['UploadPart', `s3:PutObject ${ARN}/k`]);
  expect(map('POST', `/${BUCKET}/k?uploadId=u`)).toEqual([
    'CompleteMultipartUpload',
    `s3:PutObject ${ARN}/k`,
  ]);
  expect(map('DELETE', `/${BUCKET}/k?uploadId=u`)).toEqual([
    'AbortMultipartUpload',
    `s3:AbortMultipartUpload ${ARN}/k`,
  ]);
  expect(map('GET', `/${BUCKET}/k?uploadId=u`)).toEqual([
    'ListParts',
    `s3:ListMultipartUploadParts ${ARN}/k`,
  ]);
  expect(map('DELETE', `/${BUCKET}/k?x-id=DeleteObject`)).toEqual([
    'DeleteObject',
    `s3:DeleteObject ${ARN}/k`,
  ]);
  expect(map('PUT', `/${BUCKET}/dst`, { 'x-amz-copy-source': `/${BUCKET}/src` })).toEqual([
    'CopyObject',
    `s3:PutObject ${ARN}/dst`,
    `s3:GetObject ${ARN}/src`,
  ]);
  expect(map('POST', `/${BUCKET}?delete`)).toEqual(['Unmapped']);
  expect(map('GET', `/${BUCKET}?list-type=2&prefix=a&max-keys=5`).length).toBe(2);
  const list = mapS3Request(
    'GET',
    new URL(`/${BUCKET}?list-type=2&prefix=a%2F&delimiter=%2F&max-keys=5`, 'http://s3'),
    {},
    base,
  );
  expect('auths' in list && list.auths[0].context).toEqual({
    'aws:SecureTransport': 'true',
    's3:prefix': 'a/',
    's3:delimiter': '/',
    's3:max-keys': '5',
  });
});

describe('the strict S3 server', () => {
  const statement = (Sid: string, Action: string[], Resource: string, Condition?: object) => ({
    Sid,
    Effect: 'Allow' as const,
    Action,
    Resource,
    ...(Condition ? { Condition } : {}),
  });
  // The bucket policy CDK writes for enforceSSL: the server must count loopback HTTP as TLS.
  const bucketPolicy: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 's3:*',
        Resource: [ARN, `${ARN}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ],
  };
  let open: StrictS3Server;
  let prefixOnly: StrictS3Server;
  let client: S3Client;
  let prefixClient: S3Client;
  const clientOf = (s: StrictS3Server) =>
    new S3Client({
      endpoint: s.endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (err: Error & { $metadata?: { httpStatusCode?: number } }) => ({
        name: err.name,
        status: err.$metadata?.httpStatusCode,
        notFound: isNotFound(err),
        permanent: isPermanentS3Error(err),
      }),
    );

  beforeAll(async () => {
    const rw = statement(
      'ReadWrite',
      ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
      `${ARN}/mine/*`,
    );
    open = await startStrictS3({
      bucket: BUCKET,
      bucketPolicy,
      identityPolicies: [
        {
          name: 'role',
          policy: { Version: '2012-10-17', Statement: [rw, statement('List', ['s3:ListBucket'], ARN)] },
        },
      ],
    });
    prefixOnly = await startStrictS3({
      bucket: BUCKET,
      bucketPolicy,
      identityPolicies: [
        {
          name: 'role',
          policy: {
            Version: '2012-10-17',
            Statement: [
              rw,
              statement('List', ['s3:ListBucket'], ARN, { StringLike: { 's3:prefix': ['mine/', 'mine/*'] } }),
            ],
          },
        },
      ],
    });
    client = clientOf(open);
    prefixClient = clientOf(prefixOnly);
  });
  afterAll(async () => {
    client?.destroy();
    prefixClient?.destroy();
    await open?.close();
    await prefixOnly?.close();
  });

  test('allowed requests reach s3rver; a denied one gets 403 AccessDenied and is recorded with its context', async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'mine/a.txt', Body: 'hello' }));
    const body = await (
      await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'mine/a.txt' }))
    ).Body!.transformToString();
    expect(body).toBe('hello');
    expect(
      await failure(client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'theirs/a.txt', Body: 'x' }))),
    ).toEqual({ name: 'AccessDenied', status: 403, notFound: false, permanent: true });
    const [denied] = open.deniedRequests();
    expect(denied).toEqual(
      expect.objectContaining({
        operation: 'PutObject',
        action: 's3:PutObject',
        resource: `${ARN}/theirs/a.txt`,
        decision: 'ImplicitlyDenied',
        status: 403,
      }),
    );
    expect(denied?.context).toEqual(
      expect.objectContaining({ 'aws:SecureTransport': 'true', 's3:ResourceAccount': '111111111111' }),
    );
    expect(open.requests.find((r) => r.operation === 'GetObject')?.grantedBy).toEqual(['role/ReadWrite']);
  });

  test('multipart uploads pass as s3:PutObject', async () => {
    await new Upload({
      client,
      params: { Bucket: BUCKET, Key: 'mine/big.bin', Body: Buffer.alloc(11 * 1024 * 1024, 7) },
      partSize: 5 * 1024 * 1024,
    }).done();
    const ops = open.requests
      .filter((r) => r.resource.endsWith('big.bin'))
      .map((r) => `${r.operation} ${r.action} ${r.status}`);
    expect(ops).toEqual(
      expect.arrayContaining([
        'CreateMultipartUpload s3:PutObject 200',
        'UploadPart s3:PutObject 200',
        'CompleteMultipartUpload s3:PutObject 200',
      ]),
    );
  });

  test('a missing key is 404 with ListBucket on the bucket, 403 when ListBucket is conditioned on s3:prefix', async () => {
    expect(await failure(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'mine/none' })))).toEqual({
      name: 'NoSuchKey',
      status: 404,
      notFound: true,
      permanent: true,
    });
    expect(await failure(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'mine/none' })))).toEqual(
      expect.objectContaining({ status: 404, notFound: true }),
    );

    // Listing under the prefix is fine: the request carries s3:prefix.
    await prefixClient.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'mine/' }));
    expect(
      await failure(prefixClient.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'mine/none' }))),
    ).toEqual({ name: 'AccessDenied', status: 403, notFound: false, permanent: true });
    expect(
      await failure(prefixClient.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'mine/none' }))),
    ).toEqual(expect.objectContaining({ status: 403, notFound: false, permanent: true }));
    const denied = prefixOnly.deniedRequests();
    expect(denied.map((r) => `${r.operation} ${r.action} ${r.decision}`)).toEqual([
      'GetObject s3:ListBucket ImplicitlyDenied',
      'HeadObject s3:ListBucket ImplicitlyDenied',
    ]);
    expect(denied[0]?.authorizations.map((a) => `${a.action} ${a.decision}`)).toEqual([
      's3:GetObject Allowed',
      's3:ListBucket ImplicitlyDenied',
    ]);
  });

  test('a request the server cannot map to an IAM action is refused, not passed through', async () => {
    expect(
      await failure(
        client.send(
          new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: 'mine/a.txt' }] } }),
        ),
      ),
    ).toEqual(expect.objectContaining({ name: 'AccessDenied', status: 403 }));
    expect(open.deniedRequests().at(-1)).toEqual(
      expect.objectContaining({ operation: 'Unmapped', decision: 'Unmapped' }),
    );
  });
});
