import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { sha256Hex } from '../../../trainer/storage/sha256';

describe('sha256 on a worker thread', () => {
  it('matches crypto.createHash for shared-memory bodies, ordinary bodies, views and empty bodies', async () => {
    const shared = new Uint8Array(new SharedArrayBuffer(1 << 20)).map((_, i) => (i * 31) & 0xff);
    const plain = Buffer.from('facepoints checkpoint');
    const view = shared.subarray(1000, 5000);
    const bodies = [shared, plain, view, new Uint8Array(0)];
    const hashes = await Promise.all(bodies.map((b) => sha256Hex(b)));
    expect(hashes).toEqual(bodies.map((b) => createHash('sha256').update(b).digest('hex')));
  });

  it('does not keep a process alive once its digests are done', () => {
    const module = path.resolve(__dirname, '../../../trainer/storage/sha256.ts');
    // A shared-memory body: only those go to the worker.
    const body = `Object.assign(new Uint8Array(new SharedArrayBuffer(1)), [120])`;
    const script = `require(${JSON.stringify(module)}).sha256Hex(${body}).then((h) => console.log(h))`;
    const out = execFileSync(process.execPath, ['--require', require.resolve('tsx/cjs'), '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(out.trim()).toBe(createHash('sha256').update('x').digest('hex'));
  });
});
