import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { collectStatus, formatStatus } from '../../ops/commands/status';
import { fetchResults, formatResults } from '../../ops/commands/results';
import { listRuns } from '../../ops/commands/runs';
import type { ProgressSink } from '../../ops/download';
import { S3RunReader } from '../../ops/s3-run-reader';
import { runLayout } from '../../contracts/run-layout';
import { type LocalS3Server, startS3Server } from '../support/s3-server';
import { localS3Client, sha256 } from './support/run-fixture';

/**
 * The operator commands against a run the real trainer wrote to a real S3 server: a tiny generated data
 * set and the quick preset cut down to the mean and a 4-unit MLP for 2 epochs (about 40 s on 2 cores).
 */
const exec = promisify(execFile);
const root = path.resolve(__dirname, '../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');
const cli = path.join(root, 'cli/main.ts');
const runId = 'tiny-quick';

let server: LocalS3Server;
let s3: S3Client;
let reader: S3RunReader;
let work: string;
let manifest: { artifacts: Array<{ key: string; size: number; sha256: string }> };
let summary: {
  models: Array<{ name: string; devRmsePx: number; bestLabels: string[]; worstLabels: string[] }>;
};

async function bucketText(key: string): Promise<string> {
  const res = await s3.send(new GetObjectCommand({ Bucket: server.bucket, Key: reader.key(runId, key) }));
  return res.Body!.transformToString('utf8');
}

beforeAll(async () => {
  server = await startS3Server({ bucket: 'facepoints-trained' });
  s3 = localS3Client(server.endpoint);
  reader = new S3RunReader(s3, server.bucket);
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'facepoints-trainer-run-'));
  const env = { ...process.env, ...server.env };
  const data = path.join(work, 'data');
  await exec(tsx, [cli, 'sample', '--out', data, '--rows', '120', '--test-rows', '20'], { env, cwd: work });
  await exec(
    tsx,
    [
      cli,
      'train',
      '--data',
      data,
      '--out',
      `s3://${server.bucket}/runs`,
      '--run',
      runId,
      '--preset',
      'quick',
      '--models',
      'mlp',
      '--set',
      'mlpHidden=4',
      '--set',
      'mlp.maxEpochs=2',
    ],
    { env, cwd: work },
  );
  manifest = JSON.parse(await bucketText(runLayout.resultsManifest));
  summary = JSON.parse(await bucketText(runLayout.summary));
}, 300_000);

afterAll(async () => {
  s3?.destroy();
  await server?.close();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

test('runs and status read the finished run', async () => {
  const best = summary.models.reduce((a, b) => (b.devRmsePx < a.devRmsePx ? b : a));
  expect(await listRuns(reader)).toEqual([
    expect.objectContaining({
      runId,
      state: 'succeeded',
      bestDevRmsePx: best.devRmsePx,
      bestModel: best.name,
      hasResults: true,
    }),
  ]);

  const report = await collectStatus(
    { reader, ec2: null, instanceId: null, noInstanceReason: 'local run', now: new Date() },
    runId,
  );
  expect(report.status?.state).toBe('succeeded');
  expect(report.staleHeartbeat).toBeNull();
  expect(report.lastCheckpointAt).not.toBeNull();
  expect(formatStatus(report)).toMatch(/state:\s+succeeded/);
});

test('results: interrupted, resumed, verified against the trainer manifest, then a corrupted object is reported', async () => {
  const out = path.join(work, 'results');
  const total = manifest.artifacts.reduce((s, a) => s + a.size, 0);
  const abort = new AbortController();
  let seen = 0;
  const progress: ProgressSink = {
    start: () => {},
    advance: (n) => {
      seen += n;
      if (seen > total / 2) abort.abort();
    },
    stop: () => {},
  };
  await expect(fetchResults(reader, runId, out, { signal: abort.signal, progress })).rejects.toThrow(
    /download interrupted/,
  );

  const resumed = await fetchResults(reader, runId, out);
  expect(resumed.download.files.some((f) => f.outcome === 'verified')).toBe(true);
  expect(resumed.download.files.filter((f) => f.outcome === 'resumed')).toHaveLength(1);
  expect(resumed.download.bytesTransferred).toBeLessThan(total);
  for (const a of manifest.artifacts) expect(sha256(await fs.readFile(path.join(out, a.key)))).toBe(a.sha256);
  for (const m of summary.models)
    expect(formatResults(resumed)).toMatch(
      new RegExp(`${m.name}\\s+${m.devRmsePx.toFixed(3)}.*${m.bestLabels[0]}.*${m.worstLabels[0]}`),
    );

  const weights = manifest.artifacts.find((a) => a.key.endsWith('weights.bin'))!;
  const damaged = Buffer.from(
    await (
      await s3.send(new GetObjectCommand({ Bucket: server.bucket, Key: reader.key(runId, weights.key) }))
    ).Body!.transformToByteArray(),
  );
  damaged.writeUInt8(damaged.readUInt8(damaged.length >> 1) ^ 0x55, damaged.length >> 1);
  await s3.send(
    new PutObjectCommand({ Bucket: server.bucket, Key: reader.key(runId, weights.key), Body: damaged }),
  );
  const again = await fetchResults(reader, runId, path.join(work, 'results-2'));
  const bad = again.download.files.filter((f) => f.outcome === 'corrupt');
  expect(bad.map((f) => f.key)).toEqual([weights.key]);
  expect(bad[0]?.problem).toContain(
    `the manifest expects ${weights.size} bytes with sha256 ${weights.sha256}, the bucket holds ${damaged.length} bytes with sha256 ${sha256(damaged)}`,
  );
});
