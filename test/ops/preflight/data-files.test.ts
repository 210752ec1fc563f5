import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkLocalDataFiles, checkStoredDataFiles, headerProblem } from '../../../ops/preflight/data-files';
import { LOOKUP_HEADER, TEST_HEADER, TRAINING_HEADER } from '../../../contracts/keypoints';
import { at, present } from '../../support/checked';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'facepoints-preflight-data-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const line = (fields: readonly string[]) => fields.join(',');

test('headers are compared field by field as the loader does: BOM skipped, CRLF accepted', () => {
  expect(headerProblem(Buffer.from(`${line(TEST_HEADER)}\n1,0 0 0`), TEST_HEADER)).toBeNull();
  expect(
    headerProblem(Buffer.from(`\xef\xbb\xbf${line(TEST_HEADER)}\r\n1,0`, 'latin1'), TEST_HEADER),
  ).toBeNull();
  expect(headerProblem(Buffer.from('ImageId,Pixels\n1,0'), TEST_HEADER)).toBe(
    'expected header field 2 to be "Image", found "Pixels"',
  );
  expect(headerProblem(Buffer.from('RowId,ImageId\n1,1'), LOOKUP_HEADER)).toBe(
    'expected header field 3 to be "FeatureName", found no such field',
  );
  expect(headerProblem(Buffer.from(`${line(TEST_HEADER)},Extra\n1,0,0`), TEST_HEADER)).toBe(
    'expected 2 header fields, found 3',
  );
  expect(headerProblem(Buffer.from('\n1,0'), TEST_HEADER)).toBe(
    'expected the header ImageId,Image,..., found an empty line',
  );
});

test('a local folder: sizes, headers, and what is missing; only the first bytes are read', async () => {
  writeFileSync(
    path.join(dir, 'training.csv'),
    `${line(TRAINING_HEADER)}\n${'1,'.repeat(30)}${'0 '.repeat(9215)}0\n`,
  );
  writeFileSync(path.join(dir, 'test.csv'), 'ImageId,Pixels\n1,0\n');
  const files = await checkLocalDataFiles(dir);
  expect(files.map((f) => [f.file, f.problem])).toEqual([
    ['training.csv', null],
    ['test.csv', 'expected header field 2 to be "Image", found "Pixels"'],
    ['IdLookupTable.csv', 'missing'],
  ]);
  expect(at(files, 0, 'the training.csv result').sizeBytes).toBeGreaterThan(18_000);
});

test('files in the bucket: sizes from the listing, headers from a ranged read', async () => {
  const reads: string[] = [];
  const starts: Record<string, string> = {
    'data/training.csv': `${line(TRAINING_HEADER)}\n1,`,
    'data/test.csv': `${line(TEST_HEADER)}\n1,`,
  };
  const files = await checkStoredDataFiles(
    [
      { key: 'data/training.csv', size: 238_052_865 },
      { key: 'data/test.csv', size: 60_976_573 },
      { key: 'data/IdLookupTable.csv', size: 0 },
    ],
    'data/',
    (key) => `s3://b/${key}`,
    async (key, bytes) => {
      reads.push(`${key} ${bytes}`);
      return Buffer.from(present(starts[key], `a header fixture for ${key}`));
    },
  );
  expect(files).toEqual([
    { file: 'training.csv', location: 's3://b/data/training.csv', sizeBytes: 238_052_865, problem: null },
    { file: 'test.csv', location: 's3://b/data/test.csv', sizeBytes: 60_976_573, problem: null },
    {
      file: 'IdLookupTable.csv',
      location: 's3://b/data/IdLookupTable.csv',
      sizeBytes: 0,
      problem: 'expected data, found an empty file',
    },
  ]);
  expect(reads).toEqual(['data/training.csv 4096', 'data/test.csv 4096']);
});
