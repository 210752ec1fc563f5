import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runLayout } from '../../../contracts/run-layout';
import { EXIT_INTERRUPTED, RunStatusSchema } from '../../../contracts/run-status';
import { createS3Client } from '../../../common/s3-client';
import { S3Store } from '../../../trainer/storage/s3-store';
import { startCli as cli } from '../../support/cli-process';
import { startS3Server, type LocalS3Server } from '../../support/s3-server';
import { writeKaggleFixture } from '../run/kaggle-fixture';

/**
 * `facepoints train --units` as AWS Batch runs it: child processes against a real S3 server, one of them
 * sent SIGTERM mid-unit (a spot reclaim), two of them asked for the same unit at once.
 */
// Enough epochs of a tiny network that a unit trains for several seconds.
const SETTINGS = [
  '--preset',
  'quick',
  '--workers',
  '1',
  ...[
    'baseline.maxEpochs=12',
    'baseline.patience=12',
    'batchSize=16',
    'network.convFilters=2,2,2',
    'network.denseUnits=8,8',
    'checkpointEveryEpochs=1',
  ].flatMap((s) => ['--set', s]),
];

describe('train --units in separate processes (local S3)', () => {
  let server: LocalS3Server;
  let tmp: string;
  let data: string;
  const out = () => `s3://${server.bucket}/runs`;
  const train = (run: string, units: string) =>
    cli(['train', '--data', data, '--out', out(), '--run', run, ...SETTINGS, '--units', units], server.env);
  const store = (run: string) =>
    new S3Store(`${out()}/${run}`, { client: createS3Client({ ...process.env, ...server.env }) });

  beforeAll(async () => {
    server = await startS3Server();
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'facepoints-units-'));
    data = path.join(tmp, 'data');
    await writeKaggleFixture(data, 90, 6);
  });
  afterAll(async () => {
    await server?.close();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('SIGTERM mid-unit: exit 75, the unit interrupted and its lease given back; the same command resumes from the checkpoint', async () => {
    const first = train('term', 'baseline');
    await first.waitFor(/baseline: epoch 3\//);
    first.child.kill('SIGTERM');
    expect({ code: await first.exit }).toEqual({ code: EXIT_INTERRUPTED });

    const s = store('term');
    try {
      const status = RunStatusSchema.parse(
        JSON.parse((await s.get(runLayout.unitStatus('baseline')))!.toString('utf8')),
      );
      expect([status.state, status.interruption]).toEqual(['interrupted', 'SIGTERM']);
      expect(await s.get(runLayout.lease('baseline'))).toBeNull();
      expect(await s.get(runLayout.unitDone('baseline'))).toBeNull();
      const interruptedAt = status.epoch ?? 0;
      expect(interruptedAt).toBeGreaterThanOrEqual(3);

      const retry = train('term', 'baseline');
      expect({ code: await retry.exit }).toEqual({ code: 0 });
      const epochs = [...retry.output().matchAll(/baseline: epoch (\d+)\/12/g)].map((m) => Number(m[1]));
      // Continues after the last finished epoch (every epoch is checkpointed): nothing before it again.
      expect(epochs[0]).toBe(interruptedAt + 1);
      expect(epochs.at(-1)).toBe(12);
      const csv = (await s.get(runLayout.metrics('baseline')))!.toString('utf8').trim().split('\n');
      expect(csv.slice(1).map((l) => Number(l.split(',')[0]))).toEqual(
        Array.from({ length: 12 }, (_, i) => i + 1),
      );
    } finally {
      s.close();
    }
  }, 300_000);

  it('two processes asked for the same unit at once: exactly one trains it, the other leaves it alone', async () => {
    const runs = [train('twice', 'baseline'), train('twice', 'baseline')];
    const codes = await Promise.all(runs.map((r) => r.exit));
    const outputs = runs.map((r) => r.output());
    const trainedIt = outputs.filter((o) => /baseline: epoch 1\/12/.test(o));
    expect(trainedIt).toHaveLength(1);
    const other = outputs.find((o) => !/baseline: epoch 1\/12/.test(o)) ?? '';
    const otherCode = codes[outputs.indexOf(other)];
    // Refused while the lease is live (exit 75, try again later), or found the unit finished.
    expect(
      (otherCode === EXIT_INTERRUPTED && /baseline: being trained by .* \(lease until /.test(other)) ||
        (otherCode === 0 && /baseline: finished (earlier|by another process)/.test(other)),
    ).toBe(true);
    expect(codes).toContain(0);
  }, 300_000);
});
