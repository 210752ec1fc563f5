import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import seedrandom from 'seedrandom';
import { flipFace, flipSpec } from '../../../trainer/data/flip';
import { loadKaggleDir } from '../../../trainer/data/kaggle-csv';
import { generateFace, writeSampleData } from '../../../trainer/data/sample-faces';
import {
  ALWAYS_LABELLED,
  FLIP_PAIRS,
  IMAGE_SIZE,
  KEYPOINT_COLUMNS,
  columnIndex,
} from '../../../contracts/keypoints';
import { tempDir } from './csv-fixtures';

/** Centroid of the darkest blob (the pupil) within `radius` px of (x, y). */
function darkCentroid(pixels: Uint8Array, x: number, y: number, radius: number): [number, number] {
  const cells: Array<[number, number, number]> = [];
  for (let r = Math.floor(y - radius); r <= Math.ceil(y + radius); r++) {
    for (let c = Math.floor(x - radius); c <= Math.ceil(x + radius); c++) {
      if (r >= 0 && r < IMAGE_SIZE && c >= 0 && c < IMAGE_SIZE && Math.hypot(c - x, r - y) <= radius)
        cells.push([c, r, pixels[r * IMAGE_SIZE + c]!]);
    }
  }
  const min = Math.min(...cells.map((p) => p[2]));
  const mean = cells.reduce((a, p) => a + p[2], 0) / cells.length;
  const threshold = (min + mean) / 2;
  let sw = 0;
  let sx = 0;
  let sy = 0;
  for (const [c, r, v] of cells) {
    const w = Math.max(0, threshold - v);
    sw += w;
    sx += w * c;
    sy += w * r;
  }
  return [sx / sw, sy / sw];
}

describe('generateFace', () => {
  it('draws the iris where the eye-centre labels say, before and after the reference flip', async () => {
    const rng = seedrandom.alea('flip');
    const spec = flipSpec(KEYPOINT_COLUMNS, FLIP_PAIRS);
    const errors = { original: [] as number[], flipped: [] as number[], flippedY: [] as number[] };
    for (let n = 0; n < 12; n++) {
      const face = await generateFace(rng);
      const flipped = flipFace(face.pixels, face.labelsPx, spec);
      for (const eye of ['left_eye_center', 'right_eye_center']) {
        const [xi, yi] = [columnIndex(`${eye}_x`), columnIndex(`${eye}_y`)];
        const [ox] = darkCentroid(face.pixels, face.labelsPx[xi]!, face.labelsPx[yi]!, 2.5);
        errors.original.push(ox - face.labelsPx[xi]!);
        const [fx, fy] = darkCentroid(flipped.pixels, flipped.labels[xi]!, flipped.labels[yi]!, 2.5);
        errors.flipped.push(fx - flipped.labels[xi]!);
        errors.flippedY.push(fy - flipped.labels[yi]!);
      }
    }
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    const median = (a: number[]) => [...a].map(Math.abs).sort((p, q) => p - q)[a.length >> 1];
    // A 96 - x mirror would put every flipped label 1 px right of the drawing: a mean error near +-1.
    // Single faces stray further (eyelids clip the pupil, noise), hence the mean and median.
    expect(Math.abs(mean(errors.flipped))).toBeLessThan(0.25);
    expect(Math.abs(mean(errors.original))).toBeLessThan(0.25);
    expect(median(errors.flipped)).toBeLessThan(0.4);
    expect(median(errors.flippedY)).toBeLessThan(0.4);
  });

  it('is reproducible for a seed even when faces are rendered concurrently', async () => {
    const a = await Promise.all(
      [0, 1, 2].map(
        (
          (rng) => () =>
            generateFace(rng)
        )(seedrandom.alea('same')),
      ),
    );
    const rngB = seedrandom.alea('same');
    const b = [await generateFace(rngB), await generateFace(rngB), await generateFace(rngB)];
    expect(a.map((f) => Array.from(f.labelsPx))).toEqual(b.map((f) => Array.from(f.labelsPx)));
    expect(a.map((f) => Buffer.from(f.pixels).toString('base64'))).toEqual(
      b.map((f) => Buffer.from(f.pixels).toString('base64')),
    );
    expect(a[0]?.labelsPx).not.toEqual(a[1]?.labelsPx);
  });
});

/** docs/seed.md, "The data": mean and standard deviation (x, y) of a few keypoints in the real training.csv. */
const REAL: Record<string, [number, number, number, number]> = {
  left_eye_center: [66.4, 3.5, 37.7, 3.2],
  right_eye_center: [30.3, 3.1, 38.0, 3.0],
  nose_tip: [48.4, 4.3, 62.7, 5.7],
  mouth_center_bottom_lip: [48.6, 4.3, 79.0, 5.4],
  mouth_left_corner: [63.3, 4.1, 76.0, 4.6],
  left_eyebrow_outer_end: [79.5, 4.0, 29.7, 3.8],
  right_eye_inner_corner: [36.7, 2.4, 38.0, 2.3],
};

describe('writeSampleData', () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(() => ({ dir, cleanup } = tempDir()));
  afterAll(() => cleanup());

  it('writes Kaggle files that load, with the real label distribution and missing pattern', async () => {
    const rows = 300;
    const progress: number[] = [];
    await writeSampleData(dir, { rows, testRows: 20, seed: 5, onProgress: (done) => progress.push(done) });
    expect(progress[progress.length - 1]).toBe(320);

    const data = await loadKaggleDir(dir);
    expect(data.training.count).toBe(rows);
    expect(data.test.count).toBe(20);
    expect(Array.from(data.test.imageIds)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

    const { labels } = data.training;
    let four = 0;
    let complete = 0;
    for (let r = 0; r < rows; r++) {
      const present = KEYPOINT_COLUMNS.filter((_, c) => !Number.isNaN(labels[r * 30 + c]));
      if (present.length === 30) complete++;
      else if (present.length === 8) {
        expect(present.every((c) => ALWAYS_LABELLED.some((k) => c.startsWith(`${k}_`)))).toBe(true);
        four++;
      } else {
        expect(present.length).toBeGreaterThanOrEqual(24); // 12-14 keypoints
      }
    }
    // Real shares: 4755 / 7049 = 0.675 four-keypoint rows, 2140 / 7049 = 0.304 complete rows.
    expect(four / rows).toBeGreaterThan(0.6);
    expect(four / rows).toBeLessThan(0.75);
    expect(complete / rows).toBeGreaterThan(0.23);
    expect(complete / rows).toBeLessThan(0.37);

    for (const [k, [mx, sx, my, sy]] of Object.entries(REAL)) {
      for (const [axis, mean, sd] of [
        ['x', mx, sx],
        ['y', my, sy],
      ] as const) {
        const c = columnIndex(`${k}_${axis}`);
        const values = Array.from({ length: rows }, (_, r) => labels[r * 30 + c]!).filter(
          (v) => !Number.isNaN(v),
        );
        const m = values.reduce((a, v) => a + v, 0) / values.length;
        const s = Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1));
        expect([k, axis, Math.abs(m - mean) < 1.0]).toEqual([k, axis, true]);
        expect([k, axis, s > 0.65 * sd && s < 1.35 * sd]).toEqual([k, axis, true]);
      }
    }

    // The lookup table asks for some features per test image: 8 or all 30.
    const perImage = new Map<number, number>();
    for (const row of data.lookup) perImage.set(row.imageId, (perImage.get(row.imageId) ?? 0) + 1);
    expect(new Set(perImage.values())).toEqual(new Set([8, 30]));
    expect(data.lookup.map((r) => r.rowId)).toEqual(
      Array.from({ length: data.lookup.length }, (_, i) => i + 1),
    );
  });

  it('writes the same files for the same seed', async () => {
    const other = tempDir();
    try {
      await writeSampleData(other.dir, { rows: 3, testRows: 2, seed: 9, onProgress: () => undefined });
      const again = tempDir();
      try {
        await writeSampleData(again.dir, { rows: 3, testRows: 2, seed: 9 });
        for (const name of ['training.csv', 'test.csv', 'IdLookupTable.csv']) {
          expect(
            readFileSync(path.join(again.dir, name)).equals(readFileSync(path.join(other.dir, name))),
          ).toBe(true);
        }
      } finally {
        again.cleanup();
      }
    } finally {
      other.cleanup();
    }
  });
});
