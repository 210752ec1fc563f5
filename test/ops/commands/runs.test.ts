import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { runLayout } from '../../../contracts/run-layout';
import { formatRuns, listRuns } from '../../../ops/commands/runs';
import { S3RunReader } from '../../../ops/s3-run-reader';
import { type LocalS3Server, startS3Server } from '../../support/s3-server';
import { localS3Client, runStatus, seedRun } from '../support/run-fixture';

let server: LocalS3Server;
let s3: S3Client;

beforeAll(async () => {
  server = await startS3Server({ bucket: 'facepoints-runs' });
  s3 = localS3Client(server.endpoint);
});
afterAll(async () => {
  s3?.destroy();
  await server?.close();
});

test('lists each run with its state and best dev RMSE: from the summary when finished, else the live status', async () => {
  const reader = new S3RunReader(s3, server.bucket);
  expect(await listRuns(reader)).toEqual([]);
  expect(formatRuns([])).toBe('no runs in this bucket yet');

  await seedRun(s3, server.bucket, '20261128-220000', {
    status: runStatus('20261128-220000', { state: 'succeeded', phase: 'done' }),
    finished: true,
  });
  await seedRun(s3, server.bucket, '20261129-010000', {
    status: runStatus('20261129-010000', { bestDevRmsePx: 1.9 }),
    finished: false,
  });
  await seedRun(s3, server.bucket, '20261129-030000', { status: null, finished: false });

  const runs = await listRuns(reader);
  expect(runs.map((r) => [r.runId, r.state, r.bestDevRmsePx, r.bestModel, r.hasResults])).toEqual([
    ['20261128-220000', 'succeeded', 1.588, 'specialists', true],
    ['20261129-010000', 'running', 1.9, 'specialists/nose-tip', false],
    ['20261129-030000', 'no status', null, null, false],
  ]);
  const lines = formatRuns(runs).split('\n');
  expect(lines[0]).toMatch(/^RUN\s+STATE\s+PHASE\s+BEST DEV RMSE\s+MODEL\s+RESULTS\s+STARTED$/);
  expect(lines[2]).toMatch(/^20261128-220000\s+succeeded\s+done\s+1\.588 px\s+specialists\s+ready/);
  expect(lines[4]).toMatch(/^20261129-030000\s+no status\s+-\s+-\s+-\s+-\s+-$/);
});

test("a run split into train --units jobs shows its units' state until its report writes status.json", async () => {
  const other = await startS3Server({ bucket: 'facepoints-split' });
  const client = localS3Client(other.endpoint);
  const id = '20261203-100000';
  const putUnit = (unit: string, status: ReturnType<typeof runStatus>) =>
    client.send(
      new PutObjectCommand({
        Bucket: other.bucket,
        Key: `runs/${id}/${runLayout.unitStatus(unit)}`,
        Body: JSON.stringify(status),
      }),
    );
  try {
    await seedRun(client, other.bucket, id, { status: null, finished: false });
    const reader = new S3RunReader(client, other.bucket);
    const base = { phase: 'baseline', startedAt: '2026-12-03T10:00:00.000Z' };
    await putUnit(
      'baseline',
      runStatus(id, { ...base, state: 'succeeded', model: 'baseline', bestDevRmsePx: 2.4 }),
    );
    await putUnit(
      'specialists/nose-tip',
      runStatus(id, {
        ...base,
        model: 'specialists/nose-tip',
        bestDevRmsePx: 1.7,
        startedAt: '2026-12-03T11:00:00.000Z',
        updatedAt: '2026-12-03T11:30:00.000Z',
      }),
    );
    let [run] = await listRuns(reader);
    expect(run).toMatchObject({
      state: 'running',
      phase: '1 of 2 units training',
      startedAt: '2026-12-03T10:00:00.000Z',
      updatedAt: '2026-12-03T11:30:00.000Z',
      bestDevRmsePx: 1.7,
      bestModel: 'specialists/nose-tip',
    });
    await putUnit(
      'specialists/nose-tip',
      runStatus(id, { ...base, state: 'succeeded', model: 'specialists/nose-tip', bestDevRmsePx: 1.6 }),
    );
    [run] = await listRuns(reader);
    expect([run?.state, run?.phase]).toEqual(['report pending', '2 of 2 units done']);
  } finally {
    client.destroy();
    await other.close();
  }
});

test('the run list follows ListObjectsV2 continuation across pages', async () => {
  const ids = ['p-1', 'p-2', 'p-3', 'p-4', 'p-5'];
  const other = await startS3Server({ bucket: 'facepoints-paged' });
  const client = localS3Client(other.endpoint);
  try {
    for (const id of ids) await seedRun(client, other.bucket, id, { status: runStatus(id), finished: false });
    const reader = new S3RunReader(client, other.bucket, 'runs/', 2);
    expect(await reader.listRunIds()).toEqual(ids);
  } finally {
    client.destroy();
    await other.close();
  }
});
