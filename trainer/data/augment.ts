import sharp, { type Sharp } from 'sharp';
import type { AugmentationName } from '../config';
import { COORDINATES, IMAGE_SIZE, PIXELS } from '../../contracts/keypoints';
import type { FaceSet } from './dataset';

/**
 * The seed's Model 5 augmentations. Each changes only the pixels (labels stay valid), so an augmented
 * copy of a row keeps its labels:
 * - contrast-stretch: sharp's normalise(), the 1st..99th percentile stretched to 0..255;
 * - sharpen: sharp's sharpen() (unsharp mask, sigma 1), the seed's "inverse blur";
 * - adaptive-3x3 / adaptive-9x9: the adaptive Wiener filter (scipy.signal.wiener, the usual "adaptive
 *   filter"): smooths where the local variance is at noise level and keeps edges where it is higher.
 */

const RAW = { raw: { width: IMAGE_SIZE, height: IMAGE_SIZE, channels: 1 as const } };

async function viaSharp(pixels: Uint8Array, op: (img: Sharp) => Sharp): Promise<Uint8Array> {
  const { data, info } = await op(sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.length), RAW))
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (data.length !== PIXELS)
    throw new Error(
      `expected ${PIXELS} bytes back from sharp, found ${data.length} (${info.width}x${info.height}x${info.channels})`,
    );
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/**
 * Adaptive Wiener filter over a size x size window (windows are cut at the image border rather than
 * zero-padded, so borders do not darken). Hand-written: sharp has no local-variance filter. Local sums
 * come from integral images, so the cost does not grow with the window.
 */
export function wiener(pixels: Uint8Array, size: number): Uint8Array {
  const n = IMAGE_SIZE;
  const w = n + 1;
  const sum = new Float64Array(w * w);
  const sq = new Float64Array(w * w);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const v = pixels[r * n + c]!;
      const at = (r + 1) * w + c + 1;
      sum[at] = v + sum[at - 1]! + sum[at - w]! - sum[at - w - 1]!;
      sq[at] = v * v + sq[at - 1]! + sq[at - w]! - sq[at - w - 1]!;
    }
  }
  const half = size >> 1;
  const mean = new Float64Array(PIXELS);
  const variance = new Float64Array(PIXELS);
  let noise = 0;
  for (let r = 0; r < n; r++) {
    const r0 = Math.max(0, r - half);
    const r1 = Math.min(n, r + half + 1);
    for (let c = 0; c < n; c++) {
      const c0 = Math.max(0, c - half);
      const c1 = Math.min(n, c + half + 1);
      const count = (r1 - r0) * (c1 - c0);
      const s = sum[r1 * w + c1]! - sum[r0 * w + c1]! - sum[r1 * w + c0]! + sum[r0 * w + c0]!;
      const s2 = sq[r1 * w + c1]! - sq[r0 * w + c1]! - sq[r1 * w + c0]! + sq[r0 * w + c0]!;
      const m = s / count;
      const v = Math.max(0, s2 / count - m * m);
      mean[r * n + c] = m;
      variance[r * n + c] = v;
      noise += v;
    }
  }
  // As scipy: the noise power is the mean local variance.
  noise /= PIXELS;
  const out = new Uint8Array(PIXELS);
  for (let k = 0; k < PIXELS; k++) {
    const v = variance[k]!;
    const m = mean[k]!;
    const y = v <= noise ? m : m + (1 - noise / v) * (pixels[k]! - m);
    out[k] = Math.round(Math.min(255, Math.max(0, y)));
  }
  return out;
}

/** One augmented copy of a 96x96 image; the labels of the original still apply. */
export async function augmentFace(pixels: Uint8Array, name: AugmentationName): Promise<Uint8Array> {
  if (pixels.length !== PIXELS) throw new Error(`expected ${PIXELS} pixels (96x96), found ${pixels.length}`);
  switch (name) {
    case 'contrast-stretch':
      return viaSharp(pixels, (img) => img.normalise());
    case 'sharpen':
      return viaSharp(pixels, (img) => img.sharpen({ sigma: 1 }));
    case 'adaptive-3x3':
      return wiener(pixels, 3);
    case 'adaptive-9x9':
      return wiener(pixels, 9);
    default:
      throw new Error(
        `expected an augmentation of contrast-stretch, sharpen, adaptive-3x3, adaptive-9x9, found "${String(name)}"`,
      );
  }
}

/** Images augmented at once: enough to keep sharp's thread pool busy without queueing thousands. */
const CONCURRENCY = 16;

/**
 * The given rows followed by one augmented copy of them per name (in the order of `names`), each copy
 * carrying its original's labels: rows.length * (1 + names.length) faces.
 */
export async function augmentSet(
  set: FaceSet,
  rows: Int32Array,
  names: readonly AugmentationName[],
): Promise<FaceSet> {
  const copies = 1 + names.length;
  const count = rows.length * copies;
  const pixels = new Uint8Array(count * PIXELS);
  const labels = new Float32Array(count * COORDINATES);
  rows.forEach((row, i) => {
    pixels.set(set.pixels.subarray(row * PIXELS, (row + 1) * PIXELS), i * PIXELS);
    const own = set.labels.subarray(row * COORDINATES, (row + 1) * COORDINATES);
    for (let k = 0; k < copies; k++) labels.set(own, (k * rows.length + i) * COORDINATES);
  });
  const jobs: Array<[(typeof names)[number], number, number]> = [];
  names.forEach((name, n) => {
    for (let i = 0; i < rows.length; i++) jobs.push([name, n, i]);
  });
  for (let start = 0; start < jobs.length; start += CONCURRENCY) {
    await Promise.all(
      jobs.slice(start, start + CONCURRENCY).map(async ([name, n, i]) => {
        const out = await augmentFace(pixels.subarray(i * PIXELS, (i + 1) * PIXELS), name);
        pixels.set(out, ((n + 1) * rows.length + i) * PIXELS);
      }),
    );
  }
  return { count, pixels, labels, file: set.file };
}
