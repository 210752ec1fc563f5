import { splitRunAsStatus, summarizeSplitRun } from '../../common/split-run-status';
import type { RunStatus } from '../../contracts/run-status';
import { runStatus } from '../ops/support/run-fixture';

const unit = (model: string, overrides: Partial<RunStatus>): RunStatus =>
  runStatus('r1', { model, phase: model, ...overrides });

describe('summarizeSplitRun', () => {
  it('is null without any unit status', () => {
    expect(summarizeSplitRun([])).toBeNull();
  });

  it('is running while any unit runs, from the earliest start to the latest heartbeat, with the best unit', () => {
    const s = summarizeSplitRun([
      unit('baseline', {
        state: 'succeeded',
        bestDevRmsePx: 2.4,
        startedAt: '2026-12-03T10:00:00.000Z',
        updatedAt: '2026-12-03T10:40:00.000Z',
      }),
      unit('specialists/nose-tip', {
        bestDevRmsePx: 1.7,
        startedAt: '2026-12-03T10:41:00.000Z',
        updatedAt: '2026-12-03T11:30:00.000Z',
      }),
      unit('specialists/eyebrows', {
        bestDevRmsePx: null,
        startedAt: '2026-12-03T10:41:00.000Z',
        updatedAt: '2026-12-03T11:29:00.000Z',
      }),
    ]);
    expect(s).toMatchObject({
      state: 'running',
      phase: '2 of 3 units training',
      startedAt: '2026-12-03T10:00:00.000Z',
      updatedAt: '2026-12-03T11:30:00.000Z',
      bestDevRmsePx: 1.7,
      bestModel: 'specialists/nose-tip',
      note: null,
    });
    expect(s?.latest.model).toBe('specialists/nose-tip');
  });

  it('is failed when a unit failed, whatever finished after it, and says which unit and why', () => {
    const s = summarizeSplitRun([
      unit('specialists/nose-tip', {
        state: 'failed',
        error: 'out of memory',
        updatedAt: '2026-12-03T11:00:00.000Z',
      }),
      unit('specialists/eyebrows', {
        state: 'interrupted',
        interruption: 'spot notice',
        updatedAt: '2026-12-03T11:10:00.000Z',
      }),
      unit('baseline', { state: 'succeeded', updatedAt: '2026-12-03T11:20:00.000Z' }),
    ]);
    expect(s).toMatchObject({
      state: 'failed',
      phase: '1 of 3 units done',
      note: 'specialists/nose-tip: out of memory',
    });
    expect(s?.latest.model).toBe('baseline');
  });

  it('is interrupted when no unit runs or failed and one was interrupted; report pending once all succeeded', () => {
    const done = unit('baseline', { state: 'succeeded' });
    const stopped = unit('specialists/eyebrows', { state: 'interrupted', interruption: 'SIGTERM' });
    expect(summarizeSplitRun([done, stopped])).toMatchObject({
      state: 'interrupted',
      note: 'specialists/eyebrows: SIGTERM',
    });
    expect(summarizeSplitRun([done, { ...stopped, state: 'succeeded' }])).toMatchObject({
      state: 'report pending',
      phase: '2 of 2 units done',
    });
  });
});

describe('splitRunAsStatus', () => {
  it("shows the latest unit's progress under the run's state, with the failure as the run's error", () => {
    const latest = unit('baseline', {
      state: 'succeeded',
      epoch: 30,
      startedAt: '2026-12-03T10:00:00.000Z',
      updatedAt: '2026-12-03T11:20:00.000Z',
      finishedAt: '2026-12-03T11:20:00.000Z',
    });
    const failed = unit('specialists/nose-tip', {
      state: 'failed',
      error: 'out of memory',
      startedAt: '2026-12-03T09:00:00.000Z',
      updatedAt: '2026-12-03T11:00:00.000Z',
    });
    const status = splitRunAsStatus(summarizeSplitRun([failed, latest])!);
    expect(status).toMatchObject({
      state: 'failed',
      phase: '1 of 2 units done',
      model: 'baseline',
      epoch: 30,
      startedAt: '2026-12-03T09:00:00.000Z',
      updatedAt: '2026-12-03T11:20:00.000Z',
      finishedAt: '2026-12-03T11:20:00.000Z',
      error: 'specialists/nose-tip: out of memory',
      interruption: null,
    });
  });

  it('stays running while the report is pending, since the report job has yet to write status.json', () => {
    const status = splitRunAsStatus(
      summarizeSplitRun([unit('baseline', { state: 'succeeded', finishedAt: '2026-12-03T11:20:00.000Z' })])!,
    );
    expect(status).toMatchObject({
      state: 'running',
      phase: '1 of 1 units done, report pending',
      finishedAt: null,
      error: null,
    });
  });
});
