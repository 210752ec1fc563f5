import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KEYPOINT_COLUMNS, PIXELS } from '../../../contracts/keypoints';

/** Small Kaggle-format files written to a temp dir, for loader tests. */

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'facepoints-data-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A deterministic pixel list: value k of image `seed` is (k * 7 + seed * 13) mod 256. */
export function pixelValues(seed: number): number[] {
  return Array.from({ length: PIXELS }, (_, k) => (k * 7 + seed * 13) % 256);
}

export function pixelField(seed: number): string {
  return pixelValues(seed).join(' ');
}

export const TRAINING_HEADER_LINE = [...KEYPOINT_COLUMNS, 'Image'].join(',');

/** A training row: label column c = 10 + c + seed / 10 unless listed in `missing`. */
export function trainingRow(seed: number, missing: readonly number[] = []): string {
  const labels = KEYPOINT_COLUMNS.map((_, c) => (missing.includes(c) ? '' : String(10 + c + seed / 10)));
  return [...labels, pixelField(seed)].join(',');
}

export function writeFile(dir: string, name: string, lines: string[], eol = '\n', finalEol = true): string {
  const file = path.join(dir, name);
  writeFileSync(file, lines.join(eol) + (finalEol ? eol : ''));
  return file;
}
