import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resultsBucketName } from '../../contracts/deployment-names';

describe('deployment names', () => {
  it("names the bucket in the account's regional namespace", () => {
    expect(resultsBucketName('123456789012', 'eu-west-1')).toBe('facepoints-123456789012-eu-west-1-an');
  });

  it('README examples use the bucket name the stacks create', () => {
    const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    const names = [...readme.matchAll(/(?:s3:\/\/|--bucket )(facepoints[a-z0-9-]*)/g)].map((m) => m[1]);
    expect(names.length).toBeGreaterThan(3);
    for (const name of names) {
      const [, account = '', region = ''] = /^facepoints-(\d{12})-([a-z0-9-]+)-an$/.exec(name ?? '') ?? [];
      expect(name).toBe(resultsBucketName(account, region));
    }
  });
});
