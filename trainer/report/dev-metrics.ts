import { COORDINATES, KEYPOINT_COLUMNS } from '../../contracts/keypoints';
import { rmsePx } from '../train/evaluate';

/**
 * Dev-set error figures as the seed reports them: RMSE in pixels over every label that is present (NaN
 * marks a missing keypoint, which is neither predicted for Kaggle nor counted), overall, per label column
 * and per image.
 */
export interface DevErrors {
  /** RMSE over every present label of every dev row. */
  rmsePx: number;
  /** Labels that entered the overall figure. */
  labelCount: number;
  /** RMSE per label column (`nose_tip_y`, ...); NaN when no dev row carries that column. */
  perColumnRmsePx: Record<string, number>;
}

/** `truePx` and `predPx` hold `count` rows of 30 pixel coordinates in KEYPOINT_COLUMNS order. */
export function devErrors(truePx: Float32Array, predPx: Float32Array, count: number): DevErrors {
  checkShapes(truePx, predPx, count);
  const { overall, perColumn } = rmsePx(predPx, truePx, count, COORDINATES);
  let labelCount = 0;
  for (const v of truePx) if (!Number.isNaN(v)) labelCount++;
  const perColumnRmsePx = Object.fromEntries(
    KEYPOINT_COLUMNS.map((name, c) => [name, perColumn[c] ?? Number.NaN]),
  );
  return { rmsePx: overall, labelCount, perColumnRmsePx };
}

/** RMSE of each image over its present labels (NaN for an image without labels). */
export function perImageRmsePx(truePx: Float32Array, predPx: Float32Array, count: number): Float64Array {
  checkShapes(truePx, predPx, count);
  const out = new Float64Array(count);
  for (let r = 0; r < count; r++) {
    let s = 0;
    let n = 0;
    for (let c = 0; c < COORDINATES; c++) {
      const t = truePx[r * COORDINATES + c]!;
      if (Number.isNaN(t)) continue;
      const d = predPx[r * COORDINATES + c]! - t;
      s += d * d;
      n += 1;
    }
    out[r] = n > 0 ? Math.sqrt(s / n) : Number.NaN;
  }
  return out;
}

/** The `n` label columns with the lowest and the highest RMSE (columns without dev labels are left out). */
export function bestAndWorstLabels(
  perColumnRmsePx: Record<string, number>,
  n = 4,
): { best: string[]; worst: string[] } {
  const ranked = Object.entries(perColumnRmsePx)
    .filter(([, v]) => Number.isFinite(v))
    .sort((a, b) => a[1] - b[1])
    .map(([k]) => k);
  return { best: ranked.slice(0, n), worst: ranked.slice(-n).reverse() };
}

/** Row indices of the `n` best and `n` worst images by per-image RMSE (images without labels skipped). */
export function bestAndWorstImages(perImage: Float64Array, n = 4): { best: number[]; worst: number[] } {
  const order = [...perImage.keys()]
    .filter((i) => Number.isFinite(perImage[i]))
    .sort((a, b) => perImage[a]! - perImage[b]!);
  const best = order.slice(0, n);
  const worst = order.slice(Math.max(best.length, order.length - n)).reverse();
  return { best, worst };
}

function checkShapes(truePx: Float32Array, predPx: Float32Array, count: number): void {
  const expected = count * COORDINATES;
  if (truePx.length !== expected || predPx.length !== expected) {
    throw new Error(
      `dev errors: expected ${count} rows x ${COORDINATES} coordinates (${expected} values), ` +
        `found ${truePx.length} true and ${predPx.length} predicted values`,
    );
  }
}
