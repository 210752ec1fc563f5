import { WriteQueue, type WriteOp } from '../../../trainer/storage/write-queue';

function put(key: string, text: string): WriteOp {
  return { kind: 'put', key, body: Buffer.from(text) };
}

/** A sink that records what was sent and can be made to fail. */
function recorder() {
  const sent: string[] = [];
  let failing: ((op: WriteOp) => unknown) | null = null;
  let release: (() => void) | null = null;
  let gate: Promise<void> | null = null;
  return {
    sent,
    failWith(fn: ((op: WriteOp) => unknown) | null) {
      failing = fn;
    },
    hold() {
      gate = new Promise((r) => (release = r));
    },
    release() {
      gate = null;
      release?.();
    },
    send: async (op: WriteOp) => {
      if (gate) await gate;
      const err = failing?.(op);
      if (err) throw err;
      sent.push(op.kind === 'put' ? `put ${op.key}=${op.body.toString()}` : `delete ${op.key}`);
    },
  };
}

describe('WriteQueue', () => {
  it('delivers writes in the order they were accepted', async () => {
    const r = recorder();
    const q = new WriteQueue({ send: r.send, isPermanent: () => false, target: 'mem' });
    q.enqueue(put('ck/1/a.bin', 'a'));
    q.enqueue(put('ck/1/b.bin', 'b'));
    q.enqueue(put('ck/1/manifest.json', 'm'));
    q.enqueue({ kind: 'delete', key: 'ck/0/manifest.json' });
    await q.flush();
    expect(r.sent).toEqual([
      'put ck/1/a.bin=a',
      'put ck/1/b.bin=b',
      'put ck/1/manifest.json=m',
      'delete ck/0/manifest.json',
    ]);
  });

  it('drops an unsent write superseded by a newer one of the same key, which goes last', async () => {
    const r = recorder();
    const q = new WriteQueue({ send: r.send, isPermanent: () => false, target: 'mem' });
    r.hold();
    q.enqueue(put('first', '1')); // in flight, held
    q.enqueue(put('status.json', 'v1'));
    q.enqueue(put('other', 'o'));
    q.enqueue(put('status.json', 'v2'));
    expect(q.latest('status.json')).toEqual(put('status.json', 'v2'));
    q.enqueue(put('gone', 'g'));
    q.enqueue({ kind: 'delete', key: 'gone' });
    expect(q.latest('gone')).toEqual({ kind: 'delete', key: 'gone' });
    r.release();
    await q.flush();
    expect(r.sent).toEqual(['put first=1', 'put other=o', 'put status.json=v2', 'delete gone']);
  });

  it('retries through failures with backoff and logs the outage and the recovery', async () => {
    const r = recorder();
    const lines: string[] = [];
    const q = new WriteQueue({
      send: r.send,
      isPermanent: () => false,
      target: 's3://b',
      log: (l) => lines.push(l),
      baseDelayMs: 5,
      maxDelayMs: 20,
    });
    let failures = 0;
    r.failWith(() => (failures++ < 6 ? new Error('connect ECONNREFUSED') : null));
    q.enqueue(put('a', '1'));
    q.enqueue(put('b', '2'));
    await q.flush();
    expect(failures).toBeGreaterThanOrEqual(7);
    expect(r.sent).toEqual(['put a=1', 'put b=2']);
    expect(lines[0]).toMatch(/put a to s3:\/\/b failed \(.*ECONNREFUSED\); retrying in the background/);
    expect(lines.at(-1)).toMatch(/reachable again after \d+ s/);
  });

  it('flush rejects after its give-up time, naming the target, the waiting writes and the last error, and keeps retrying', async () => {
    const r = recorder();
    const q = new WriteQueue({
      send: r.send,
      isPermanent: () => false,
      target: 's3://b/runs',
      baseDelayMs: 5,
      maxDelayMs: 10,
    });
    r.failWith(() => new Error('connect ECONNREFUSED 127.0.0.1:9'));
    q.enqueue(put('x', '1'));
    await expect(q.flush(100)).rejects.toThrow(
      /1 write\(s\) to s3:\/\/b\/runs still not stored after waiting 0 s \(first: put x; last error: .*ECONNREFUSED 127\.0\.0\.1:9\)/,
    );
    r.failWith(null);
    await q.flush(5000);
    expect(r.sent).toEqual(['put x=1']);
  });

  it('gives up a write refused for good and makes flush reject with its key', async () => {
    const r = recorder();
    const q = new WriteQueue({ send: r.send, isPermanent: () => true, target: 's3://nope', baseDelayMs: 5 });
    r.failWith((op) =>
      op.key === 'bad'
        ? Object.assign(new Error('The specified bucket does not exist'), { name: 'NoSuchBucket' })
        : null,
    );
    q.enqueue(put('bad', '1'));
    q.enqueue(put('good', '2'));
    await expect(q.flush()).rejects.toThrow(
      '1 write(s) to s3://nope were refused: put bad: NoSuchBucket: The specified bucket does not exist',
    );
    expect(r.sent).toEqual(['put good=2']);
  });
});
