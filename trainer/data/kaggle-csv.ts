import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  COORDINATES,
  IMAGE_SIZE,
  KEYPOINT_COLUMNS,
  LOOKUP_HEADER,
  SUBMISSION_HEADER,
  TEST_HEADER,
  TRAINING_HEADER,
} from '../../contracts/keypoints';
import { DATA_FILES } from '../../contracts/run-layout';
import { readCsv } from './csv-stream';
import { DataError, type FaceSet, type LookupRow, type TestSet } from './dataset';

/**
 * Loaders for the three Kaggle files, accepted unchanged, and the submission writer. Every check runs
 * while reading, so invalid data stops the program before any training starts.
 */

export interface LoadOptions {
  /** Read at most this many data rows (0 or absent: all). */
  maxRows?: number;
  /** Bytes read so far and the file size, after each read. */
  onProgress?: (bytes: number, total: number) => void;
}

/**
 * Accepted label range in pixels. Real labels sit a little past the image edge at times (faces are not
 * always centred: an eye centre at x = 0.69 exists), so allow 10 px of slack; a value further out means a
 * wrong column or wrong units, and training on it would be silently wrong.
 */
export const COORDINATE_MIN = -10;
export const COORDINATE_MAX = IMAGE_SIZE + 10;

const DECIMAL = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
const INTEGER = /^\d+$/;

/**
 * Bytes per row used to size the pixel buffer from the file size: a little under the real files' average
 * (238 MB / 7049 = 33.8 kB), so the buffer rarely has to grow and is trimmed at most a little.
 */
const BYTES_PER_ROW_ESTIMATE = 30000;

async function expectedRows(file: string): Promise<number> {
  const { size } = await fs.stat(file);
  return Math.ceil(size / BYTES_PER_ROW_ESTIMATE) + 1;
}

function parseCoordinate(text: string, file: string, line: number, column: number, name: string): number {
  if (text === '') return Number.NaN;
  if (!DECIMAL.test(text)) {
    throw new DataError(
      file,
      line,
      column,
      `expected ${name} to be a number in pixels or empty, found "${text}"`,
    );
  }
  const v = Number(text);
  if (v < COORDINATE_MIN || v > COORDINATE_MAX) {
    throw new DataError(
      file,
      line,
      column,
      `expected ${name} within [${COORDINATE_MIN}, ${COORDINATE_MAX}] pixels, found ${text}`,
    );
  }
  return v;
}

function parsePositiveInt(text: string, file: string, line: number, column: number, name: string): number {
  const v = INTEGER.test(text) ? Number(text) : Number.NaN;
  if (!(v >= 1 && v <= 0x7fffffff)) {
    throw new DataError(file, line, column, `expected ${name} to be a positive integer, found "${text}"`);
  }
  return v;
}

/** A Float32Array that grows by half when a row beyond its end is written. */
class GrowingFloats {
  data: Float32Array;
  constructor(
    private readonly width: number,
    rows: number,
  ) {
    this.data = new Float32Array(Math.max(1, rows) * width).fill(Number.NaN);
  }
  set(row: number, col: number, v: number): void {
    const at = row * this.width + col;
    if (at >= this.data.length) {
      const next = new Float32Array(Math.max(at + this.width, Math.ceil(this.data.length * 1.5))).fill(
        Number.NaN,
      );
      next.set(this.data);
      this.data = next;
    }
    this.data[at] = v;
  }
  take(rows: number): Float32Array {
    return this.data.slice(0, rows * this.width);
  }
}

/** training.csv: 30 label columns (empty = missing) then `Image`. */
export async function loadTraining(file: string, opts: LoadOptions = {}): Promise<FaceSet> {
  const rowsHint = await expectedRows(file);
  const { maxRows } = opts;
  const labels = new GrowingFloats(COORDINATES, maxRows ? Math.min(maxRows, rowsHint) : rowsHint);
  const { rows, pixels } = await readCsv(
    file,
    {
      header: TRAINING_HEADER,
      pixelsField: COORDINATES,
      onScalar(row, field, text, line, column) {
        const v = parseCoordinate(text, file, line, column, KEYPOINT_COLUMNS[field] ?? `field ${field + 1}`);
        if (!Number.isNaN(v)) labels.set(row, field, v);
      },
    },
    { ...opts, expectedRows: rowsHint },
  );
  return { count: rows, pixels, labels: labels.take(rows), file };
}

/** test.csv: `ImageId,Image`, ImageIds unique. */
export async function loadTest(file: string, opts: LoadOptions = {}): Promise<TestSet> {
  const rowsHint = await expectedRows(file);
  let ids = new Int32Array(rowsHint);
  const seen = new Map<number, number>();
  const { rows, pixels } = await readCsv(
    file,
    {
      header: TEST_HEADER,
      pixelsField: 1,
      onScalar(row, _field, text, line, column) {
        const id = parsePositiveInt(text, file, line, column, 'ImageId');
        const first = seen.get(id);
        if (first !== undefined) {
          throw new DataError(
            file,
            line,
            column,
            `expected a unique ImageId, found ${id} again (first on line ${first})`,
          );
        }
        seen.set(id, line);
        if (row >= ids.length) {
          const next = new Int32Array(Math.ceil(ids.length * 1.5) + 1);
          next.set(ids);
          ids = next;
        }
        ids[row] = id;
      },
    },
    { ...opts, expectedRows: rowsHint },
  );
  return { count: rows, imageIds: ids.slice(0, rows), pixels, file };
}

interface LocatedLookupRow extends LookupRow {
  line: number;
  imageIdColumn: number;
}

async function readLookup(file: string): Promise<LocatedLookupRow[]> {
  const out: LocatedLookupRow[] = [];
  const seenRowIds = new Set<number>();
  // The row being read: its RowId (field 0) starts it.
  let current: LocatedLookupRow = { rowId: 0, imageId: 0, feature: '', line: 0, imageIdColumn: 0 };
  await readCsv(file, {
    header: LOOKUP_HEADER,
    pixelsField: -1,
    // The competition's own copy leaves the always-empty Location off; pandas reads both forms alike.
    requiredFields: LOOKUP_HEADER.indexOf('Location'),
    onScalar(_row, field, text, line, column) {
      if (field === 0) {
        const rowId = parsePositiveInt(text, file, line, column, 'RowId');
        if (seenRowIds.has(rowId))
          throw new DataError(file, line, column, `expected a unique RowId, found ${rowId} again`);
        seenRowIds.add(rowId);
        current = { rowId, imageId: 0, feature: '', line, imageIdColumn: 0 };
        out.push(current);
        return;
      }
      if (field === 1) {
        current.imageId = parsePositiveInt(text, file, line, column, 'ImageId');
        current.imageIdColumn = column;
      } else if (field === 2) {
        if (!KEYPOINT_COLUMNS.includes(text)) {
          throw new DataError(
            file,
            line,
            column,
            `expected FeatureName to be a keypoint column such as left_eye_center_x, found "${text}"`,
          );
        }
        current.feature = text;
      }
      // Location (field 3) is empty in the real table: it is what the submission fills in.
    },
  });
  return out;
}

/** IdLookupTable.csv: `RowId,ImageId,FeatureName,Location`, FeatureName one of the 30 label columns. */
export async function loadLookup(file: string): Promise<LookupRow[]> {
  return (await readLookup(file)).map(({ rowId, imageId, feature }) => ({ rowId, imageId, feature }));
}

/** Shortest text for a submitted value: four decimals are far below the metric's resolution. */
function formatPixels(v: number): string {
  return String(Math.round(v * 1e4) / 1e4);
}

/**
 * The Kaggle submission for every lookup row, `RowId,Location`, Location in pixels clipped to [0, 96]
 * (the competition's range). Throws when a prediction is not a finite number.
 */
export function formatSubmission(
  lookup: LookupRow[],
  predictPx: (imageId: number, feature: string) => number,
): string {
  const lines = [SUBMISSION_HEADER.join(',')];
  for (const { rowId, imageId, feature } of lookup) {
    const v = predictPx(imageId, feature);
    if (!Number.isFinite(v)) {
      throw new Error(
        `expected a finite prediction for RowId ${rowId} (ImageId ${imageId}, ${feature}), found ${v}`,
      );
    }
    lines.push(`${rowId},${formatPixels(Math.min(IMAGE_SIZE, Math.max(0, v)))}`);
  }
  return `${lines.join('\n')}\n`;
}

export interface KaggleData {
  training: FaceSet;
  test: TestSet;
  lookup: LookupRow[];
}

/**
 * Loads and cross-checks training.csv, test.csv and IdLookupTable.csv from `dir`: every lookup ImageId
 * must be an image of test.csv. `maxRows` limits training rows only (the submission needs every test
 * image); progress counts the bytes of all three files.
 */
export async function loadKaggleDir(dir: string, opts: LoadOptions = {}): Promise<KaggleData> {
  const files = {
    training: path.join(dir, DATA_FILES.training),
    test: path.join(dir, DATA_FILES.test),
    lookup: path.join(dir, DATA_FILES.lookup),
  };
  const sizes = await Promise.all(
    Object.values(files).map(async (f) => {
      try {
        return (await fs.stat(f)).size;
      } catch {
        throw new Error(
          `expected the Kaggle file ${f} (training.csv, test.csv and IdLookupTable.csv in ${dir}), found none; ` +
            'download them with `kaggle competitions download -c facial-keypoints-detection` or run `facepoints sample --out DIR`',
        );
      }
    }),
  );
  const total = sizes.reduce((a, b) => a + b, 0);
  const progress = (before: number) => (bytes: number) => opts.onProgress?.(before + bytes, total);

  const training = await loadTraining(files.training, { maxRows: opts.maxRows, onProgress: progress(0) });
  const test = await loadTest(files.test, { onProgress: progress(sizes[0] ?? 0) });
  const located = await readLookup(files.lookup);
  opts.onProgress?.(total, total);

  const testIds = new Set(test.imageIds);
  for (const row of located) {
    if (!testIds.has(row.imageId)) {
      throw new DataError(
        files.lookup,
        row.line,
        row.imageIdColumn,
        `expected an ImageId that ${DATA_FILES.test} holds, found ${row.imageId}, which it does not have`,
      );
    }
  }
  const lookup = located.map(({ rowId, imageId, feature }) => ({ rowId, imageId, feature }));
  return { training, test, lookup };
}
