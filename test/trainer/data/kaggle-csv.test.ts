import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DataError } from '../../../trainer/data/dataset';
import {
  formatSubmission,
  loadKaggleDir,
  loadLookup,
  loadTest,
  loadTraining,
} from '../../../trainer/data/kaggle-csv';
import { KEYPOINT_COLUMNS, PIXELS } from '../../../contracts/keypoints';
import {
  pixelField,
  pixelValues,
  tempDir,
  TRAINING_HEADER_LINE,
  trainingRow,
  writeFile,
} from './csv-fixtures';
import { at } from '../../support/checked';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

async function dataError(p: Promise<unknown>): Promise<DataError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof DataError) return err;
    throw err;
  }
  throw new Error('expected a DataError, the load succeeded');
}

describe('loadTraining', () => {
  it('reads labels in pixels, NaN for empty fields, and pixels as bytes', async () => {
    const file = writeFile(dir, 'training.csv', [
      TRAINING_HEADER_LINE,
      trainingRow(1),
      trainingRow(2, [4, 5, 29]),
    ]);
    const set = await loadTraining(file);
    expect(set.count).toBe(2);
    expect(set.file).toBe(file);
    expect(set.pixels).toBeInstanceOf(Uint8Array);
    expect(set.pixels.length).toBe(2 * PIXELS);
    expect(Array.from(set.pixels.subarray(PIXELS, 2 * PIXELS))).toEqual(pixelValues(2));
    expect(set.labels.length).toBe(60);
    expect(set.labels[0]).toBeCloseTo(10.1, 5);
    expect(set.labels[30 + 3]).toBeCloseTo(13.2, 5);
    expect(Number.isNaN(set.labels[30 + 4])).toBe(true);
    expect(Number.isNaN(set.labels[30 + 5])).toBe(true);
    expect(Number.isNaN(set.labels[30 + 29])).toBe(true);
    expect(Number.isNaN(set.labels[29])).toBe(false);
  });

  it('accepts CRLF, a missing final newline, a byte order mark and quoted fields', async () => {
    const quoted = trainingRow(3)
      .replace(/^([^,]*),/, '"$1",')
      .replace(/,([^,]*)$/, ',"$1"');
    const file = path.join(dir, 'training.csv');
    writeFileSync(file, `\ufeff${TRAINING_HEADER_LINE}\r\n${trainingRow(1)}\r\n${quoted}`);
    const set = await loadTraining(file);
    expect(set.count).toBe(2);
    expect(set.labels[30]).toBeCloseTo(10.3, 5);
    expect(Array.from(set.pixels.subarray(PIXELS))).toEqual(pixelValues(3));
  });

  it('parses rows that straddle the 4 MB read boundary and grows its buffers past the size estimate', async () => {
    // 300 rows of ~27 KB each: ~8 MB, so fields and pixel values are cut by reads.
    const rows = Array.from({ length: 300 }, (_, r) => trainingRow(r, r % 3 === 0 ? [6, 7] : []));
    const file = writeFile(dir, 'training.csv', [TRAINING_HEADER_LINE, ...rows]);
    const progress: number[] = [];
    const set = await loadTraining(file, { onProgress: (b) => progress.push(b) });
    expect(set.count).toBe(300);
    for (const r of [0, 154, 155, 299]) {
      expect(Array.from(set.pixels.subarray(r * PIXELS, (r + 1) * PIXELS))).toEqual(pixelValues(r));
      expect(set.labels[r * 30 + 1]).toBeCloseTo(11 + r / 10, 4);
      expect(Number.isNaN(set.labels[r * 30 + 6])).toBe(r % 3 === 0);
    }
    expect(progress.length).toBeGreaterThan(1);
    expect(progress[progress.length - 1]).toBeGreaterThan(8e6);
  });

  it('stops after maxRows', async () => {
    const file = writeFile(dir, 'training.csv', [
      TRAINING_HEADER_LINE,
      trainingRow(1),
      trainingRow(2),
      'broken',
    ]);
    const set = await loadTraining(file, { maxRows: 2 });
    expect(set.count).toBe(2);
    expect(Array.from(set.pixels.subarray(PIXELS))).toEqual(pixelValues(2));
  });

  it.each([
    ['an empty file', [], 1, 1, 'found an empty file'],
    ['only a header', [TRAINING_HEADER_LINE], 2, 1, 'expected at least one data row'],
    [
      'a wrong header',
      [TRAINING_HEADER_LINE.replace('nose_tip_y', 'nose_y'), trainingRow(1)],
      1,
      TRAINING_HEADER_LINE.indexOf('nose_tip_y') + 1,
      'expected header field 22 to be "nose_tip_y", found "nose_y"',
    ],
    [
      'a header without Image',
      [KEYPOINT_COLUMNS.join(','), trainingRow(1)],
      1,
      KEYPOINT_COLUMNS.join(',').length + 1,
      'expected 31 fields, found 30',
    ],
    [
      'a row without its Image field',
      [TRAINING_HEADER_LINE, trainingRow(1).replace(/,[^,]*$/, '')],
      2,
      null,
      'expected 31 fields, found 30',
    ],
    [
      'a row with a field after Image',
      [TRAINING_HEADER_LINE, `${trainingRow(1)},`],
      2,
      null,
      'expected 31 fields, found more',
    ],
    [
      'a row with a label field too few',
      [TRAINING_HEADER_LINE, trainingRow(1).replace(/^[^,]*,/, '')],
      2,
      null,
      'expected field 30 (mouth_center_bottom_lip_y) to be at most 256 bytes, found a longer one (is a comma missing before it?)',
    ],
    [
      'a row with a label field too many',
      [TRAINING_HEADER_LINE, `1,${trainingRow(1)}`],
      2,
      null,
      'expected a pixel value 0..255 or a space in field 31 (Image), found "."',
    ],
    [
      'a non-numeric coordinate',
      [TRAINING_HEADER_LINE, trainingRow(1).replace(/^[^,]*,[^,]*,/, '10.1,abc,')],
      2,
      6,
      'expected left_eye_center_y to be a number in pixels or empty, found "abc"',
    ],
    [
      'an out-of-range coordinate',
      [TRAINING_HEADER_LINE, trainingRow(1).replace(/^[^,]*,/, '-12.5,')],
      2,
      1,
      'expected left_eye_center_x within [-10, 106] pixels, found -12.5',
    ],
    [
      'a pixel value above 255',
      [TRAINING_HEADER_LINE, trainingRow(1).replace(/ \d+$/, ' 256')],
      2,
      null,
      'expected pixel value 9216 to be an integer 0..255, found 256',
    ],
    [
      'a negative pixel value',
      [TRAINING_HEADER_LINE, trainingRow(1).replace(/,(\d+) /, ',-$1 ')],
      2,
      null,
      'expected a pixel value 0..255 or a space in field 31 (Image), found "-"',
    ],
    [
      'a decimal pixel value',
      [TRAINING_HEADER_LINE, trainingRow(1).replace(/ \d+$/, ' 2.5')],
      2,
      null,
      'expected a pixel value 0..255 or a space in field 31 (Image), found "."',
    ],
    [
      '9215 pixel values',
      [TRAINING_HEADER_LINE, trainingRow(1).replace(/ \d+$/, '')],
      2,
      null,
      'expected 9216 pixel values (96x96), found 9215',
    ],
    [
      '9217 pixel values',
      [TRAINING_HEADER_LINE, `${trainingRow(1)} 7`],
      2,
      null,
      'expected 9216 pixel values, found more',
    ],
    [
      'a truncated last line',
      [TRAINING_HEADER_LINE, trainingRow(1), trainingRow(2).slice(0, 5000)],
      3,
      null,
      'expected 9216 pixel values (96x96), found',
    ],
    [
      'an empty line between rows',
      [TRAINING_HEADER_LINE, trainingRow(1), '', trainingRow(2)],
      3,
      1,
      'expected a data row, found an empty line',
    ],
  ] as const)('rejects %s with file, line and column', async (_what, lines, line, column, detail) => {
    const file = writeFile(dir, 'training.csv', [...lines], '\n', lines.length > 0);
    const err = await dataError(loadTraining(file));
    expect(err.file).toBe(file);
    expect(err.line).toBe(line);
    if (column !== null) expect(err.column).toBe(column);
    expect(err.column).toBeGreaterThanOrEqual(1);
    expect(err.message).toContain(detail);
    expect(err.message.startsWith(`${file}:${line}:${err.column}: expected`)).toBe(true);
  });

  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
  ])(
    'rejects a row without its Image field with %s line ends: Image is required, unlike the lookup Location',
    async (_what, eol) => {
      const short = trainingRow(2).replace(/,[^,]*$/, '');
      const file = writeFile(dir, 'training.csv', [TRAINING_HEADER_LINE, trainingRow(1), short], eol);
      const err = await dataError(loadTraining(file));
      expect(err.message).toBe(`${file}:3:${short.length + 1}: expected 31 fields, found 30`);
    },
  );

  it('points at the offending pixel value', async () => {
    const row = trainingRow(1);
    const values = pixelField(1).split(' ');
    values[100] = '300';
    const bad = row.slice(0, row.lastIndexOf(',') + 1) + values.join(' ');
    const file = writeFile(dir, 'training.csv', [TRAINING_HEADER_LINE, bad]);
    const err = await dataError(loadTraining(file));
    expect(err.column).toBe(bad.indexOf(' 300 ') + 2);
    expect(err.detail).toBe('expected pixel value 101 to be an integer 0..255, found 300');
  });

  it('accepts trailing empty lines and coordinates slightly outside the image', async () => {
    const row = trainingRow(1)
      .replace(/^[^,]*,/, '0.69,')
      .replace(/^([^,]*),[^,]*,/, '$1,96.8,');
    const file = writeFile(dir, 'training.csv', [TRAINING_HEADER_LINE, row, '', '']);
    const set = await loadTraining(file);
    expect(set.count).toBe(1);
    expect(set.labels[0]).toBeCloseTo(0.69, 5);
    expect(set.labels[1]).toBeCloseTo(96.8, 4);
  });
});

describe('loadTest and loadLookup', () => {
  it('reads ImageIds with their pixels', async () => {
    const file = writeFile(
      dir,
      'test.csv',
      ['ImageId,Image', `1,${pixelField(5)}`, `2,${pixelField(6)}`],
      '\r\n',
    );
    const set = await loadTest(file);
    expect(set.count).toBe(2);
    expect(Array.from(set.imageIds)).toEqual([1, 2]);
    expect(Array.from(set.pixels.subarray(PIXELS))).toEqual(pixelValues(6));
  });

  it('rejects a repeated or non-integer ImageId', async () => {
    const repeated = writeFile(dir, 'test.csv', [
      'ImageId,Image',
      `1,${pixelField(5)}`,
      `1,${pixelField(6)}`,
    ]);
    expect((await dataError(loadTest(repeated))).message).toBe(
      `${repeated}:3:1: expected a unique ImageId, found 1 again (first on line 2)`,
    );
    const decimal = writeFile(dir, 'test2.csv', ['ImageId,Image', `1.5,${pixelField(5)}`]);
    expect((await dataError(loadTest(decimal))).message).toBe(
      `${decimal}:2:1: expected ImageId to be a positive integer, found "1.5"`,
    );
  });

  it('reads the lookup table with its empty Location column', async () => {
    const file = writeFile(dir, 'IdLookupTable.csv', [
      'RowId,ImageId,FeatureName,Location',
      '1,1,left_eye_center_x,',
      '2,1,nose_tip_y,',
    ]);
    expect(await loadLookup(file)).toEqual([
      { rowId: 1, imageId: 1, feature: 'left_eye_center_x' },
      { rowId: 2, imageId: 1, feature: 'nose_tip_y' },
    ]);
  });

  // The competition's own IdLookupTable.csv leaves the empty Location off, comma and all, under the
  // four-field header; pandas reads both forms alike, so the loader must too.
  const LOOKUP_HEADER_LINE = 'RowId,ImageId,FeatureName,Location';
  const lookupRows = ['1,1,left_eye_center_x', '2,1,nose_tip_y', '3,2,mouth_center_bottom_lip_y'] as const;
  it.each([
    ['four fields, LF', lookupRows.map((r) => `${r},`), '\n', true],
    ['four fields, CRLF', lookupRows.map((r) => `${r},`), '\r\n', true],
    ['three fields, LF', lookupRows, '\n', true],
    ['three fields, CRLF', lookupRows, '\r\n', true],
    ['three fields, CRLF, no final line end', lookupRows, '\r\n', false],
    ['both forms in one file, CRLF', [`${lookupRows[0]},`, lookupRows[1], `${lookupRows[2]},`], '\r\n', true],
  ] as const)('reads the lookup table with %s to the same rows', async (_what, rows, eol, finalEol) => {
    const file = writeFile(dir, 'IdLookupTable.csv', [LOOKUP_HEADER_LINE, ...rows], eol, finalEol);
    expect(await loadLookup(file)).toEqual([
      { rowId: 1, imageId: 1, feature: 'left_eye_center_x' },
      { rowId: 2, imageId: 1, feature: 'nose_tip_y' },
      { rowId: 3, imageId: 2, feature: 'mouth_center_bottom_lip_y' },
    ]);
  });

  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
  ])(
    'rejects a lookup row without its FeatureName (%s), naming file, line and what was expected',
    async (_what, eol) => {
      const file = writeFile(
        dir,
        'IdLookupTable.csv',
        [LOOKUP_HEADER_LINE, '1,1,left_eye_center_x', '2,1'],
        eol,
      );
      const err = await dataError(loadLookup(file));
      expect(err.message).toBe(
        `${file}:3:4: expected 4 fields (at least 3: Location may be left off), found 2`,
      );
    },
  );

  it('rejects a lookup row with an empty FeatureName and the Location left off', async () => {
    const file = writeFile(dir, 'IdLookupTable.csv', [LOOKUP_HEADER_LINE, '1,1,'], '\r\n');
    const err = await dataError(loadLookup(file));
    expect(err.message).toBe(
      `${file}:2:5: expected FeatureName to be a keypoint column such as left_eye_center_x, found ""`,
    );
  });

  it('still requires the whole lookup header', async () => {
    const file = writeFile(
      dir,
      'IdLookupTable.csv',
      ['RowId,ImageId,FeatureName', '1,1,left_eye_center_x'],
      '\r\n',
    );
    const err = await dataError(loadLookup(file));
    expect(err.message).toBe(`${file}:1:26: expected 4 fields, found 3`);
  });

  it('rejects a test.csv row without its Image field, with CRLF line ends', async () => {
    const file = writeFile(dir, 'test.csv', ['ImageId,Image', `1,${pixelField(5)}`, '2'], '\r\n');
    const err = await dataError(loadTest(file));
    expect(err.message).toBe(`${file}:3:2: expected 2 fields, found 1`);
  });

  it('rejects an unknown feature name', async () => {
    const file = writeFile(dir, 'IdLookupTable.csv', ['RowId,ImageId,FeatureName,Location', '1,1,nose_x,']);
    const err = await dataError(loadLookup(file));
    expect(err.message).toBe(
      `${file}:2:5: expected FeatureName to be a keypoint column such as left_eye_center_x, found "nose_x"`,
    );
  });
});

describe('loadKaggleDir', () => {
  function writeDir(lookupImageId: number): void {
    writeFile(dir, 'training.csv', [TRAINING_HEADER_LINE, trainingRow(1), trainingRow(2)]);
    writeFile(dir, 'test.csv', ['ImageId,Image', `1,${pixelField(5)}`, `2,${pixelField(6)}`]);
    writeFile(dir, 'IdLookupTable.csv', [
      'RowId,ImageId,FeatureName,Location',
      '1,1,left_eye_center_x,',
      `2,${lookupImageId},nose_tip_y,`,
    ]);
  }

  it('loads and cross-checks the three files, reporting progress over all of them', async () => {
    writeDir(2);
    const seen: Array<[number, number]> = [];
    const data = await loadKaggleDir(dir, { onProgress: (b, t) => seen.push([b, t]) });
    expect(data.training.count).toBe(2);
    expect(data.test.count).toBe(2);
    expect(data.lookup).toHaveLength(2);
    const [last, total] = at(seen, -1, 'a progress report');
    expect(last).toBe(total);
    expect(seen.every(([b], i) => i === 0 || b >= seen[i - 1]![0])).toBe(true);
  });

  it('loads files with CRLF line ends and a lookup table that leaves Location off', async () => {
    writeFile(dir, 'training.csv', [TRAINING_HEADER_LINE, trainingRow(1), trainingRow(2)], '\r\n');
    writeFile(dir, 'test.csv', ['ImageId,Image', `1,${pixelField(5)}`, `2,${pixelField(6)}`], '\r\n');
    writeFile(
      dir,
      'IdLookupTable.csv',
      ['RowId,ImageId,FeatureName,Location', '1,1,left_eye_center_x', '2,2,nose_tip_y'],
      '\r\n',
    );
    const data = await loadKaggleDir(dir);
    expect(data.training.count).toBe(2);
    expect(Array.from(data.test.pixels.subarray(PIXELS))).toEqual(pixelValues(6));
    expect(data.lookup).toEqual([
      { rowId: 1, imageId: 1, feature: 'left_eye_center_x' },
      { rowId: 2, imageId: 2, feature: 'nose_tip_y' },
    ]);
  });

  it('rejects a lookup ImageId that test.csv does not have', async () => {
    writeDir(3);
    const err = await dataError(loadKaggleDir(dir));
    expect(err.message).toBe(
      `${path.join(dir, 'IdLookupTable.csv')}:3:3: expected an ImageId that test.csv holds, found 3, which it does not have`,
    );
  });

  it('names the missing file and how to get it', async () => {
    writeDir(1);
    rmSync(path.join(dir, 'test.csv'));
    await expect(loadKaggleDir(dir)).rejects.toThrow(
      `expected the Kaggle file ${path.join(dir, 'test.csv')}`,
    );
  });
});

describe('formatSubmission', () => {
  it('writes every lookup row with values clipped to [0, 96]', () => {
    const lookup = [
      { rowId: 1, imageId: 7, feature: 'left_eye_center_x' },
      { rowId: 2, imageId: 7, feature: 'nose_tip_y' },
      { rowId: 3, imageId: 8, feature: 'nose_tip_y' },
    ];
    const values: Record<string, number> = {
      '7:left_eye_center_x': 66.123456,
      '7:nose_tip_y': 101,
      '8:nose_tip_y': -3,
    };
    const csv = formatSubmission(lookup, (id, f) => values[`${id}:${f}`] ?? Number.NaN);
    expect(csv).toBe('RowId,Location\n1,66.1235\n2,96\n3,0\n');
  });

  it('refuses a prediction that is not a number', () => {
    expect(() =>
      formatSubmission([{ rowId: 4, imageId: 2, feature: 'nose_tip_x' }], () => Number.NaN),
    ).toThrow('expected a finite prediction for RowId 4 (ImageId 2, nose_tip_x), found NaN');
  });
});
