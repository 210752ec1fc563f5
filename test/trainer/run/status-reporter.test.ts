import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runLayout } from '../../../contracts/run-layout';
import { StatusReporter } from '../../../trainer/run/status-reporter';
import { RunStatusSchema, type RunStatus } from '../../../contracts/run-status';
import { FileStore } from '../../../trainer/storage/file-store';

describe('StatusReporter', () => {
  let root: string;
  let store: FileStore;
  const read = async (): Promise<RunStatus> =>
    RunStatusSchema.parse(JSON.parse((await store.get(runLayout.status))!.toString('utf8')));

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'facepoints-status-'));
    store = new FileStore(root);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes a valid running status at start and rewrites it as a heartbeat', async () => {
    const reporter = new StatusReporter(
      store,
      { runId: 'r', startedAt: new Date('2026-11-29T04:00:00Z'), instanceType: 'g4dn.xlarge' },
      { heartbeatMs: 40 },
    );
    await reporter.start();
    const first = await read();
    expect([first.state, first.phase, first.instanceType, first.startedAt]).toEqual([
      'running',
      'starting',
      'g4dn.xlarge',
      '2026-11-29T04:00:00.000Z',
    ]);
    await new Promise((r) => setTimeout(r, 150));
    await reporter.flush();
    expect((await read()).updatedAt > first.updatedAt).toBe(true);
    reporter.stop();
  });

  it('writes phase changes at once and throttles epoch updates', async () => {
    const reporter = new StatusReporter(
      store,
      { runId: 'r', startedAt: new Date(), instanceType: null },
      { heartbeatMs: 60_000, minWriteMs: 60_000 },
    );
    await reporter.start();
    await reporter.update({ phase: 'baseline', model: 'baseline', epoch: 0, maxEpochs: 10 });
    expect((await read()).model).toBe('baseline');
    await reporter.update({ epoch: 3, bestDevRmsePx: 2.5 });
    // Throttled: the store still shows the phase change, the reporter knows the epoch.
    expect((await read()).epoch).toBe(0);
    expect(reporter.current.epoch).toBe(3);
    await reporter.update({ phase: 'specialists', model: 'specialists/nose-tip', epoch: 0 });
    const s = await read();
    expect([s.phase, s.model, s.bestDevRmsePx]).toEqual(['specialists', 'specialists/nose-tip', 2.5]);
    reporter.stop();
  });

  it('records a failure with its message and the finish time', async () => {
    const reporter = new StatusReporter(
      store,
      { runId: 'r', startedAt: new Date(), instanceType: null },
      { heartbeatMs: 60_000 },
    );
    await reporter.start();
    await reporter.finish('failed', { error: 'training.csv:3:12: expected 9216 pixels, found 9215' });
    const s = await read();
    expect([s.state, s.error]).toEqual(['failed', 'training.csv:3:12: expected 9216 pixels, found 9215']);
    expect(s.finishedAt).not.toBeNull();
  });

  it('refuses a status the schema rejects', async () => {
    const reporter = new StatusReporter(
      store,
      { runId: 'r', startedAt: new Date(), instanceType: null },
      { heartbeatMs: 60_000 },
    );
    await expect(reporter.update({ epoch: -1 })).rejects.toThrow();
    reporter.stop();
  });
});
