import { z } from 'zod';

/** `skip`: not checked (a flag turns it on, or an earlier check failed); never changes the exit code. */
export const CHECK_STATES = ['pass', 'warn', 'fail', 'skip'] as const;
export type CheckState = (typeof CHECK_STATES)[number];

export const CHECK_IDS = [
  'config',
  'credentials',
  'bootstrap',
  'docker',
  'quota',
  'zones',
  'base-images',
  'cost-tag',
  'bucket',
  'data',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];

export const PreflightCheckSchema = z.object({
  id: z.enum(CHECK_IDS),
  title: z.string(),
  state: z.enum(CHECK_STATES),
  /** What was found, in one or a few lines. */
  detail: z.string(),
  /** The command or setting that fixes a warn or fail; null when there is nothing to do. */
  fix: z.string().nullable(),
});
export type PreflightCheck = z.infer<typeof PreflightCheckSchema>;

export const RunEstimateSchema = z.object({
  instanceType: z.string(),
  market: z.enum(['on-demand', 'spot']),
  preset: z.string(),
  /** The instance powers off at this age whatever happens, so it bounds the run's hours. */
  maxHours: z.number(),
  /** Expected hours of the preset on this type; null while no speed has been measured on it. */
  expectedHours: z.number().nullable(),
  expectedHoursNote: z.string(),
  onDemandUsdPerHour: z.number().nullable(),
  /** The list price's region and date; other regions differ. */
  onDemandPriceSource: z.string(),
  /** The cheapest recent spot price among the zones offering the type; null when none was found. */
  spotUsdPerHour: z.number().nullable(),
  spotZone: z.string().nullable(),
  /** maxHours x the chosen market's hourly price: the most the instance can cost. */
  capUsd: z.number().nullable(),
  capOnDemandUsd: z.number().nullable(),
  capSpotUsd: z.number().nullable(),
  budgetUsd: z.number(),
  budgetScope: z.enum(['account', 'project']),
  /** What the budget does on this run, in words. */
  budgetNote: z.string(),
  engine: z.enum(['instance', 'batch']),
  /** Wall time and cost of the preset on each engine, in one line (the deploy prints the same). */
  engineComparison: z.string(),
});
export type RunEstimate = z.infer<typeof RunEstimateSchema>;

/** Exit code 0: a deploy can start; 1: something will fail; 2: only warnings, with --strict. */
export const PreflightReportSchema = z.object({
  region: z.string().nullable(),
  account: z.string().nullable(),
  identityArn: z.string().nullable(),
  checks: z.array(PreflightCheckSchema),
  estimate: RunEstimateSchema.nullable(),
  verdict: z.enum(['ready', 'warnings', 'blocked']),
  exitCode: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  checkedAt: z.string(),
});
export type PreflightReport = z.infer<typeof PreflightReportSchema>;

export function verdictOf(
  checks: PreflightCheck[],
  strict: boolean,
): Pick<PreflightReport, 'verdict' | 'exitCode'> {
  if (checks.some((c) => c.state === 'fail')) return { verdict: 'blocked', exitCode: 1 };
  if (checks.some((c) => c.state === 'warn')) return { verdict: 'warnings', exitCode: strict ? 2 : 0 };
  return { verdict: 'ready', exitCode: 0 };
}
