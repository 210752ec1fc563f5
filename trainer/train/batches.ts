import { PIXELS, TARGET_CENTER, TARGET_SCALE } from '../keypoints';

/** Byte -> [0, 1] by table: one lookup per pixel, and the same float for training and prediction. */
const BYTE_TO_UNIT = Float32Array.from({ length: 256 }, (_, i) => i / 255);

/**
 * Copy `n` images into `dst` as floats in [0, 1]: rows `order[start..start+n)` when `order` is given,
 * else rows start..start+n. `dst` is a buffer reused for every batch, so each byte is converted once.
 */
export function fillImages(dst: Float32Array, pixels: Uint8Array, order: ArrayLike<number> | null, start: number, n: number): void {
  for (let b = 0; b < n; b++) {
    const row = order ? order[start + b] : start + b;
    const src = row * PIXELS;
    const out = b * PIXELS;
    for (let p = 0; p < PIXELS; p++) dst[out + p] = BYTE_TO_UNIT[pixels[src + p]];
  }
}

/** Copy `n` label rows of `cols` pixel coordinates into `dst` on the target scale (px - 48) / 48. */
export function fillTargets(dst: Float32Array, labelsPx: Float32Array, cols: number, order: ArrayLike<number> | null, start: number, n: number): void {
  for (let b = 0; b < n; b++) {
    const row = order ? order[start + b] : start + b;
    for (let c = 0; c < cols; c++) dst[b * cols + c] = (labelsPx[row * cols + c] - TARGET_CENTER) / TARGET_SCALE;
  }
}
