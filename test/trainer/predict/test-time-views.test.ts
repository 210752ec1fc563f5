import { IMAGE_SIZE, PIXELS, SPECIALISTS } from '../../../contracts/keypoints';
import { TEST_TIME_AUGMENTATIONS } from '../../../trainer/config';
import { flipSpec } from '../../../trainer/data/flip';
import { predictInViews, testTimeViews } from '../../../trainer/predict/test-time-views';

/** Images of two bright dots on black, at the given pixel centres (x, y). */
function dotImages(faces: ReadonlyArray<ReadonlyArray<readonly [number, number]>>): Uint8Array {
  const pixels = new Uint8Array(faces.length * PIXELS);
  faces.forEach((dots, i) => {
    for (const [x, y] of dots) pixels[i * PIXELS + y * IMAGE_SIZE + x] = 255;
  });
  return pixels;
}

/**
 * A network that finds both eye centres exactly (the subject's left eye is the dot further right, as in
 * the Kaggle data), plus a constant `bias` in pixels, as a trained network is off by a little.
 */
function eyeLocator(bias: readonly [number, number] = [0, 0]) {
  const calls: number[] = [];
  const predict = (pixels: Uint8Array, count: number): Float32Array => {
    calls.push(count);
    const out = new Float32Array(count * 4);
    for (let i = 0; i < count; i++) {
      const dots: Array<[number, number]> = [];
      for (let p = 0; p < PIXELS; p++)
        if (pixels[i * PIXELS + p]! > 128) dots.push([p % IMAGE_SIZE, Math.floor(p / IMAGE_SIZE)]);
      dots.sort((a, b) => b[0] - a[0]);
      const [left, right] = dots;
      out.set([left![0] + bias[0], left![1] + bias[1], right![0] + bias[0], right![1] + bias[1]], i * 4);
    }
    return out;
  };
  return { predict, calls };
}

const eyeCenters = SPECIALISTS.find((s) => s.name === 'eye-centers')!;
const spec = flipSpec(eyeCenters.columns, eyeCenters.flipPairs);
const faces = [
  [
    [66, 37],
    [30, 39],
  ],
  [
    [60, 41],
    [35, 36],
  ],
] as const;
const truth = faces.flatMap(([left, right]) => [...left, ...right]);

describe('test-time views', () => {
  it.each(TEST_TIME_AUGMENTATIONS)(
    '%s: every view is mapped back to the image, so an exact locator stays exact',
    (mode) => {
      const locator = eyeLocator();
      const out = predictInViews(locator.predict, dotImages(faces), faces.length, spec, mode);
      expect(Array.from(out)).toEqual(truth);
      expect(locator.calls).toHaveLength(testTimeViews(mode).length);
    },
  );

  it('predicts in 1, 2 and 8 views: plain, mirrored, and both moved by one pixel right, down and both', () => {
    expect(TEST_TIME_AUGMENTATIONS.map((m) => testTimeViews(m).length)).toEqual([1, 2, 8]);
    const views = testTimeViews('flip-shift').map((v) => `${v.flip ? 'm' : 'p'}${v.dx}${v.dy}`);
    expect(views.sort()).toEqual(['m00', 'm01', 'm10', 'm11', 'p00', 'p01', 'p10', 'p11']);
  });

  it("averaging with the mirror image cancels a network's left-right bias", () => {
    const biased = eyeLocator([0.5, 0.25]);
    const plain = predictInViews(biased.predict, dotImages(faces), faces.length, spec, 'none');
    const flipped = predictInViews(biased.predict, dotImages(faces), faces.length, spec, 'flip');
    expect(Array.from(plain)).toEqual(truth.map((v, i) => v + (i % 2 === 0 ? 0.5 : 0.25)));
    expect(Array.from(flipped)).toEqual(truth.map((v, i) => v + (i % 2 === 0 ? 0 : 0.25)));
  });

  it('keeps the averaged predictions on the image, as single predictions are', () => {
    // Every view says y = 0 (the top edge); moved back, the shifted views would put it above the image.
    const atTop = (_: Uint8Array, count: number) => new Float32Array(count * 4).fill(0);
    const out = predictInViews(atTop, dotImages(faces), faces.length, spec, 'flip-shift');
    expect(Array.from(out).filter((_, i) => i % 2 === 1)).toEqual([0, 0, 0, 0]);
    expect(Math.min(...out)).toBeGreaterThanOrEqual(0);
  });
});
