import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HashedWrites } from '../../../trainer/run/hashed-writes';
import { FileStore } from '../../../trainer/storage/file-store';

const sha256 = (body: string | Uint8Array) => createHash('sha256').update(body).digest('hex');

describe('HashedWrites', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'facepoints-hashed-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('records the size and sha256 of the last write of every key, and forgets deleted keys', async () => {
    const store = new HashedWrites(new FileStore(root));
    await store.put('a.txt', 'first');
    await store.put('a.txt', 'second');
    await store.put('models/b.bin', Uint8Array.of(1, 2, 3));
    await store.put('gone.txt', 'x');
    await store.delete('gone.txt');
    expect(Object.fromEntries(store.written())).toEqual({
      'a.txt': { size: 6, sha256: sha256('second') },
      'models/b.bin': { size: 3, sha256: sha256(Uint8Array.of(1, 2, 3)) },
    });
    expect((await store.get('a.txt'))?.toString('utf8')).toBe('second');
  });
});
