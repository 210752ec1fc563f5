import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileStore } from '../../../trainer/storage/file-store';
import { S3Store } from '../../../trainer/storage/s3-store';
import type { Store } from '../../../trainer/storage/store';
import { createS3Client } from '../../../common/s3-client';
import { startS3Server, type LocalS3Server } from '../../support/s3-server';

// The same behaviour is expected of every Store: the trainer and the operator commands do not care which.
interface Harness {
  open(): Promise<Store>;
  /** A fresh store on the same place, with nothing queued: what another process would see. */
  reopen(store: Store): Store;
  done(): Promise<void>;
}

const harnesses: Array<[string, () => Promise<Harness>]> = [
  [
    'FileStore',
    async () => {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'facepoints-fs-'));
      return {
        open: async () => new FileStore(path.join(dir, 'runs')),
        reopen: () => new FileStore(path.join(dir, 'runs')),
        done: () => fs.rm(dir, { recursive: true, force: true }),
      };
    },
  ],
  [
    'S3Store',
    async () => {
      const server: LocalS3Server = await startS3Server();
      const opened: S3Store[] = [];
      const make = () => {
        const s = new S3Store(`s3://${server.bucket}/runs`, {
          client: createS3Client({ ...process.env, ...server.env }),
        });
        opened.push(s);
        return s;
      };
      return {
        open: async () => make(),
        reopen: () => make(),
        done: async () => {
          for (const s of opened) s.close();
          await server.close();
        },
      };
    },
  ],
];

describe.each(harnesses)('%s', (_name, makeHarness) => {
  let h: Harness;
  let store: Store;
  beforeAll(async () => {
    h = await makeHarness();
  });
  afterAll(async () => {
    await h.done();
  });
  beforeEach(async () => {
    store = await h.open();
  });

  it('returns what was put, as bytes, and null for a missing key', async () => {
    await store.put('a/b.json', '{"x":1}');
    await store.put('a/c.bin', new Uint8Array([0, 1, 255]));
    expect((await store.get('a/b.json'))?.toString('utf8')).toBe('{"x":1}');
    expect([...((await store.get('a/c.bin')) ?? [])]).toEqual([0, 1, 255]);
    expect(await store.get('a/missing.json')).toBeNull();
    await store.flush();
    const other = h.reopen(store);
    expect((await other.get('a/b.json'))?.toString('utf8')).toBe('{"x":1}');
    expect([...((await other.get('a/c.bin')) ?? [])]).toEqual([0, 1, 255]);
  });

  it('replaces an object on a second put', async () => {
    await store.put('r/k.txt', 'one');
    await store.put('r/k.txt', 'two');
    expect((await store.get('r/k.txt'))?.toString()).toBe('two');
    await store.flush();
    expect((await h.reopen(store).get('r/k.txt'))?.toString()).toBe('two');
  });

  it('lists objects below a prefix, sorted, with sizes', async () => {
    await store.put('l/z.txt', 'zz');
    await store.put('l/a/1.txt', '1');
    await store.put('l/a/2.txt', '22');
    await store.put('lx/other.txt', 'x');
    const expected = [
      { key: 'l/a/1.txt', size: 1 },
      { key: 'l/a/2.txt', size: 2 },
      { key: 'l/z.txt', size: 2 },
    ];
    expect(await store.list('l/')).toEqual(expected);
    await store.flush();
    expect(await h.reopen(store).list('l/')).toEqual(expected);
    expect(await store.list('nothing-here/')).toEqual([]);
  });

  it('deletes objects, and deleting a missing key is not an error', async () => {
    await store.put('d/x.txt', 'x');
    await store.put('d/y.txt', 'y');
    await store.delete('d/x.txt');
    await store.delete('d/never-existed.txt');
    expect(await store.get('d/x.txt')).toBeNull();
    expect((await store.list('d/')).map((o) => o.key)).toEqual(['d/y.txt']);
    await store.flush();
    expect((await h.reopen(store).list('d/')).map((o) => o.key)).toEqual(['d/y.txt']);
  });

  it("child stores address keys below their prefix and share the parent's writes", async () => {
    const run = store.child('run-1');
    await run.put('status.json', '{}');
    await run.child('models').put('m/model.json', 'm');
    expect((await store.get('run-1/status.json'))?.toString()).toBe('{}');
    expect((await run.get('models/m/model.json'))?.toString()).toBe('m');
    expect((await run.list('')).map((o) => o.key)).toEqual(['models/m/model.json', 'status.json']);
    expect(run.url).toBe(`${store.url}/run-1`);
    await store.flush();
    expect((await h.reopen(store).get('run-1/models/m/model.json'))?.toString()).toBe('m');
  });

  it('leaves no empty folders behind after deleting the last object below them', async () => {
    await store.put('e/1/2/x.txt', 'x');
    await store.put('e/keep.txt', 'k');
    await store.delete('e/1/2/x.txt');
    await store.flush();
    const other = h.reopen(store);
    expect((await other.list('e/')).map((o) => o.key)).toEqual(['e/keep.txt']);
    if (other instanceof FileStore) {
      await expect(fs.readdir(`${other.url.slice('file://'.length)}/e`)).resolves.toEqual(['keep.txt']);
    }
  });

  it('rejects keys that escape the store', async () => {
    await expect(store.put('../outside.txt', 'x')).rejects.toThrow(/outside\.txt/);
  });
});
