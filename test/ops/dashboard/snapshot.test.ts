import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runLayout } from '../../../contracts/run-layout';
import type { RunSnapshot, RunsSnapshot, Unreachable } from '../../../ops/dashboard/api';
import { listMetricUnits, runSnapshot, runsSnapshot } from '../../../ops/dashboard/snapshot';
import { FileStore } from '../../../trainer/storage/file-store';
import type { Store } from '../../../trainer/storage/store';
import { batchJob, batchStatusReport, runSummary } from '../support/run-fixture';
import { FlakyStore, RunWriter } from './run-store';

const NOW = new Date('2026-11-29T04:00:00.000Z');
let root: string;
let store: FileStore;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'facepoints-dashboard-snapshot-'));
  store = new FileStore(root);
});
afterEach(() => fs.rm(root, { recursive: true, force: true }));

const source = (s: Store = store) => ({ store: s, now: () => NOW });

function ok<T extends { reconnecting: false }>(answer: T | Unreachable): T {
  if (answer.reconnecting) throw new Error(`expected a snapshot, found: ${answer.error}`);
  return answer;
}

describe('runSnapshot', () => {
  it("gives every unit's curve so far, in pixels, and no warning while the heartbeat is fresh", async () => {
    const w = new RunWriter(store, 'r1');
    await w.status({ updatedAt: '2026-11-29T03:59:30.000Z' });
    const baseline = await w.epochs('baseline', 3);
    await w.epochs('specialists/nose-tip', 2);

    const snap = ok<RunSnapshot>(await runSnapshot(source(), 'r1'));

    expect(snap.units.map((u) => u.unit)).toEqual(['baseline', 'specialists/nose-tip']);
    const b = snap.units[0]!;
    expect(b.epochs).toEqual([1, 2, 3]);
    expect(b.devRmsePx).toEqual(baseline.map((m) => m.devRmsePx));
    // train RMSE is derived from the CSV's train loss: sqrt(mse) * 48, here 1.2 + 4.5 / epoch.
    for (const [i, v] of b.trainRmsePx.entries()) expect(v).toBeCloseTo(1.2 + 4.5 / (i + 1), 5);
    expect(snap.heartbeatAgeSeconds).toBe(30);
    expect(snap.staleWarning).toBeNull();
    expect(snap.cost).toBeNull();
    expect(snap.summary).toBeNull();
    expect(snap.meanDevRmsePx).toBeNull();
  });

  it('shows the unit status with the latest heartbeat while a run split into --units jobs has no status.json', async () => {
    const w = new RunWriter(store, 'r1');
    await w.unitStatus('baseline', {
      state: 'succeeded',
      model: 'baseline',
      updatedAt: '2026-11-29T03:20:00.000Z',
    });
    await w.unitStatus('specialists/nose-tip', {
      model: 'specialists/nose-tip',
      epoch: 7,
      updatedAt: '2026-11-29T03:59:00.000Z',
    });
    await w.unitStatus('specialists/eyebrows', {
      model: 'specialists/eyebrows',
      updatedAt: '2026-11-29T03:58:00.000Z',
    });
    const snap = ok<RunSnapshot>(await runSnapshot(source(), 'r1'));
    expect(snap.status?.model).toBe('specialists/nose-tip');
    expect(snap.status?.epoch).toBe(7);
    expect(snap.status?.state).toBe('running');
    expect(snap.status?.phase).toBe('2 of 3 units training');
    expect(snap.heartbeatAgeSeconds).toBe(60);

    // A unit that failed stays the run's verdict after the others finish later, here and in the runs view.
    await w.unitStatus('specialists/nose-tip', {
      state: 'failed',
      model: 'specialists/nose-tip',
      error: 'out of memory',
      updatedAt: '2026-11-29T03:59:00.000Z',
    });
    await w.unitStatus('specialists/eyebrows', {
      state: 'succeeded',
      model: 'specialists/eyebrows',
      updatedAt: '2026-11-29T03:59:50.000Z',
    });
    const failed = ok<RunSnapshot>(await runSnapshot(source(), 'r1'));
    expect(failed.status).toMatchObject({
      state: 'failed',
      phase: '2 of 3 units done',
      model: 'specialists/eyebrows',
      error: 'specialists/nose-tip: out of memory',
    });
    expect(failed.staleWarning).toBeNull();
    await w.config('quick');
    const runs = ok<RunsSnapshot>(await runsSnapshot(source()));
    expect(runs.runs.map((r) => [r.state, r.phase])).toEqual([['failed', '2 of 3 units done']]);
  });

  it('sees epochs appended since the last read', async () => {
    const w = new RunWriter(store, 'r1');
    await w.status({});
    await w.epochs('baseline', 2);
    expect(ok<RunSnapshot>(await runSnapshot(source(), 'r1')).units[0]!.epochs).toHaveLength(2);
    await w.epochs('baseline', 3);
    expect(ok<RunSnapshot>(await runSnapshot(source(), 'r1')).units[0]!.epochs).toEqual([1, 2, 3, 4, 5]);
  });

  it('warns when a running run has missed five heartbeats, and not once it has ended', async () => {
    const w = new RunWriter(store, 'r1');
    await w.status({ updatedAt: '2026-11-29T03:54:00.000Z' });
    expect(ok<RunSnapshot>(await runSnapshot(source(), 'r1')).staleWarning).toBe(
      'STALE: no heartbeat for 6m 00s (expected at least every minute); the trainer may have stopped without recording its end',
    );
    await w.status({ updatedAt: '2026-11-29T03:54:00.000Z', state: 'succeeded' });
    expect(ok<RunSnapshot>(await runSnapshot(source(), 'r1')).staleWarning).toBeNull();
  });

  it("takes the stale verdict and the cost from facepoints status's report when the run is the deployment's", async () => {
    const w = new RunWriter(store, 'r1');
    await w.status({});
    const snap = ok<RunSnapshot>(
      await runSnapshot(
        {
          ...source(),
          awsStatus: async () =>
            ({
              staleHeartbeat: 'the run says it is running but instance i-1 is terminated',
              cost: { usd: 1.25, hours: 2.5, usdPerHour: 0.5, priceSource: 'on-demand list price' },
            }) as never,
        },
        'r1',
      ),
    );
    expect(snap.staleWarning).toBe('the run says it is running but instance i-1 is terminated');
    expect(snap.cost).toEqual({
      usd: 1.25,
      hours: 2.5,
      usdPerHour: 0.5,
      priceSource: 'on-demand list price',
    });
  });

  it("shows an engine=batch run's execution, its jobs and their cost from facepoints status's report", async () => {
    const w = new RunWriter(store, 'r1');
    await w.unitStatus('specialists/nose-tip', { model: 'specialists/nose-tip' });
    const snap = ok<RunSnapshot>(
      await runSnapshot(
        {
          ...source(),
          awsStatus: async () =>
            batchStatusReport(
              { status: 'RUNNING', error: null },
              [
                batchJob('baseline', 'SUCCEEDED', 1, 'Essential container in task exited'),
                batchJob('specialists/nose-tip', 'RUNNING', 2, null),
              ],
              1,
            ),
        },
        'r1',
      ),
    );
    expect(snap.batch).toEqual({
      execution: { status: 'RUNNING', error: null },
      executionNote: null,
      jobs: [
        {
          unit: 'baseline',
          status: 'SUCCEEDED',
          attempts: 1,
          statusReason: 'Essential container in task exited',
        },
        { unit: 'specialists/nose-tip', status: 'RUNNING', attempts: 2, statusReason: null },
      ],
      jobsNote: null,
    });
    expect(snap.cost).toEqual({ usd: 0.789, hours: 1.5, usdPerHour: 0.526, priceSource: 'list price' });
    // Without facepoints status's report (a run outside the deployment) there is no Batch section.
    expect(ok<RunSnapshot>(await runSnapshot(source(), 'r1')).batch).toBeNull();
  });

  it("draws the mean predictor line from a running run's status, before any report", async () => {
    const w = new RunWriter(store, 'r1');
    await w.status({ phase: 'baseline', model: 'baseline', epoch: 2, meanDevRmsePx: 3.5 });
    await w.epochs('baseline', 2);
    const snap = ok<RunSnapshot>(await runSnapshot(source(), 'r1'));
    expect(snap.summary).toBeNull();
    expect(snap.meanDevRmsePx).toBe(3.5);
  });

  it('shows the report once written: the summary, the mean predictor line of an older status and the pictures present', async () => {
    const w = new RunWriter(store, 'r1');
    await w.status({ state: 'succeeded', phase: 'done' });
    await w.epochs('baseline', 2);
    await w.report(Buffer.from('png'));
    const snap = ok<RunSnapshot>(await runSnapshot(source(), 'r1'));
    expect(snap.summary?.bestModel).toBe('specialists');
    expect(snap.meanDevRmsePx).toBe(runSummary('r1').models.find((m) => m.name === 'mean')!.devRmsePx);
    expect(snap.images).toEqual({ bestWorst: true, learningCurves: false });
  });

  it('answers "reconnecting" with the reason instead of throwing when the store fails', async () => {
    const failing = new FlakyStore(store);
    failing.setDown(true);
    const answer = await runSnapshot(source(failing), 'r1');
    expect(answer).toEqual({
      reconnecting: true,
      error: expect.stringMatching(/^(get|list) .* failed: connect ECONNREFUSED$/),
      checkedAt: NOW.toISOString(),
    });
  });

  it('names the file and the key of a status.json that does not match its schema', async () => {
    await store.put(`r1/${runLayout.status}`, JSON.stringify({ runId: 'r1', state: 'sleeping' }));
    const answer = await runSnapshot(source(), 'r1');
    expect(answer.reconnecting).toBe(true);
    expect((answer as Unreachable).error).toContain(`${root}/r1/status.json: unexpected content: state:`);
  });
});

describe('listMetricUnits', () => {
  it('turns metrics files into unit ids in training order, specialists included, and ignores other files', async () => {
    const w = new RunWriter(store, 'r1');
    for (const unit of ['specialists/nose-tip', 'mlp', 'specialists/eye-centers', 'baseline'])
      await w.epochs(unit, 1);
    await store.put('r1/metrics/notes.txt', 'x');
    expect(await listMetricUnits(store.child('r1/'))).toEqual([
      'mlp',
      'baseline',
      'specialists/eye-centers',
      'specialists/nose-tip',
    ]);
  });
});

describe('runsSnapshot', () => {
  it('compares runs side by side: best dev RMSE per model, time, cost and preset; a broken run does not hide the others', async () => {
    const done = new RunWriter(store, '20261129-010000');
    await done.status({ state: 'succeeded', phase: 'done', finishedAt: '2026-11-29T02:40:00.000Z' });
    await done.config('quick');
    await done.report(Buffer.from('png'));
    const live = new RunWriter(store, '20261129-030000');
    await live.status({ startedAt: '2026-11-29T03:00:00.000Z', model: 'baseline', bestDevRmsePx: 2.25 });
    await live.config('seed');
    await store.put('20261129-020000/status.json', '{ not json');

    const snap = ok<RunsSnapshot>(await runsSnapshot(source()));

    expect(snap.runs.map((r) => [r.runId, r.state])).toEqual([
      ['20261129-010000', 'succeeded'],
      ['20261129-020000', 'unreadable'],
      ['20261129-030000', 'running'],
    ]);
    const [a, broken, b] = snap.runs;
    expect(a).toMatchObject({
      preset: 'quick',
      seconds: 6000,
      costUsd: 0.88,
      bestModel: 'specialists',
      bestDevRmsePx: { mean: 3.214, baseline: 1.734, specialists: 1.588 },
    });
    expect(broken!.error).toContain('20261129-020000/status.json: expected JSON');
    expect(b).toMatchObject({
      preset: 'seed',
      seconds: 3600,
      costUsd: null,
      bestDevRmsePx: { baseline: 2.25 },
    });
  });
});
