import { z } from 'zod';
import { MODEL_NAMES } from './run-layout';

/**
 * `report/summary.json`: the machine-readable report of a run, read by the operator commands and the
 * tests. RMSE figures are in pixels on the dev split; `mean` (Model 0) is always present as the reference.
 */
export const ModelSummarySchema = z.object({
  name: z.enum(MODEL_NAMES),
  /** RMSE over every present label of the dev rows. */
  devRmsePx: z.number(),
  /** Labels counted in devRmsePx. */
  devLabels: z.number().int().nonnegative(),
  /** RMSE per label column (columns that no dev row carries are left out). */
  perKeypointRmsePx: z.record(z.string(), z.number()),
  /** The 4 label columns with the lowest RMSE, best first. */
  bestLabels: z.array(z.string()),
  /** The 4 label columns with the highest RMSE, worst first. */
  worstLabels: z.array(z.string()),
  /** Training time of the model's units in this run (0 for `mean`, and for units finished by an earlier attempt). */
  trainSeconds: z.number().nonnegative(),
});
export type ModelSummary = z.infer<typeof ModelSummarySchema>;

export const UnitSummarySchema = z.object({
  unit: z.string(),
  trainRows: z.number().int().nonnegative(),
  devRows: z.number().int().nonnegative(),
  params: z.number().int().nonnegative(),
  maxEpochs: z.number().int().nonnegative(),
  epochsRun: z.number().int().nonnegative(),
  bestEpoch: z.number().int().nonnegative(),
  bestDevRmsePx: z.number(),
  stoppedEarly: z.boolean(),
  trainSeconds: z.number().nonnegative(),
});
export type UnitSummary = z.infer<typeof UnitSummarySchema>;

export const PhaseTimeSchema = z.object({ name: z.string(), seconds: z.number().nonnegative() });
export type PhaseTime = z.infer<typeof PhaseTimeSchema>;

export const RunSummarySchema = z.object({
  runId: z.string(),
  preset: z.string(),
  /** Views each unit's dev and test predictions were averaged over (absent in reports written before it). */
  testTimeAugmentation: z.string().optional(),
  backend: z.string(),
  gpuName: z.string().nullable(),
  instanceType: z.string().nullable(),
  startedAt: z.string(),
  finishedAt: z.string(),
  data: z.object({
    trainRows: z.number().int().nonnegative(),
    devRows: z.number().int().nonnegative(),
    testImages: z.number().int().nonnegative(),
    submissionRows: z.number().int().nonnegative(),
  }),
  models: z.array(ModelSummarySchema),
  /** The trained model with the lowest dev RMSE (mean only when nothing was trained): it makes the submission and the pictures. */
  bestModel: z.enum(MODEL_NAMES),
  units: z.array(UnitSummarySchema),
  /** Wall time per phase of this process (loading, each model group, report). */
  phases: z.array(PhaseTimeSchema),
  totalSeconds: z.number().nonnegative(),
  /** Instance price used for the cost column; null on a local run. */
  hourlyPriceUsd: z.number().nullable(),
  costUsd: z.number().nullable(),
});
export type RunSummary = z.infer<typeof RunSummarySchema>;
