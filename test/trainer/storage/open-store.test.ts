import * as os from 'node:os';
import * as path from 'node:path';
import { FileStore } from '../../../trainer/storage/file-store';
import { openStore } from '../../../trainer/storage/open-store';
import { S3Store } from '../../../trainer/storage/s3-store';

describe('openStore', () => {
  it('opens file:// URLs, absolute or relative, as a FileStore', () => {
    const abs = path.join(os.tmpdir(), 'fp-runs');
    const a = openStore(`file://${abs}`);
    expect(a).toBeInstanceOf(FileStore);
    expect(a.url).toBe(`file://${abs}`);
    expect(openStore('file://runs').url).toBe(`file://${path.resolve('runs')}`);
  });

  it('opens s3:// URLs as an S3Store on the bucket and prefix', () => {
    const s = openStore('s3://my-bucket/runs/', { client: {} as never });
    expect(s).toBeInstanceOf(S3Store);
    expect(s.url).toBe('s3://my-bucket/runs');
    expect(s.child('20260101-000000').url).toBe('s3://my-bucket/runs/20260101-000000');
  });

  it('names the expected forms and what it found for anything else', () => {
    expect(() => openStore('/tmp/runs')).toThrow(
      'expected a store URL starting with file:// or s3:// (e.g. file:///home/me/runs, s3://my-bucket/runs), found "/tmp/runs"',
    );
    expect(() => openStore('s3://')).toThrow(
      'expected a bucket name of 3-63 lowercase letters, digits, dots or hyphens in "s3://", found ""',
    );
    expect(() => openStore('s3://My_Bucket/x')).toThrow(/found "My_Bucket"/);
    expect(() => openStore('s3://bucket/../x')).toThrow(
      'expected a key prefix without "." or ".." segments, found "../x"',
    );
    expect(() => openStore('file://')).toThrow('expected a folder after file:// in "file://", found nothing');
  });
});
