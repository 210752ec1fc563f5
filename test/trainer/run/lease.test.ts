import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runLayout } from '../../../contracts/run-layout';
import { Leases } from '../../../trainer/run/lease';
import { FileStore } from '../../../trainer/storage/file-store';

describe('Leases', () => {
  let root: string;
  let store: FileStore;
  const leases = (holder: string, renewMs = 60_000, waitMs = 0) =>
    new Leases(store, { holder, settleMs: 30, renewMs, waitMs, pollMs: 20 });
  const liveLease = (unit: string, holder: string) => ({
    unit,
    holder,
    acquiredAt: new Date().toISOString(),
    renewedAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 180_000).toISOString(),
  });

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'facepoints-lease-'));
    store = new FileStore(root);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('refuses a unit another holder has, naming it, and gives it out once released', async () => {
    const a = await leases('a').acquire('baseline');
    expect(a.held).toBe(true);
    const refused = await leases('b').acquire('baseline');
    expect(refused).toEqual({
      held: false,
      current: expect.objectContaining({ unit: 'baseline', holder: 'a' }),
    });
    if (a.held) await a.release();
    expect(await store.get(runLayout.lease('baseline'))).toBeNull();
    expect((await leases('b').acquire('baseline')).held).toBe(true);
  });

  it('takes over a lease whose holder stopped renewing it', async () => {
    await store.put(
      runLayout.lease('specialists/nose-tip'),
      JSON.stringify({
        unit: 'specialists/nose-tip',
        holder: 'killed',
        acquiredAt: '2026-12-01T00:00:00.000Z',
        renewedAt: '2026-12-01T00:00:00.000Z',
        expiresAt: '2026-12-01T00:03:00.000Z',
      }),
    );
    expect((await leases('b').acquire('specialists/nose-tip')).held).toBe(true);
  });

  it('waits for a unit held by another holder, and takes it once released', async () => {
    const a = await leases('a').acquire('baseline');
    if (!a.held) throw new Error('expected the lease');
    setTimeout(() => void a.release(), 200);
    const started = Date.now();
    const b = await leases('b', 60_000, 10_000).acquire('baseline');
    expect(b.held).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('takes over at once a live lease of a process on this host that has ended', async () => {
    const ended = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const pid = Number(ended.stdout.toString());
    await store.put(
      runLayout.lease('baseline'),
      JSON.stringify(liveLease('baseline', `${os.hostname()}/${pid}/dead`)),
    );
    expect((await leases('b').acquire('baseline')).held).toBe(true);
    // A live process on this host (this one) or a holder elsewhere is respected.
    await store.put(
      runLayout.lease('cnn'),
      JSON.stringify(liveLease('cnn', `${os.hostname()}/${process.pid}/other`)),
    );
    expect((await leases('b').acquire('cnn')).held).toBe(false);
    await store.put(runLayout.lease('mlp'), JSON.stringify(liveLease('mlp', `elsewhere/${pid}/x`)));
    expect((await leases('b').acquire('mlp')).held).toBe(false);
  });

  it('of two processes acquiring a free unit at the same moment, exactly one holds it', async () => {
    for (let round = 0; round < 5; round++) {
      const unit = `specialists/u${round}`;
      const results = await Promise.all([leases('a').acquire(unit), leases('b').acquire(unit)]);
      expect(results.filter((r) => r.held)).toHaveLength(1);
    }
  });

  it('renews a held lease, and signals its loss when another holder took it', async () => {
    const a = await leases('a', 40).acquire('baseline');
    if (!a.held) throw new Error('expected the lease');
    const first = JSON.parse((await store.get(runLayout.lease('baseline')))!.toString());
    const read = async () => JSON.parse((await store.get(runLayout.lease('baseline')))!.toString());
    let renewed = await read();
    // Renewed every 40 ms; on a loaded machine the first renewal can come late.
    for (const start = Date.now(); renewed.expiresAt === first.expiresAt && Date.now() - start < 5000; ) {
      await sleep(20);
      renewed = await read();
    }
    expect(Date.parse(renewed.expiresAt)).toBeGreaterThan(Date.parse(first.expiresAt));
    expect(a.lost.aborted).toBe(false);

    // The store has no conditional write, so a renewal that read the lease just before b's write puts a's
    // back over it (as it would on S3); b writes again until a renewal reads b's lease. Renewals run on
    // timers: on a loaded machine the one that finds the lease taken can come late.
    for (const start = Date.now(); !a.lost.aborted && Date.now() - start < 5000; await sleep(20)) {
      if ((await read()).holder === 'b') continue;
      await store.put(runLayout.lease('baseline'), JSON.stringify({ ...renewed, holder: 'b' }));
    }
    expect([a.lost.aborted, a.lost.reason]).toEqual([true, 'lease of baseline lost to b']);
    await a.release();
    // Released by a holder that lost it: the other holder's lease stays.
    expect(JSON.parse((await store.get(runLayout.lease('baseline')))!.toString()).holder).toBe('b');
  });
});
