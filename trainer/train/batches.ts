import type { FlipSpec } from '../data/flip';
import { IMAGE_SIZE, MIRROR_X_OFFSET, PIXELS, toTarget } from '../../contracts/keypoints';

/** Byte -> [0, 1] by table: one lookup per pixel, and the same float for training and prediction. */
const BYTE_TO_UNIT = Float32Array.from({ length: 256 }, (_, i) => i / 255);

/**
 * Copy `n` images into `dst` as floats in [0, 1]: rows `order[start..start+n)` when `order` is given,
 * else rows start..start+n. `dst` is a buffer reused for every batch, so each byte is converted once.
 * Where `flipRows[b]` is 1 the image is mirrored as trainer/data/flip.ts's flipFace does (column c takes
 * column 95 - c). Flipping here, while converting, costs nothing; on wasm tensors it took ~30% of a
 * quick-preset step (tf.where broadcasts the row mask through the slow Tile kernel).
 */
export function fillImages(
  dst: Float32Array,
  pixels: Uint8Array,
  order: ArrayLike<number> | null,
  start: number,
  n: number,
  flipRows: Uint8Array | null = null,
  /** Per row dx, dy: the (mirrored) image's content moves dx right and dy down, edges repeated. */
  shifts: Int8Array | null = null,
): void {
  for (let b = 0; b < n; b++) {
    const row = order ? order[start + b]! : start + b;
    const src = row * PIXELS;
    const out = b * PIXELS;
    const dx = shifts ? shifts[2 * b]! : 0;
    const dy = shifts ? shifts[2 * b + 1]! : 0;
    if (dx !== 0 || dy !== 0) {
      // Output column c reads (mirrored) column c - dx; outside [lo, hi) that falls off the image and the
      // edge column repeats. Bounds per row rather than a clamp per pixel: 43 against 66 us an image
      // (unshifted: 29 us; a quick-preset training step costs ~1,700 us an image).
      const lo = Math.max(0, dx);
      const hi = Math.min(IMAGE_SIZE, IMAGE_SIZE + dx);
      const mirror = flipRows?.[b] === 1;
      for (let r = 0; r < IMAGE_SIZE; r++) {
        const from = src + Math.min(MIRROR_X_OFFSET, Math.max(0, r - dy)) * IMAGE_SIZE;
        const to = out + r * IMAGE_SIZE;
        const at = (x: number) => BYTE_TO_UNIT[pixels[from + (mirror ? MIRROR_X_OFFSET - x : x)]!]!;
        const first = at(0);
        const last = at(MIRROR_X_OFFSET);
        for (let c = 0; c < lo; c++) dst[to + c] = first;
        if (mirror)
          for (let c = lo; c < hi; c++) dst[to + c] = BYTE_TO_UNIT[pixels[from + MIRROR_X_OFFSET - c + dx]!]!;
        else for (let c = lo; c < hi; c++) dst[to + c] = BYTE_TO_UNIT[pixels[from + c - dx]!]!;
        for (let c = hi; c < IMAGE_SIZE; c++) dst[to + c] = last;
      }
    } else if (flipRows?.[b]) {
      for (let r = 0; r < IMAGE_SIZE; r++) {
        const from = src + r * IMAGE_SIZE + MIRROR_X_OFFSET;
        const to = out + r * IMAGE_SIZE;
        for (let c = 0; c < IMAGE_SIZE; c++) dst[to + c] = BYTE_TO_UNIT[pixels[from - c]!]!;
      }
    } else {
      for (let p = 0; p < PIXELS; p++) dst[out + p] = BYTE_TO_UNIT[pixels[src + p]!]!;
    }
  }
}

/**
 * Copy `n` label rows of `cols` pixel coordinates into `dst` on the target scale (px - 48) / 48. Rows
 * flagged in `flipRows` get flipFace's labels: left/right partners swapped by `flip.permutation` and every
 * x mirrored to 95 - x, then scaled. With `mask`, a missing (NaN) label writes target 0 and mask 0, a
 * present one mask 1; the flip moves a label's mask with it, since both are read through the same index.
 */
export function fillTargets(
  dst: Float32Array,
  labelsPx: Float32Array,
  cols: number,
  order: ArrayLike<number> | null,
  start: number,
  n: number,
  flip: { spec: FlipSpec; rows: Uint8Array } | null = null,
  mask: Float32Array | null = null,
  /** As fillImages': the labels move with the image (columns alternate x, y). */
  shifts: Int8Array | null = null,
): void {
  for (let b = 0; b < n; b++) {
    const row = order ? order[start + b]! : start + b;
    const src = row * cols;
    const dx = shifts ? shifts[2 * b]! : 0;
    const dy = shifts ? shifts[2 * b + 1]! : 0;
    if (flip?.rows[b]) {
      const { permutation, isX } = flip.spec;
      for (let c = 0; c < cols; c++) {
        const v = labelsPx[src + permutation[c]!]!;
        dst[b * cols + c] = toTarget(isX[c] ? MIRROR_X_OFFSET - v + dx : v + dy);
      }
    } else {
      for (let c = 0; c < cols; c++)
        dst[b * cols + c] = toTarget(labelsPx[src + c]! + (c % 2 === 0 ? dx : dy));
    }
    if (mask) {
      for (let i = b * cols; i < (b + 1) * cols; i++) {
        const present = !Number.isNaN(dst[i]!);
        mask[i] = present ? 1 : 0;
        if (!present) dst[i] = 0;
      }
    }
  }
}
