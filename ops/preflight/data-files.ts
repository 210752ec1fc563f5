import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { LOOKUP_HEADER, TEST_HEADER, TRAINING_HEADER } from '../../contracts/keypoints';
import { DATA_FILES } from '../../contracts/run-layout';

/** The header each Kaggle file must start with, as trainer/data/kaggle-csv.ts checks it. */
export const DATA_FILE_HEADERS: Record<keyof typeof DATA_FILES, readonly string[]> = {
  training: TRAINING_HEADER,
  test: TEST_HEADER,
  lookup: LOOKUP_HEADER,
};

/** Enough bytes for any of the three headers (training.csv's is ~700 bytes) without reading pixels. */
export const HEADER_BYTES = 4096;

export interface DataFileCheck {
  file: string;
  /** Where it was looked for: a local path or an s3:// URL. */
  location: string;
  /** null when the file is missing. */
  sizeBytes: number | null;
  /** null when the header is as the loader expects. */
  problem: string | null;
}

/**
 * The first line of a file's start, compared field by field as the loader does: a UTF-8 byte order mark is
 * skipped and CR, LF or CRLF end the line. Returns the problem in the loader's words, or null.
 */
export function headerProblem(start: Buffer, expected: readonly string[]): string | null {
  let text = start.toString('latin1');
  if (text.startsWith('\xef\xbb\xbf')) text = text.slice(3);
  const end = text.search(/[\r\n]/);
  if (end < 0 && start.length >= HEADER_BYTES)
    return `expected a header line of at most ${HEADER_BYTES} bytes, found none (is this a CSV file?)`;
  if (end < 0) return 'expected a header line followed by data rows, found a file of one line';
  const line = text.slice(0, end);
  if (line === '') return `expected the header ${expected.slice(0, 3).join(',')},..., found an empty line`;
  const fields = line.split(',');
  for (let f = 0; f < expected.length; f++) {
    if (fields[f] !== expected[f])
      return `expected header field ${f + 1} to be "${expected[f]}", found ${fields[f] === undefined ? 'no such field' : `"${fields[f]}"`}`;
  }
  if (fields.length !== expected.length)
    return `expected ${expected.length} header fields, found ${fields.length}`;
  return null;
}

async function readStart(file: string, bytes: number): Promise<Buffer> {
  const handle = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The three Kaggle files of a local folder: present, not empty, with the loader's headers. */
export async function checkLocalDataFiles(dir: string): Promise<DataFileCheck[]> {
  const out: DataFileCheck[] = [];
  for (const [kind, file] of Object.entries(DATA_FILES) as Array<[keyof typeof DATA_FILES, string]>) {
    const location = path.join(dir, file);
    const stat = await fs.stat(location).catch(() => null);
    if (!stat?.isFile()) {
      out.push({ file, location, sizeBytes: null, problem: 'missing' });
      continue;
    }
    const problem =
      stat.size === 0
        ? 'expected data, found an empty file'
        : headerProblem(await readStart(location, HEADER_BYTES), DATA_FILE_HEADERS[kind]);
    out.push({ file, location, sizeBytes: stat.size, problem });
  }
  return out;
}

/** The same checks on files already uploaded: sizes from a listing, headers from the first bytes. */
export async function checkStoredDataFiles(
  listing: Array<{ key: string; size: number }>,
  prefix: string,
  urlOf: (key: string) => string,
  readStartOf: (key: string, bytes: number) => Promise<Buffer>,
): Promise<DataFileCheck[]> {
  const out: DataFileCheck[] = [];
  for (const [kind, file] of Object.entries(DATA_FILES) as Array<[keyof typeof DATA_FILES, string]>) {
    const key = `${prefix}${file}`;
    const found = listing.find((o) => o.key === key);
    if (!found) {
      out.push({ file, location: urlOf(key), sizeBytes: null, problem: 'missing' });
      continue;
    }
    const problem =
      found.size === 0
        ? 'expected data, found an empty file'
        : headerProblem(await readStartOf(key, HEADER_BYTES), DATA_FILE_HEADERS[kind]);
    out.push({ file, location: urlOf(key), sizeBytes: found.size, problem });
  }
  return out;
}
