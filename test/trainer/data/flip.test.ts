import { flipFace, flipSpec } from '../../../trainer/data/flip';
import { FLIP_PAIRS, KEYPOINT_COLUMNS, PIXELS, SPECIALISTS, columnIndex } from '../../../contracts/keypoints';

function labelsWithIndex(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => 10 + i);
}

describe('flipFace', () => {
  const spec = flipSpec(KEYPOINT_COLUMNS, FLIP_PAIRS);

  it('mirrors image column c to 95 - c', () => {
    const pixels = Uint8Array.from({ length: PIXELS }, (_, k) => (k % 96) + Math.floor(k / 96));
    const { pixels: out } = flipFace(pixels, labelsWithIndex(30), spec);
    expect(out[0]).toBe(pixels[95]);
    expect(out[95]).toBe(pixels[0]);
    expect(out[3 * 96 + 10]).toBe(pixels[3 * 96 + 85]);
    expect(pixels[0]).toBe(0); // input untouched
  });

  it('swaps left and right keypoints and mirrors x as 95 - x', () => {
    const labels = labelsWithIndex(30);
    labels[columnIndex('left_eye_center_x')] = 66.4;
    labels[columnIndex('right_eye_center_x')] = 30.3;
    labels[columnIndex('nose_tip_x')] = 48.4;
    labels[columnIndex('mouth_left_corner_y')] = Number.NaN;
    const { labels: out } = flipFace(new Uint8Array(PIXELS), labels, spec);
    expect(out[columnIndex('left_eye_center_x')]).toBeCloseTo(95 - 30.3, 4);
    expect(out[columnIndex('right_eye_center_x')]).toBeCloseTo(95 - 66.4, 4);
    expect(out[columnIndex('nose_tip_x')]).toBeCloseTo(95 - 48.4, 4);
    expect(out[columnIndex('left_eye_center_y')]).toBe(labels[columnIndex('right_eye_center_y')]);
    expect(out[columnIndex('nose_tip_y')]).toBe(labels[columnIndex('nose_tip_y')]);
    expect(Number.isNaN(out[columnIndex('mouth_right_corner_y')])).toBe(true);
    expect(out[columnIndex('mouth_left_corner_y')]).toBe(labels[columnIndex('mouth_right_corner_y')]);
  });

  it('is its own inverse, for all columns and for every specialist', () => {
    const pixels = Uint8Array.from({ length: PIXELS }, (_, k) => (k * 31) % 256);
    for (const [columns, pairs] of [
      [KEYPOINT_COLUMNS, FLIP_PAIRS],
      ...SPECIALISTS.map((s) => [s.columns, s.flipPairs] as const),
    ] as const) {
      const s = flipSpec(columns, pairs);
      const labels = labelsWithIndex(columns.length);
      const once = flipFace(pixels, labels, s);
      const twice = flipFace(once.pixels, once.labels, s);
      expect(twice.pixels).toEqual(pixels);
      expect(Array.from(twice.labels)).toEqual(Array.from(labels));
    }
  });

  it('agrees with the all-column flip for a specialist', () => {
    const eyes = SPECIALISTS.find((s) => s.name === 'eye-corners')!;
    const all = labelsWithIndex(30);
    const full = flipFace(new Uint8Array(PIXELS), all, spec).labels;
    const own = flipFace(
      new Uint8Array(PIXELS),
      Float32Array.from(eyes.columns, (c) => all[columnIndex(c)]!),
      flipSpec(eyes.columns, eyes.flipPairs),
    ).labels;
    expect(Array.from(own)).toEqual(eyes.columns.map((c) => full[columnIndex(c)]));
  });

  it('rejects a pair that swaps an x with a y column', () => {
    expect(() => flipSpec(['a_x', 'a_y'], [[0, 1]])).toThrow(
      'expected flip pair [0, 1] to swap two x or two y columns, found a_x and a_y',
    );
  });
});
