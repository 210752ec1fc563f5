import seedrandom from 'seedrandom';
import { fillImages, fillTargets } from '../../../trainer/train/batches';
import { flipFace, flipSpec } from '../../../trainer/data/flip';
import { IMAGE_SIZE, KEYPOINT_COLUMNS, FLIP_PAIRS, PIXELS } from '../../../contracts/keypoints';

describe('filling a training batch', () => {
  const rng = seedrandom('batches');
  const rows = 5;
  const pixels = Uint8Array.from({ length: rows * PIXELS }, () => Math.floor(rng() * 256));
  const labelsPx = Float32Array.from({ length: rows * 30 }, () => 5 + rng() * 86);
  const spec = flipSpec(KEYPOINT_COLUMNS, FLIP_PAIRS);
  const order = Int32Array.from([4, 0, 3, 1, 2]);

  it('takes rows in the shuffled order and mirrors the flagged ones exactly as flipFace does', () => {
    const n = 3;
    const start = 1;
    const flipRows = Uint8Array.from([1, 0, 1]);
    const images = new Float32Array(n * PIXELS).fill(-1);
    const targets = new Float32Array(n * 30).fill(-9);
    fillImages(images, pixels, order, start, n, flipRows);
    fillTargets(targets, labelsPx, 30, order, start, n, { spec, rows: flipRows });
    for (let b = 0; b < n; b++) {
      const row = order[start + b]!;
      const face = pixels.subarray(row * PIXELS, (row + 1) * PIXELS);
      const labels = labelsPx.subarray(row * 30, (row + 1) * 30);
      const expected = flipRows[b] ? flipFace(face, labels, spec) : { pixels: face, labels };
      expect(Array.from(images.subarray(b * PIXELS, (b + 1) * PIXELS), (v) => Math.round(v * 255))).toEqual(
        Array.from(expected.pixels),
      );
      for (let c = 0; c < 30; c++) expect(targets[b * 30 + c]! * 48 + 48).toBeCloseTo(expected.labels[c]!, 4);
    }
  });

  it('moves a shifted image and its labels alike, mirrored or not, so each label stays on its feature', () => {
    // One bright pixel per face, labelled as the nose tip (a keypoint with no left/right partner).
    const nose = flipSpec(['nose_tip_x', 'nose_tip_y'], []);
    const dots = [
      [40, 60],
      [70, 20],
      [1, 94],
    ] as const;
    const faces = new Uint8Array(dots.length * PIXELS);
    dots.forEach(([x, y], i) => {
      faces[i * PIXELS + y * IMAGE_SIZE + x] = 255;
    });
    const labels = Float32Array.from(dots.flat());
    const flipRows = Uint8Array.of(0, 1, 1);
    const shifts = Int8Array.of(2, -1, -2, 1, -1, 1);
    const images = new Float32Array(dots.length * PIXELS);
    const targets = new Float32Array(dots.length * 2);
    fillImages(images, faces, null, 0, dots.length, flipRows, shifts);
    fillTargets(targets, labels, 2, null, 0, dots.length, { spec: nose, rows: flipRows }, null, shifts);
    const brightest = (b: number) => {
      const i = images.subarray(b * PIXELS, (b + 1) * PIXELS).indexOf(1);
      return [i % IMAGE_SIZE, Math.floor(i / IMAGE_SIZE)];
    };
    const labelled = (b: number) => [targets[2 * b]! * 48 + 48, targets[2 * b + 1]! * 48 + 48];
    // Mirrored x is 95 - x; (1, 94) mirrored to (94, 94) and moved left 1 and down 1 reaches (93, 95).
    expect([0, 1, 2].map(brightest)).toEqual([
      [42, 59],
      [23, 21],
      [93, 95],
    ]);
    for (const b of [0, 1, 2]) {
      const [x, y] = labelled(b);
      expect([x!, y!].map((v) => Math.round(v * 1e4) / 1e4)).toEqual(brightest(b));
    }
  });

  it('repeats the edge where a shifted image has no pixels', () => {
    const one = new Float32Array(PIXELS);
    fillImages(one, pixels, null, 0, 1, null, Int8Array.of(2, -1));
    const byte = (v: number) => Math.round(v * 255);
    // Moved 2 right and 1 up: row r takes source row r + 1 (the last row repeats), column c takes c - 2.
    const src = (r: number, c: number) => pixels[Math.min(95, r + 1) * IMAGE_SIZE + Math.max(0, c - 2)]!;
    for (const [r, c] of [
      [0, 0],
      [0, 1],
      [0, 2],
      [10, 50],
      [95, 95],
      [95, 0],
    ] as const)
      expect(byte(one[r * IMAGE_SIZE + c]!)).toBe(src(r, c));
  });

  it('without flips, converts bytes to [0, 1] and pixels to the target scale', () => {
    const images = new Float32Array(2 * PIXELS);
    const targets = new Float32Array(2 * 30);
    fillImages(images, pixels, null, 3, 2);
    fillTargets(targets, labelsPx, 30, null, 3, 2);
    expect(images[0]).toBeCloseTo(pixels[3 * PIXELS]! / 255, 6);
    expect(images[2 * PIXELS - 1]).toBeCloseTo(pixels[5 * PIXELS - 1]! / 255, 6);
    expect(targets[0]).toBeCloseTo((labelsPx[3 * 30]! - 48) / 48, 6);
    expect(targets[59]).toBeCloseTo((labelsPx[5 * 30 - 1]! - 48) / 48, 6);
  });

  it('with a mask, marks missing labels 0 (target 0) and a flip moves each mask with its label', () => {
    const cols = 4;
    // left_eye_center x,y then right_eye_center x,y; row 0 lacks the right eye, row 1 the left eye's y.
    const eyes = flipSpec(
      ['left_eye_center_x', 'left_eye_center_y', 'right_eye_center_x', 'right_eye_center_y'],
      [
        [0, 2],
        [1, 3],
      ],
    );
    const labels = Float32Array.of(66, 38, Number.NaN, Number.NaN, 60, Number.NaN, 30, 40);
    const targets = new Float32Array(2 * cols).fill(-9);
    const mask = new Float32Array(2 * cols).fill(-9);
    fillTargets(targets, labels, cols, null, 0, 2, { spec: eyes, rows: Uint8Array.of(1, 0) }, mask);
    // Row 0 flipped: its left eye becomes the right one (x mirrored to 95 - 66), the missing right eye the left.
    expect(Array.from(mask)).toEqual([0, 0, 1, 1, 1, 0, 1, 1]);
    expect(Array.from(targets.subarray(0, 4))).toEqual(
      [0, 0, (29 - 48) / 48, (38 - 48) / 48].map(Math.fround),
    );
    expect(Array.from(targets.subarray(4))).toEqual(
      [(60 - 48) / 48, 0, (30 - 48) / 48, (40 - 48) / 48].map(Math.fround),
    );
  });
});
