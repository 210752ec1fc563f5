import { z } from 'zod';
import { TARGET_SCALE, toTarget } from '../../contracts/keypoints';

/** One epoch of a unit, as `metrics/<unit>.csv` and the checkpoint's history record it. */
export const EpochMetricsSchema = z.object({
  /** 1-based. */
  epoch: z.number().int().positive(),
  /** Mean training MSE on the target scale over the epoch's batches (dropout and flips on). */
  trainLoss: z.number(),
  /** Dev MSE on the target scale (no dropout, no flips). */
  devLoss: z.number(),
  /** sqrt(devLoss) * 48: the dev RMSE in pixels. */
  devRmsePx: z.number(),
  /** Dev targets (present labels) the dev loss covers; absent in histories written before it was recorded. */
  devTargets: z.number().int().nonnegative().optional(),
  learningRate: z.number(),
  momentum: z.number(),
  /** Wall time of the epoch, dev evaluation included. */
  seconds: z.number(),
  /** Training images per second (dev evaluation excluded). */
  imagesPerSecond: z.number(),
});
export type EpochMetrics = z.infer<typeof EpochMetricsSchema>;

/** MSE on the target scale -> RMSE in pixels. */
export const lossToRmsePx = (mse: number): number => Math.sqrt(mse) * TARGET_SCALE;

/**
 * Mean squared error of predictions on the target scale against labels in pixels, over the present labels
 * (NaN marks a missing one), and how many there were; NaN when none is present.
 */
export function meanSquaredError(
  predTarget: Float32Array,
  truthPx: Float32Array,
): { mse: number; targets: number } {
  if (predTarget.length !== truthPx.length) {
    throw new Error(
      `meanSquaredError: expected as many predictions as labels, found ${predTarget.length} and ${truthPx.length}`,
    );
  }
  let sum = 0;
  let targets = 0;
  for (let i = 0; i < predTarget.length; i++) {
    const t = truthPx[i]!;
    if (Number.isNaN(t)) continue;
    const d = predTarget[i]! - toTarget(t);
    sum += d * d;
    targets++;
  }
  return { mse: targets > 0 ? sum / targets : Number.NaN, targets };
}
