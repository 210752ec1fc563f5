/**
 * The Kaggle "Facial Keypoints Detection" label set: the one definition of keypoint columns, flip pairs
 * and the six specialists, imported by the loader, the generator, the models, the report and the tests.
 */

export const IMAGE_SIZE = 96;
export const PIXELS = IMAGE_SIZE * IMAGE_SIZE;

/** The 15 keypoints in the column order of training.csv ("left" is the subject's left: the image's right). */
export const KEYPOINTS = [
  'left_eye_center',
  'right_eye_center',
  'left_eye_inner_corner',
  'left_eye_outer_corner',
  'right_eye_inner_corner',
  'right_eye_outer_corner',
  'left_eyebrow_inner_end',
  'left_eyebrow_outer_end',
  'right_eyebrow_inner_end',
  'right_eyebrow_outer_end',
  'nose_tip',
  'mouth_left_corner',
  'mouth_right_corner',
  'mouth_center_top_lip',
  'mouth_center_bottom_lip',
] as const;
export type Keypoint = (typeof KEYPOINTS)[number];

/** The 30 label columns of training.csv, x then y for each keypoint; `Image` follows them. */
export const KEYPOINT_COLUMNS: readonly string[] = KEYPOINTS.flatMap((k) => [`${k}_x`, `${k}_y`]);
export const COORDINATES = KEYPOINT_COLUMNS.length;

export const TRAINING_HEADER: readonly string[] = [...KEYPOINT_COLUMNS, 'Image'];
export const TEST_HEADER: readonly string[] = ['ImageId', 'Image'];
export const LOOKUP_HEADER: readonly string[] = ['RowId', 'ImageId', 'FeatureName', 'Location'];
export const SUBMISSION_HEADER: readonly string[] = ['RowId', 'Location'];

/** Column indices swapped by a horizontal flip of all 30 columns (left/right partners). */
export const FLIP_PAIRS: ReadonlyArray<readonly [number, number]> = [
  [0, 2],
  [1, 3],
  [4, 8],
  [5, 9],
  [6, 10],
  [7, 11],
  [12, 16],
  [13, 17],
  [14, 18],
  [15, 19],
  [22, 24],
  [23, 25],
];

/** The four keypoints present in about two thirds of training.csv (the rest carry all 15). */
export const ALWAYS_LABELLED: readonly Keypoint[] = [
  'left_eye_center',
  'right_eye_center',
  'nose_tip',
  'mouth_center_bottom_lip',
];

export interface SpecialistSetting {
  /** Short name used in file names and reports. */
  readonly name: string;
  /** Label columns this specialist predicts, in its own output order. */
  readonly columns: readonly string[];
  /** Pairs of indices into `columns` swapped by a horizontal flip. */
  readonly flipPairs: ReadonlyArray<readonly [number, number]>;
}

function cols(...keypoints: Keypoint[]): string[] {
  return keypoints.flatMap((k) => [`${k}_x`, `${k}_y`]);
}

/** The tutorial's SPECIALIST_SETTINGS, which the seed's Model 4 follows (docs/seed.md, "The models"). */
export const SPECIALISTS: readonly SpecialistSetting[] = [
  {
    name: 'eye-centers',
    columns: cols('left_eye_center', 'right_eye_center'),
    flipPairs: [
      [0, 2],
      [1, 3],
    ],
  },
  { name: 'nose-tip', columns: cols('nose_tip'), flipPairs: [] },
  {
    name: 'mouth-corners-top-lip',
    columns: cols('mouth_left_corner', 'mouth_right_corner', 'mouth_center_top_lip'),
    flipPairs: [
      [0, 2],
      [1, 3],
    ],
  },
  { name: 'mouth-bottom-lip', columns: cols('mouth_center_bottom_lip'), flipPairs: [] },
  {
    name: 'eye-corners',
    columns: cols(
      'left_eye_inner_corner',
      'right_eye_inner_corner',
      'left_eye_outer_corner',
      'right_eye_outer_corner',
    ),
    flipPairs: [
      [0, 2],
      [1, 3],
      [4, 6],
      [5, 7],
    ],
  },
  {
    name: 'eyebrows',
    columns: cols(
      'left_eyebrow_inner_end',
      'right_eyebrow_inner_end',
      'left_eyebrow_outer_end',
      'right_eyebrow_outer_end',
    ),
    flipPairs: [
      [0, 2],
      [1, 3],
      [4, 6],
      [5, 7],
    ],
  },
];

/** Index of each label column in the 30-column order. */
export function columnIndex(column: string): number {
  const i = KEYPOINT_COLUMNS.indexOf(column);
  if (i < 0)
    throw new Error(`unknown keypoint column "${column}"; expected one of ${KEYPOINT_COLUMNS.join(', ')}`);
  return i;
}

/**
 * Coordinate convention: pixel centres sit on integers, so pixel column c covers [c - 0.5, c + 0.5] and a
 * horizontal mirror maps image column c to 95 - c and a coordinate x to 95 - x (the generator draws with
 * this convention, and a test checks the flip against a mirrored rendering).
 */
export const MIRROR_X_OFFSET = IMAGE_SIZE - 1;

/** Targets are scaled to [-1, 1] as in the seed (y - 48) / 48; RMSE on that scale times 48 is pixels. */
export const TARGET_CENTER = IMAGE_SIZE / 2;
export const TARGET_SCALE = IMAGE_SIZE / 2;
export const toTarget = (px: number): number => (px - TARGET_CENTER) / TARGET_SCALE;
export const toPixels = (t: number): number =>
  Math.min(IMAGE_SIZE, Math.max(0, t * TARGET_SCALE + TARGET_CENTER));
