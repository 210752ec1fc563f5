import type { FaceSet } from '../../../trainer/data/dataset';
import { rowsWithAll, rowsWithAny, splitTrainDev } from '../../../trainer/data/split';
import { ALWAYS_LABELLED, KEYPOINT_COLUMNS, columnIndex } from '../../../contracts/keypoints';

/** Rows 0..59 carry the 4 always-labelled keypoints, 60..89 all 15, 90..99 all but the eyebrows. */
function patternedSet(): FaceSet {
  const count = 100;
  const labels = new Float32Array(count * 30).fill(Number.NaN);
  const four = ALWAYS_LABELLED.flatMap((k) => [`${k}_x`, `${k}_y`]).map(columnIndex);
  for (let r = 0; r < count; r++) {
    KEYPOINT_COLUMNS.forEach((name, c) => {
      const present = r < 60 ? four.includes(c) : r < 90 ? true : !name.includes('eyebrow');
      if (present) labels[r * 30 + c] = 40 + (r % 7);
    });
  }
  return { count, labels, pixels: new Uint8Array(0), file: 'patterned' };
}

const kind = (r: number) => (r < 60 ? 'four' : r < 90 ? 'complete' : 'other');
const countKinds = (rows: Int32Array) =>
  Array.from(rows).reduce<Record<string, number>>((acc, r) => {
    acc[kind(r)] = (acc[kind(r)] ?? 0) + 1;
    return acc;
  }, {});

describe('splitTrainDev', () => {
  it('keeps the share of 4-keypoint, complete and other rows in both parts', () => {
    const { train, dev } = splitTrainDev(patternedSet(), 0.2, 7);
    expect(countKinds(dev)).toEqual({ four: 12, complete: 6, other: 2 });
    expect(countKinds(train)).toEqual({ four: 48, complete: 24, other: 8 });
    const all = [...train, ...dev].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('is reproducible for a seed and differs between seeds', () => {
    const set = patternedSet();
    expect(splitTrainDev(set, 0.2, 3)).toEqual(splitTrainDev(set, 0.2, 3));
    expect(Array.from(splitTrainDev(set, 0.2, 3).dev)).not.toEqual(
      Array.from(splitTrainDev(set, 0.2, 4).dev),
    );
  });

  it('rejects a fraction outside (0, 1)', () => {
    expect(() => splitTrainDev(patternedSet(), 1, 1)).toThrow(
      'expected devFraction between 0 and 1, found 1',
    );
  });
});

describe('rowsWithAll', () => {
  it('keeps the rows where every given column is present', () => {
    const set = patternedSet();
    const rows = Int32Array.from([0, 59, 60, 89, 90, 99]);
    expect(Array.from(rowsWithAll(set, rows, ['nose_tip_x', 'nose_tip_y']))).toEqual([0, 59, 60, 89, 90, 99]);
    expect(Array.from(rowsWithAll(set, rows, ['mouth_left_corner_x', 'mouth_left_corner_y']))).toEqual([
      60, 89, 90, 99,
    ]);
    expect(Array.from(rowsWithAll(set, rows, ['left_eyebrow_outer_end_x']))).toEqual([60, 89]);
  });
});

describe('rowsWithAny', () => {
  it('keeps the rows where at least one given column is present', () => {
    const set = patternedSet();
    const rows = Int32Array.from([0, 59, 60, 89, 90, 99]);
    expect(Array.from(rowsWithAny(set, rows, ['left_eyebrow_outer_end_x']))).toEqual([60, 89]);
    expect(Array.from(rowsWithAny(set, rows, ['left_eyebrow_outer_end_x', 'mouth_left_corner_x']))).toEqual([
      60, 89, 90, 99,
    ]);
    expect(Array.from(rowsWithAny(set, rows, ['nose_tip_x', 'left_eyebrow_outer_end_x']))).toEqual([
      0, 59, 60, 89, 90, 99,
    ]);
  });
});
