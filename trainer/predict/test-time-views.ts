import type * as tf from '@tensorflow/tfjs';
import { IMAGE_SIZE, PIXELS } from '../../contracts/keypoints';
import type { TestTimeAugmentation } from '../config';
import { type FlipSpec, flipLabels, flipSpec, mirrorImages } from '../data/flip';
import { predictPx } from '../train/evaluate';

/**
 * Test-time augmentation: a unit predicts each image in several views and the views' answers, mapped back
 * to the image, are averaged. `none` is one view (the seed); `flip` adds the mirror image; `flip-shift`
 * also moves each of the two by one pixel right, down and both, so a network that averages its input in
 * 2x2 blocks (`network.inputPool: 2`) sees all four ways the blocks can fall, 8 views in all. Measured on
 * the sample (quick preset, merged specialists, dev RMSE): 1.54 px in one view, 1.41 with flip, 1.34 with
 * flip-shift; eight views cost 8 forward passes of the dev and test images, about 6 s of npm start.
 */

interface View {
  flip: boolean;
  /** The image content moves this many pixels right and down (edges repeated); predictions move back. */
  dx: number;
  dy: number;
}

const SHIFTS: ReadonlyArray<readonly [number, number]> = [
  [0, 0],
  [1, 0],
  [0, 1],
  [1, 1],
];

export function testTimeViews(mode: TestTimeAugmentation): View[] {
  const flips = mode === 'none' ? [false] : [false, true];
  const shifts = mode === 'flip-shift' ? SHIFTS : SHIFTS.slice(0, 1);
  return flips.flatMap((flip) => shifts.map(([dx, dy]) => ({ flip, dx, dy })));
}

/**
 * The average over `mode`'s views of `predictPx` (count images of 96x96 -> count * columns pixel
 * coordinates, x then y per keypoint as in KEYPOINT_COLUMNS), clipped to the image as the predictions are.
 * `flip` swaps the unit's left/right columns back after a mirrored view.
 */
export function predictInViews(
  predictPx: (pixels: Uint8Array, count: number) => Float32Array,
  pixels: Uint8Array,
  count: number,
  flip: FlipSpec,
  mode: TestTimeAugmentation,
): Float32Array {
  const views = testTimeViews(mode);
  if (views.length === 1) return predictPx(pixels, count);
  const columns = flip.permutation.length;
  const sum = new Float64Array(count * columns);
  const mirrored = mirrorImages(pixels, count);
  for (const view of views) {
    const source = view.flip ? mirrored : pixels;
    const out = predictPx(view.dx || view.dy ? shiftImages(source, count, view.dx, view.dy) : source, count);
    for (let r = 0; r < count; r++) {
      let row = out.subarray(r * columns, (r + 1) * columns);
      // Undo the view in its reverse order: the shift was applied to the (mirrored) image.
      const unshifted = Float32Array.from(row, (v, c) => v - (flip.isX[c] ? view.dx : view.dy));
      row = view.flip ? flipLabels(unshifted, flip) : unshifted;
      for (let c = 0; c < columns; c++) sum[r * columns + c]! += row[c]!;
    }
  }
  return Float32Array.from(sum, (s) => Math.min(IMAGE_SIZE, Math.max(0, s / views.length)));
}

/** Each image's content moved `dx` right and `dy` down; the first rows and columns repeat the edge. */
function shiftImages(pixels: Uint8Array, count: number, dx: number, dy: number): Uint8Array {
  const out = new Uint8Array(count * PIXELS);
  for (let i = 0; i < count; i++) {
    const base = i * PIXELS;
    for (let r = 0; r < IMAGE_SIZE; r++) {
      const from = base + Math.max(0, r - dy) * IMAGE_SIZE;
      const to = base + r * IMAGE_SIZE;
      out.set(pixels.subarray(from, from + IMAGE_SIZE - dx), to + dx);
      out.fill(pixels[from]!, to, to + dx);
    }
  }
  return out;
}

/** A trained unit's predictions in pixels (count * its columns), in `mode`'s views. */
export function predictUnitPx(
  model: tf.LayersModel,
  pixels: Uint8Array,
  count: number,
  batchSize: number,
  unit: { columns: readonly string[]; flipPairs: ReadonlyArray<readonly [number, number]> },
  mode: TestTimeAugmentation,
): Float32Array {
  const spec = flipSpec(unit.columns, unit.flipPairs);
  return predictInViews((p, n) => predictPx(model, p, n, batchSize), pixels, count, spec, mode);
}
