import { COORDINATES, PIXELS, columnIndex } from '../../contracts/keypoints';
import type { FaceSet } from '../data/dataset';
import type { UnitRows } from '../train/train-unit';

/** Copy the images and the unit's label columns of `rows` into the compact form trainUnit takes. */
export function gatherUnitRows(set: FaceSet, rows: ArrayLike<number>, columns: readonly string[]): UnitRows {
  const idx = columns.map(columnIndex);
  const count = rows.length;
  const pixels = new Uint8Array(count * PIXELS);
  const labelsPx = new Float32Array(count * idx.length);
  for (let i = 0; i < count; i++) {
    const r = rows[i]!;
    pixels.set(set.pixels.subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS);
    for (let c = 0; c < idx.length; c++)
      labelsPx[i * idx.length + c] = set.labels[r * COORDINATES + idx[c]!]!;
  }
  return { pixels, labelsPx, count };
}

/** Images and all 30 label columns (NaN where missing) of `rows`: the dev set the report evaluates on. */
export function gatherAllColumns(
  set: FaceSet,
  rows: ArrayLike<number>,
): { pixels: Uint8Array; labelsPx: Float32Array; count: number } {
  const count = rows.length;
  const pixels = new Uint8Array(count * PIXELS);
  const labelsPx = new Float32Array(count * COORDINATES);
  for (let i = 0; i < count; i++) {
    const r = rows[i]!;
    pixels.set(set.pixels.subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS);
    labelsPx.set(set.labels.subarray(r * COORDINATES, (r + 1) * COORDINATES), i * COORDINATES);
  }
  return { pixels, labelsPx, count };
}

/** The inverse of gatherUnitRows for predictions: put a unit's outputs per row into their places among the 30 columns. */
export function scatterUnitColumns(
  target: Float32Array,
  unitPred: Float32Array,
  columns: readonly string[],
): void {
  const cols = columns.map(columnIndex);
  const rows = unitPred.length / cols.length;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols.length; c++) target[r * COORDINATES + cols[c]!] = unitPred[r * cols.length + c]!;
  }
}
