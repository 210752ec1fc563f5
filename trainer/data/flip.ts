import { IMAGE_SIZE, MIRROR_X_OFFSET, PIXELS } from '../../contracts/keypoints';

/**
 * The reference horizontal flip in pixel units. Pixel centres sit on integers (see MIRROR_X_OFFSET), so
 * image column c moves to 95 - c and every x coordinate to 95 - x; left/right partners swap columns so that
 * "left_eye_center" still names the subject's left eye after the mirror. The batch flip used in training
 * must agree with this one (tested against it).
 */

export interface FlipSpec {
  /** Output column i takes input column permutation[i]. */
  permutation: Int32Array;
  /** 1 where column i is an x coordinate (mirrored), 0 for y. */
  isX: Uint8Array;
}

/** A flip for the given label columns, `flipPairs` indexing into `columns` (as in SPECIALISTS). */
export function flipSpec(
  columns: readonly string[],
  flipPairs: ReadonlyArray<readonly [number, number]>,
): FlipSpec {
  const permutation = Int32Array.from(columns, (_, i) => i);
  for (const [a, b] of flipPairs) {
    const first = columns[a];
    const second = columns[b];
    if (first === undefined || second === undefined) {
      throw new Error(`expected flip pair indices within 0..${columns.length - 1}, found [${a}, ${b}]`);
    }
    if (first.endsWith('_x') !== second.endsWith('_x')) {
      throw new Error(
        `expected flip pair [${a}, ${b}] to swap two x or two y columns, found ${first} and ${second}`,
      );
    }
    permutation[a] = b;
    permutation[b] = a;
  }
  const isX = Uint8Array.from(columns, (c) => (c.endsWith('_x') ? 1 : 0));
  return { permutation, isX };
}

/** Mirrors one 96x96 image and its labels (pixels; NaN = missing stays NaN). Inputs are left unchanged. */
export function flipFace(
  pixels: Uint8Array,
  labelsPx: Float32Array,
  spec: FlipSpec,
): { pixels: Uint8Array; labels: Float32Array } {
  if (pixels.length !== PIXELS) throw new Error(`expected ${PIXELS} pixels (96x96), found ${pixels.length}`);
  if (labelsPx.length !== spec.permutation.length) {
    throw new Error(
      `expected ${spec.permutation.length} label values for this flip, found ${labelsPx.length}`,
    );
  }
  return { pixels: mirrorImages(pixels, 1), labels: flipLabels(labelsPx, spec) };
}

/** `count` 96x96 images, each mirrored left to right. */
export function mirrorImages(pixels: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(count * PIXELS);
  for (let i = 0; i < count * IMAGE_SIZE; i++) {
    const row = i * IMAGE_SIZE;
    for (let c = 0; c < IMAGE_SIZE; c++) out[row + c] = pixels[row + MIRROR_X_OFFSET - c]!;
  }
  return out;
}

/** The labels (pixels) of one mirrored image: x mirrored, left/right partners swapped, NaN kept. */
export function flipLabels(labelsPx: Float32Array, spec: FlipSpec): Float32Array {
  const labels = new Float32Array(labelsPx.length);
  for (let i = 0; i < labels.length; i++) {
    const v = labelsPx[spec.permutation[i]!]!;
    labels[i] = spec.isX[i] ? MIRROR_X_OFFSET - v : v;
  }
  return labels;
}
