import seedrandom from 'seedrandom';
import { COORDINATES, columnIndex } from '../../contracts/keypoints';
import type { FaceSet } from './dataset';

/**
 * The train/dev split. The seed's lesson: a split must be representative, so the rows carrying only the
 * four always-labelled keypoints, the complete rows and the rest are split separately and each keeps its
 * share in both parts.
 */

/** Present label coordinates per stratum: 8 = the four always-labelled keypoints, 30 = all fifteen. */
function stratum(set: FaceSet, row: number): 'four' | 'complete' | 'other' {
  let present = 0;
  const base = row * COORDINATES;
  for (let c = 0; c < COORDINATES; c++) if (!Number.isNaN(set.labels[base + c])) present++;
  return present === COORDINATES ? 'complete' : present === 8 ? 'four' : 'other';
}

/**
 * Row indices (ascending) of a seeded split: round(devFraction * n) rows of each stratum go to dev. The
 * same set, fraction and seed give the same split.
 */
export function splitTrainDev(
  set: FaceSet,
  devFraction: number,
  seed: number,
): { train: Int32Array; dev: Int32Array } {
  if (!(devFraction > 0 && devFraction < 1))
    throw new Error(`expected devFraction between 0 and 1, found ${devFraction}`);
  const strata = new Map<string, number[]>();
  for (let r = 0; r < set.count; r++) {
    const key = stratum(set, r);
    let rows = strata.get(key);
    if (!rows) {
      rows = [];
      strata.set(key, rows);
    }
    rows.push(r);
  }
  const rng = seedrandom.alea(String(seed));
  const train: number[] = [];
  const dev: number[] = [];
  // Fixed stratum order, so the draws do not depend on which stratum the first row belongs to.
  for (const key of ['four', 'complete', 'other']) {
    const rows = strata.get(key) ?? [];
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [rows[i], rows[j]] = [rows[j]!, rows[i]!];
    }
    const nDev = Math.round(rows.length * devFraction);
    dev.push(...rows.slice(0, nDev));
    train.push(...rows.slice(nDev));
  }
  const sorted = (a: number[]) => Int32Array.from(a).sort();
  return { train: sorted(train), dev: sorted(dev) };
}

/** The rows of `rows` where at least one of the given label columns is present (not NaN). */
export function rowsWithAny(set: FaceSet, rows: Int32Array, columns: readonly string[]): Int32Array {
  const cols = columns.map(columnIndex);
  return rows.filter((r) => cols.some((c) => !Number.isNaN(set.labels[r * COORDINATES + c])));
}

/** The rows of `rows` where every given label column is present (not NaN). */
export function rowsWithAll(set: FaceSet, rows: Int32Array, columns: readonly string[]): Int32Array {
  const cols = columns.map(columnIndex);
  return rows.filter((r) => cols.every((c) => !Number.isNaN(set.labels[r * COORDINATES + c])));
}
