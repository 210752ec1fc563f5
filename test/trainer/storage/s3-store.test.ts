import { createHash } from 'node:crypto';
import { createS3Client } from '../../../common/s3-client';
import { S3Store, type S3StoreOptions } from '../../../trainer/storage/s3-store';
import { startS3Server, useLocalS3Env, type LocalS3Server } from '../../support/s3-server';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('S3Store against a local S3 server', () => {
  let server: LocalS3Server;
  const opened: S3Store[] = [];
  let restoreEnv: () => void;
  /** A store configured from the environment, as openStore() makes it. */
  const open = (prefix: string, opts: S3StoreOptions = {}) => {
    const s = new S3Store(`s3://${server.bucket}/${prefix}`, opts);
    opened.push(s);
    return s;
  };

  beforeAll(async () => {
    server = await startS3Server();
    restoreEnv = useLocalS3Env(server);
  });
  afterAll(async () => {
    for (const s of opened) s.close();
    restoreEnv();
    await server.close();
  });

  it('uploads on a worker thread when asked to, storing exactly the bytes put', async () => {
    const store = open('worker', { uploadInWorker: true });
    const body = new Uint8Array(6 * 1024 * 1024 + 1).fill(9);
    // A view into a larger buffer: exactly its bytes must be stored.
    const view = new Uint8Array(new ArrayBuffer(100), 10, 5).fill(4);
    await store.put('big.bin', body);
    await store.put('view.bin', view);
    await store.flush();
    const fresh = open('worker', { client: createS3Client() });
    expect(sha((await fresh.get('big.bin'))!)).toBe(sha(body));
    expect([...(await fresh.get('view.bin'))!]).toEqual([4, 4, 4, 4, 4]);
  });

  it('uploads a body above the part size as a multipart upload and reads it back intact', async () => {
    const body = new Uint8Array(12 * 1024 * 1024 + 123);
    for (let i = 0; i < body.length; i += 4096) body[i] = (i / 4096) & 0xff;
    const client = createS3Client();
    const sent: string[] = [];
    const send = client.send.bind(client);
    jest.spyOn(client, 'send').mockImplementation(((
      command: { constructor: { name: string } },
      ...rest: unknown[]
    ) => {
      sent.push(command.constructor.name);
      return (send as (...a: unknown[]) => unknown)(command, ...rest);
    }) as never);
    const store = new S3Store(`s3://${server.bucket}/multipart`, { client, partSize: 5 * 1024 * 1024 });
    opened.push(store);
    await store.put('weights.bin', body);
    await store.flush();
    expect(sent.filter((n) => n === 'UploadPartCommand')).toHaveLength(3);
    expect(sent).toContain('CompleteMultipartUploadCommand');
    expect(sent).not.toContain('PutObjectCommand');
    const back = await open('multipart').get('weights.bin');
    expect(back?.length).toBe(body.length);
    expect(sha(back!)).toBe(sha(body));
  });

  it('keeps accepting writes while S3 is down for ~20 s, serves them back, and stores them all once it is up again', async () => {
    const logs: string[] = [];
    const store = open('outage', {
      uploadInWorker: true,
      retryBaseMs: 100,
      retryMaxMs: 1000,
      readGiveUpMs: 1000,
      log: (l) => logs.push(l),
    });
    await store.put('before.txt', 'before');
    await store.flush();

    await server.stop();
    const started = Date.now();
    const written: Record<string, string> = {};
    for (let i = 0; Date.now() - started < 20_000; i++) {
      const key = `during/${String(i).padStart(3, '0')}.txt`;
      written[key] = `value ${i}`;
      const t = Date.now();
      await store.put(key, written[key]);
      // The caller goes on: put() returns at once even though nothing reaches S3.
      expect(Date.now() - t).toBeLessThan(100);
      await store.put('status.json', `{"i":${i}}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const big = new Uint8Array(6 * 1024 * 1024).fill(7);
    await store.put('during/big.bin', big);
    expect(store.pendingWrites).toBeGreaterThan(10);
    expect((await store.get('during/000.txt'))?.toString()).toBe('value 0');
    // Objects that are not queued can only come from S3: a read fails, after its own give-up time, with a clear error.
    await expect(store.get('before.txt')).rejects.toThrow(
      /^get outage\/before.txt in s3:\/\/facepoints-test failed: .*ECONNREFUSED/,
    );
    await server.restart();
    await store.flush();

    const fresh = open('outage');
    for (const [k, v] of Object.entries(written)) expect((await fresh.get(k))?.toString()).toBe(v);
    expect(sha((await fresh.get('during/big.bin'))!)).toBe(sha(big));
    expect((await fresh.get('status.json'))?.toString()).toBe(`{"i":${Object.keys(written).length - 1}}`);
    expect((await fresh.get('before.txt'))?.toString()).toBe('before');
    expect(logs.some((l) => /failed \(.*\); retrying in the background/.test(l))).toBe(true);
    expect(logs.some((l) => /reachable again after \d+ s/.test(l))).toBe(true);
  }, 90_000);

  it('flush rejects after its give-up time while S3 is down, then succeeds once it is back', async () => {
    const store = open('giveup', { retryBaseMs: 50, retryMaxMs: 200, flushGiveUpMs: 1500 });
    await server.stop();
    try {
      await store.put('a.txt', 'a');
      await expect(store.flush()).rejects.toThrow(
        new RegExp(
          `1 write\\(s\\) to s3://${server.bucket} still not stored after waiting 2 s \\(first: put giveup/a.txt; last error: .*ECONNREFUSED`,
        ),
      );
    } finally {
      await server.restart();
    }
    await store.flush();
    expect((await open('giveup').get('a.txt'))?.toString()).toBe('a');
  }, 30_000);

  it('reports writes to a bucket that does not exist as refused instead of retrying forever', async () => {
    const store = new S3Store('s3://no-such-bucket-here/x', { flushGiveUpMs: 20_000 });
    opened.push(store);
    await store.put('a.txt', 'a');
    await expect(store.flush()).rejects.toThrow(
      /1 write\(s\) to s3:\/\/no-such-bucket-here were refused: put x\/a\.txt: NoSuchBucket/,
    );
  });
});
