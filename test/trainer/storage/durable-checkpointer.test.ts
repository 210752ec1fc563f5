import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runLayout } from '../../../contracts/run-layout';
import type { CheckpointFiles } from '../../../trainer/storage/checkpointer';
import { createCheckpointer, CheckpointManifestSchema } from '../../../trainer/storage/durable-checkpointer';
import { FileStore } from '../../../trainer/storage/file-store';
import { createS3Client } from '../../../common/s3-client';
import { S3Store } from '../../../trainer/storage/s3-store';
import type { Store } from '../../../trainer/storage/store';
import { startS3Server, type LocalS3Server } from '../../support/s3-server';

/** A checkpoint whose bytes depend on `epoch`, like the trainer's state and weights. */
function checkpoint(epoch: number): CheckpointFiles {
  const weights = new Uint8Array(64 * 1024);
  for (let i = 0; i < weights.length; i++) weights[i] = (i * 31 + epoch * 7) & 0xff;
  return { 'state.json': new TextEncoder().encode(JSON.stringify({ epoch })), 'weights.bin': weights };
}
const epochOf = (files: CheckpointFiles | null) =>
  files ? (JSON.parse(Buffer.from(files['state.json']!).toString('utf8')) as { epoch: number }).epoch : null;

/** Stores on one backend: next() moves to a fresh run directory, open() opens it (as a new process would). */
interface Backend {
  open(): Store;
  next(): void;
  done(): Promise<void>;
}
const backends: Array<[string, () => Promise<Backend>]> = [
  [
    'FileStore',
    async () => {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'facepoints-ck-'));
      let n = 0;
      return {
        open: () => new FileStore(path.join(dir, `run-${n}`)),
        next: () => void n++,
        done: () => fs.rm(dir, { recursive: true, force: true }),
      };
    },
  ],
  [
    'S3Store',
    async () => {
      const server: LocalS3Server = await startS3Server();
      const opened: S3Store[] = [];
      let n = 0;
      return {
        open: () => {
          const s = new S3Store(`s3://${server.bucket}/runs/run-${n}`, {
            client: createS3Client({ ...process.env, ...server.env }),
          });
          opened.push(s);
          return s;
        },
        next: () => void n++,
        done: async () => {
          for (const s of opened) s.close();
          await server.close();
        },
      };
    },
  ],
];

describe.each(backends)('durable checkpointer on %s', (_name, makeBackend) => {
  let backend: Backend;
  let store: Store;
  let logs: string[];
  const log = (l: string) => logs.push(l);
  /** What a new process on the same run directory sees (nothing queued, nothing cached). */
  const reopened = async () => {
    await store.flush();
    return backend.open();
  };

  beforeAll(async () => {
    backend = await makeBackend();
  });
  afterAll(async () => backend.done());
  beforeEach(() => {
    backend.next();
    store = backend.open();
    logs = [];
  });

  it('refuses a file named like the manifest', async () => {
    await expect(
      createCheckpointer(store, log).save('baseline', { 'manifest.json': new Uint8Array(1) }),
    ).rejects.toThrow(
      'checkpoint of baseline: a file may not be named manifest.json, which the checkpointer writes',
    );
  });

  it('returns null when a unit has no checkpoint', async () => {
    expect(await createCheckpointer(store, log).loadLatest('baseline')).toBeNull();
    expect(logs).toEqual([]);
  });

  it("commits files and a manifest with each file's size and sha256, and loads the newest back in a new process", async () => {
    const ck = createCheckpointer(store, log);
    await ck.save('baseline', checkpoint(1));
    await ck.save('baseline', checkpoint(2));
    await ck.flush();
    const manifest = CheckpointManifestSchema.parse(
      JSON.parse((await store.get(runLayout.checkpointManifest('baseline', 2)))!.toString()),
    );
    expect(manifest.seq).toBe(2);
    expect(manifest.files['weights.bin']?.size).toBe(64 * 1024);
    expect(manifest.files['weights.bin']?.sha256).toMatch(/^[0-9a-f]{64}$/);
    const loaded = await createCheckpointer(await reopened(), log).loadLatest('baseline');
    expect(epochOf(loaded)).toBe(2);
    expect(Buffer.from(loaded!['weights.bin']!).equals(Buffer.from(checkpoint(2)['weights.bin']!))).toBe(
      true,
    );
    expect(logs).toEqual([]);
  });

  it('keeps the last two committed checkpoints and continues the numbering after a restart', async () => {
    const first = createCheckpointer(store, log);
    for (let e = 1; e <= 3; e++) await first.save('baseline', checkpoint(e));
    await first.flush();
    const second = createCheckpointer(await reopened(), log);
    expect(epochOf(await second.loadLatest('baseline'))).toBe(3);
    await second.save('baseline', checkpoint(4));
    await second.flush();
    const dirs = new Set(
      (await backend.open().list('checkpoints/baseline/')).map((o) => o.key.split('/')[2]),
    );
    expect([...dirs]).toEqual(['000003', '000004']);
  });

  it("keeps units apart, also when one unit's folder nests in another's", async () => {
    const ck = createCheckpointer(store, log, { keep: 1 });
    await ck.save('specialists', checkpoint(10));
    await ck.save('specialists/nose-tip', checkpoint(20));
    await ck.save('specialists', checkpoint(11));
    expect(epochOf(await ck.loadLatest('specialists'))).toBe(11);
    expect(epochOf(await ck.loadLatest('specialists/nose-tip'))).toBe(20);
  });

  it.each([
    [
      'a file was corrupted',
      async (s: Store) =>
        s.put(`${runLayout.checkpointDir('baseline', 3)}/weights.bin`, new Uint8Array(64 * 1024)),
      /weights\.bin sha256 [0-9a-f]{12}\.\.\., expected [0-9a-f]{12}\.\.\./,
    ],
    [
      'a file was truncated',
      async (s: Store) => s.put(`${runLayout.checkpointDir('baseline', 3)}/weights.bin`, new Uint8Array(10)),
      /weights\.bin has 10 bytes, expected 65536/,
    ],
    [
      'a file was deleted',
      async (s: Store) => s.delete(`${runLayout.checkpointDir('baseline', 3)}/state.json`),
      /state\.json is missing/,
    ],
    [
      'the manifest is missing',
      async (s: Store) => s.delete(runLayout.checkpointManifest('baseline', 3)),
      /no manifest\.json \(the commit did not finish\)/,
    ],
    [
      'the manifest is garbage',
      async (s: Store) => s.put(runLayout.checkpointManifest('baseline', 3), '{"version":1,'),
      /manifest\.json is not JSON/,
    ],
  ])('falls back to the previous checkpoint and says why when %s', async (_what, damage, reason) => {
    const ck = createCheckpointer(store, log);
    for (let e = 1; e <= 3; e++) await ck.save('baseline', checkpoint(e));
    await ck.flush();
    const other = await reopened();
    await damage(other);
    await other.flush();
    const loaded = await createCheckpointer(backend.open(), log).loadLatest('baseline');
    expect(epochOf(loaded)).toBe(2);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(
      /^checkpoint: using checkpoints\/baseline\/000002 of .* for baseline; skipped newer checkpoints\/baseline\/000003: /,
    );
    expect(logs[0]).toMatch(reason);
  });

  it('reports that no checkpoint is usable when every one is damaged', async () => {
    const ck = createCheckpointer(store, log, { keep: 1 });
    await ck.save('baseline', checkpoint(1));
    await ck.flush();
    const other = await reopened();
    await other.delete(`${runLayout.checkpointDir('baseline', 1)}/weights.bin`);
    await other.flush();
    expect(await createCheckpointer(backend.open(), log).loadLatest('baseline')).toBeNull();
    expect(logs).toEqual([
      expect.stringMatching(
        /^checkpoint: no usable checkpoint of baseline in .*: checkpoints\/baseline\/000001: weights\.bin is missing$/,
      ),
    ]);
  });
});

describe('durable checkpointer commit order', () => {
  /** A store that records calls and can crash (throw) at a chosen put. */
  function recordingStore(inner: Store, crashAt?: (key: string) => boolean) {
    const calls: string[] = [];
    const wrap = (s: Store): Store => ({
      url: s.url,
      put: async (key, body) => {
        if (crashAt?.(key)) throw new Error(`simulated crash before writing ${key}`);
        calls.push(`put ${key}`);
        return s.put(key, body);
      },
      get: (key) => s.get(key),
      list: (prefix) => s.list(prefix),
      delete: async (key) => {
        calls.push(`delete ${key}`);
        return s.delete(key);
      },
      child: (prefix) => wrap(s.child(prefix)),
      flush: () => s.flush(),
    });
    return { store: wrap(inner), calls };
  }
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'facepoints-ck-order-'));
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  it('writes the files, then the manifest, and only then deletes the oldest checkpoint, manifest first', async () => {
    const { store, calls } = recordingStore(new FileStore(dir));
    const ck = createCheckpointer(store, () => {});
    await ck.save('cnn', checkpoint(1));
    await ck.save('cnn', checkpoint(2));
    await ck.flush();
    calls.length = 0;
    await ck.save('cnn', checkpoint(3));
    await ck.flush();
    expect(calls).toEqual([
      'put checkpoints/cnn/000003/state.json',
      'put checkpoints/cnn/000003/weights.bin',
      'put checkpoints/cnn/000003/manifest.json',
      'delete checkpoints/cnn/000001/manifest.json',
      'delete checkpoints/cnn/000001/state.json',
      'delete checkpoints/cnn/000001/weights.bin',
    ]);
  });

  it('prunes nothing when a commit dies before its manifest, and the next process resumes from the last commit', async () => {
    const logs: string[] = [];
    const healthy = createCheckpointer(new FileStore(dir), () => {});
    await healthy.save('cnn', checkpoint(1));
    await healthy.save('cnn', checkpoint(2));
    await healthy.flush();
    const { store } = recordingStore(new FileStore(dir), (key) => key.endsWith('000003/manifest.json'));
    const crashing = createCheckpointer(store, (l) => logs.push(l));
    await crashing.save('cnn', checkpoint(3));
    await expect(crashing.flush()).rejects.toThrow(
      'simulated crash before writing checkpoints/cnn/000003/manifest.json',
    );
    expect(logs).toEqual([
      'checkpoint: commit of cnn to ' +
        store.url +
        ' failed: simulated crash before writing checkpoints/cnn/000003/manifest.json',
    ]);
    logs.length = 0;
    const files = (await new FileStore(dir).list('checkpoints/cnn/')).map((o) => o.key);
    expect(files).toContain('checkpoints/cnn/000001/manifest.json');
    expect(files).toContain('checkpoints/cnn/000003/weights.bin');

    const next = createCheckpointer(new FileStore(dir), (l) => logs.push(l));
    expect(epochOf(await next.loadLatest('cnn'))).toBe(2);
    expect(logs[0]).toMatch(
      /using checkpoints\/cnn\/000002 .* skipped newer checkpoints\/cnn\/000003: no manifest\.json \(the commit did not finish\)/,
    );
    // The torn folder's number is not reused; it is cleaned up once a newer checkpoint is committed.
    await next.save('cnn', checkpoint(4));
    await next.flush();
    const dirs = new Set((await new FileStore(dir).list('checkpoints/cnn/')).map((o) => o.key.split('/')[2]));
    expect([...dirs]).toEqual(['000002', '000004']);
  });
});
