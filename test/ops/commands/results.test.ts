import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fetchResults, formatResults } from '../../../ops/commands/results';
import { PARTIAL_SUFFIX, type ProgressSink } from '../../../ops/download';
import { S3RunReader } from '../../../ops/s3-run-reader';
import { runLayout } from '../../../contracts/run-layout';
import { type LocalS3Server, startS3Server } from '../../support/s3-server';
import { localS3Client, runStatus, seedRun, type SeededRun, sha256 } from '../support/run-fixture';

let server: LocalS3Server;
let s3: S3Client;
let reader: S3RunReader;
let run: SeededRun;
let work: string;
const runId = '20261129-010000';

beforeAll(async () => {
  server = await startS3Server({ bucket: 'facepoints-results' });
  s3 = localS3Client(server.endpoint);
  reader = new S3RunReader(s3, server.bucket);
  run = await seedRun(s3, server.bucket, runId, {
    status: runStatus(runId, { state: 'succeeded', phase: 'done' }),
    finished: true,
  });
  await seedRun(s3, server.bucket, 'still-running', { status: runStatus('still-running'), finished: false });
});

afterAll(async () => {
  s3?.destroy();
  await server?.close();
});

beforeEach(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'facepoints-results-'));
});
afterEach(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

async function expectSameAsBucket(outDir: string, keys: string[]): Promise<void> {
  for (const key of keys)
    expect(sha256(await fs.readFile(path.join(outDir, key)))).toBe(sha256(run.files.get(key)!));
}

test('downloads every artifact of the manifest, verified, and prints the summary table', async () => {
  const report = await fetchResults(reader, runId, work);
  const total = run.artifactKeys.reduce((s, k) => s + run.files.get(k)!.length, 0);

  expect(report.download.files.map((f) => [f.key, f.outcome])).toEqual(
    run.artifactKeys.map((k) => [k, 'downloaded']),
  );
  expect(report.download.bytesTransferred).toBe(total);
  await expectSameAsBucket(work, run.artifactKeys);
  expect(
    JSON.parse(await fs.readFile(path.join(work, runLayout.resultsManifest), 'utf8')).artifacts,
  ).toHaveLength(run.artifactKeys.length);

  const text = formatResults(report);
  expect(text).toMatch(/baseline\s+1\.734/);
  expect(text).toMatch(/specialists\s+1\.588/);
  expect(text).toContain('mouth_center_bottom_lip_y, nose_tip_y');
  expect(text).toContain('left_eye_inner_corner_x, right_eye_inner_corner_x');
  expect(text).toContain(`${run.artifactKeys.length} downloaded, 0 resumed, 0 already verified, 0 corrupt`);
});

test('an interrupted download resumes: verified files are kept, the partial one continues with a Range', async () => {
  const weights = `${runLayout.modelDir('baseline')}/weights.bin`;
  const abort = new AbortController();
  let seen = 0;
  const order = run.artifactKeys;
  const bytesBefore = order
    .slice(0, order.indexOf(weights))
    .reduce((s, k) => s + run.files.get(k)!.length, 0);
  // Abort on the first chunk of the 300 KB weights file, as a Ctrl-C would; chunks are at most 64 KiB.
  const progress: ProgressSink = {
    start: () => {},
    advance: (n) => {
      seen += n;
      if (seen > bytesBefore) abort.abort();
    },
    stop: () => {},
  };
  await expect(fetchResults(reader, runId, work, { signal: abort.signal, progress })).rejects.toThrow(
    /download interrupted after \d+ of 9 files: run the same command again to resume/,
  );
  const partial = (await fs.stat(path.join(work, weights + PARTIAL_SUFFIX))).size;
  expect(partial).toBeGreaterThan(0);
  expect(partial).toBeLessThan(run.files.get(weights)!.length);

  const second = await fetchResults(reader, runId, work);
  const outcome = Object.fromEntries(second.download.files.map((f) => [f.key, f.outcome]));
  expect(outcome[weights]).toBe('resumed');
  for (const k of order.slice(0, order.indexOf(weights))) expect(outcome[k]).toBe('verified');
  for (const k of order.slice(order.indexOf(weights) + 1)) expect(outcome[k]).toBe('downloaded');
  const rest = order.slice(order.indexOf(weights)).reduce((s, k) => s + run.files.get(k)!.length, 0);
  expect(second.download.bytesTransferred).toBe(rest - partial);
  await expectSameAsBucket(work, order);
  await expect(fs.stat(path.join(work, weights + PARTIAL_SUFFIX))).rejects.toThrow(/ENOENT/);
});

test('a local copy that no longer matches is fetched again', async () => {
  await fetchResults(reader, runId, work);
  await fs.writeFile(path.join(work, runLayout.submission), 'RowId,Location\n1,0\n');
  const again = await fetchResults(reader, runId, work);
  expect(again.download.files.find((f) => f.key === runLayout.submission)?.outcome).toBe('downloaded');
  await expectSameAsBucket(work, [runLayout.submission]);
});

test('a corrupted object in the bucket is reported by name and checksum while the rest downloads', async () => {
  const corruptRun = '20261129-020000';
  const seeded = await seedRun(s3, server.bucket, corruptRun, {
    status: runStatus(corruptRun, { state: 'succeeded' }),
    finished: true,
  });
  const weights = `${runLayout.modelDir('specialists/nose-tip')}/weights.bin`;
  const damaged = Buffer.from(seeded.files.get(weights)!);
  damaged.writeUInt8(damaged.readUInt8(1234) ^ 0xff, 1234); // one flipped byte, same size
  await s3.send(
    new PutObjectCommand({ Bucket: server.bucket, Key: reader.key(corruptRun, weights), Body: damaged }),
  );

  const report = await fetchResults(reader, corruptRun, work);
  const bad = report.download.files.find((f) => f.key === weights)!;
  expect(bad.outcome).toBe('corrupt');
  expect(bad.problem).toBe(
    `s3://${server.bucket}/runs/${corruptRun}/${weights} is corrupt: the manifest expects ${damaged.length} bytes with sha256 ${sha256(seeded.files.get(weights)!)}, ` +
      `the bucket holds ${damaged.length} bytes with sha256 ${sha256(damaged)}`,
  );
  await expect(fs.stat(path.join(work, weights))).rejects.toThrow(/ENOENT/);
  await expect(fs.stat(path.join(work, weights + PARTIAL_SUFFIX))).rejects.toThrow(/ENOENT/);
  expect(report.download.files.filter((f) => f.outcome === 'downloaded')).toHaveLength(
    seeded.artifactKeys.length - 1,
  );
  expect(formatResults(report)).toContain(
    `CORRUPT s3://${server.bucket}/runs/${corruptRun}/${weights} is corrupt`,
  );
});

test('a run without results manifest says why and what to do', async () => {
  await expect(fetchResults(reader, 'still-running', work)).rejects.toThrow(
    `s3://${server.bucket}/runs/still-running/report/manifest.json not found (state running, phase specialists): a run writes its results manifest last, when it succeeds`,
  );
});
