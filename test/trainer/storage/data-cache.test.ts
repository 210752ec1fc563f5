import { PutObjectCommand } from '@aws-sdk/client-s3';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DATA_FILES } from '../../../contracts/run-layout';
import { resolveDataDir } from '../../../trainer/storage/data-cache';
import { createS3Client } from '../../../common/s3-client';
import { startS3Server, type LocalS3Server } from '../../support/s3-server';

describe('resolveDataDir', () => {
  let server: LocalS3Server;
  let tmp: string;
  const client = () => createS3Client({ ...process.env, ...server.env });
  const contents: Record<string, Buffer> = {
    [DATA_FILES.training]: Buffer.alloc(3 * 1024 * 1024, 'a'),
    [DATA_FILES.test]: Buffer.from('ImageId,Image\n1,0 0 0\n'),
    [DATA_FILES.lookup]: Buffer.from('RowId,ImageId,FeatureName,Location\n'),
  };

  beforeAll(async () => {
    server = await startS3Server();
    const c = client();
    for (const [name, body] of Object.entries(contents)) {
      await c.send(new PutObjectCommand({ Bucket: server.bucket, Key: `data/${name}`, Body: body }));
    }
    c.destroy();
  });
  afterAll(() => server.close());
  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'facepoints-cache-'));
  });
  afterEach(() => fs.rm(tmp, { recursive: true, force: true }));

  it('passes a local folder through, as a path or a file:// URL', async () => {
    const log = jest.fn();
    expect(await resolveDataDir(tmp, path.join(tmp, 'cache'), log)).toBe(tmp);
    expect(await resolveDataDir(`file://${tmp}`, path.join(tmp, 'cache'), log)).toBe(tmp);
    expect(log).not.toHaveBeenCalled();
  });

  it('names what it expected and found for a missing local folder', async () => {
    const missing = path.join(tmp, 'nope');
    await expect(resolveDataDir(missing, tmp, () => {})).rejects.toThrow(
      `--data: expected a folder holding training.csv, test.csv, IdLookupTable.csv or an s3:// URL, found nothing at ${missing}`,
    );
  });

  it('downloads the three files once, with progress lines, and then reuses the cache', async () => {
    const logs: string[] = [];
    const cache = path.join(tmp, 'cache');
    const dir = await resolveDataDir(`s3://${server.bucket}/data`, cache, (l) => logs.push(l), {
      client: client(),
      progressEveryMs: 0,
    });
    expect(dir).toBe(path.join(cache, server.bucket, 'data'));
    for (const [name, body] of Object.entries(contents))
      expect((await fs.readFile(path.join(dir, name))).equals(body)).toBe(true);
    expect(logs.filter((l) => l.startsWith('data: downloading'))).toHaveLength(3);
    expect(
      logs.some((l) => /data: s3:\/\/facepoints-test\/data\/training\.csv [\d.]+\/3\.1 MB \(\d+%\)/.test(l)),
    ).toBe(true);
    expect(logs.filter((l) => / done, /.test(l))).toHaveLength(3);

    logs.length = 0;
    expect(
      await resolveDataDir(`s3://${server.bucket}/data/`, cache, (l) => logs.push(l), { client: client() }),
    ).toBe(dir);
    expect(logs).toEqual([]);
  });

  it('downloads again a cached file whose size differs from the object (a partial download)', async () => {
    const cache = path.join(tmp, 'cache');
    const dir = path.join(cache, server.bucket, 'data');
    await fs.mkdir(dir, { recursive: true });
    for (const [name, body] of Object.entries(contents)) await fs.writeFile(path.join(dir, name), body);
    await fs.writeFile(path.join(dir, DATA_FILES.training), contents[DATA_FILES.training]!.subarray(0, 1000));
    const logs: string[] = [];
    await resolveDataDir(`s3://${server.bucket}/data`, cache, (l) => logs.push(l), { client: client() });
    expect(
      (await fs.readFile(path.join(dir, DATA_FILES.training))).equals(contents[DATA_FILES.training]!),
    ).toBe(true);
    expect(logs[0]).toBe(
      `data: ${path.join(dir, DATA_FILES.training)} has 1000 bytes, s3://facepoints-test/data/training.csv has 3145728; downloading again`,
    );
    expect(logs.filter((l) => l.startsWith('data: downloading'))).toHaveLength(1);
  });

  it('names the missing object', async () => {
    await expect(
      resolveDataDir(`s3://${server.bucket}/elsewhere`, tmp, () => {}, { client: client() }),
    ).rejects.toThrow(
      `--data s3://${server.bucket}/elsewhere: expected the object s3://${server.bucket}/elsewhere/training.csv, found none`,
    );
  });
});
