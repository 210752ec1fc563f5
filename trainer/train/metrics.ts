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

/** Mean squared error of predictions on the target scale against labels in pixels. */
export function meanSquaredError(predTarget: Float32Array, truthPx: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < predTarget.length; i++) {
    const d = predTarget[i]! - toTarget(truthPx[i]!);
    sum += d * d;
  }
  return sum / predTarget.length;
}
