/**
 * In-memory forms of the Kaggle files. Pixels stay as bytes (one 96x96 image is 9216 bytes, the whole
 * training set 65 MB) and labels are pixel coordinates with NaN for a missing keypoint, in the column
 * order of KEYPOINT_COLUMNS.
 */

/** training.csv: `count` faces with their 30 label columns. */
export interface FaceSet {
  count: number;
  /** count * 9216 bytes, row-major images one after the other. */
  pixels: Uint8Array;
  /** count * 30 coordinates in pixels (origin top-left, pixel centres on integers); NaN = missing. */
  labels: Float32Array;
  /** Where the rows came from, for messages. */
  file: string;
}

/** test.csv: images to predict, identified by their ImageId. */
export interface TestSet {
  count: number;
  imageIds: Int32Array;
  /** count * 9216 bytes. */
  pixels: Uint8Array;
  file: string;
}

/** One row of IdLookupTable.csv: which coordinate of which test image a submission row holds. */
export interface LookupRow {
  rowId: number;
  imageId: number;
  /** One of KEYPOINT_COLUMNS. */
  feature: string;
}

/** Invalid input data, located by file, line and column (both 1-based; column counts bytes). */
export class DataError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    /** "expected ..., found ..." */
    readonly detail: string,
  ) {
    super(`${file}:${line}:${column}: ${detail}`);
    this.name = 'DataError';
  }
}
