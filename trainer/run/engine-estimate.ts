import { DEFAULT_MAX_PARALLEL } from '../../contracts/deploy-config';
import {
  compareEngines,
  type EngineComparison,
  START_HOURS,
  type UnitHours,
} from '../../contracts/engine-comparison';
import { DEFAULT_INSTANCE_TYPE, ON_DEMAND_USD_PER_HOUR } from '../../contracts/instance-prices';
import { SPECIALISTS } from '../../contracts/keypoints';
import { unitId } from '../../contracts/run-layout';
import { isTrained, type RunPlan } from './plan';

/** Specialists side by side on Batch: the deploy's default, and all six at once. */
export const DRY_RUN_PARALLEL: readonly number[] = [DEFAULT_MAX_PARALLEL, SPECIALISTS.length];

/**
 * The hours the plan's baseline and specialists still need at the measured speed, or null when the plan
 * has no specialists to run side by side (or no estimate). Finished units cost nothing more.
 */
export function planUnitHours(plan: RunPlan): UnitHours | null {
  const hoursOf = (seconds: number | null, done: boolean) => (done ? 0 : (seconds ?? Number.NaN) / 3600);
  const trained = plan.units.filter(isTrained);
  const baseline = trained.find((u) => u.unit === unitId('baseline'));
  const specialists = trained.filter((u) => u.unit.startsWith(`${unitId('specialists')}/`));
  if (specialists.length === 0) return null;
  const hours = {
    baseline: baseline ? hoursOf(baseline.estimatedSeconds, baseline.done) : 0,
    specialists: specialists.map((u) => hoursOf(u.estimatedSeconds, u.done)),
    report: 0,
  };
  return [hours.baseline, ...hours.specialists].some(Number.isNaN) ? null : hours;
}

/**
 * `--dry-run`'s comparison of the two deploy engines for this plan: its measured speed (on this machine,
 * or on the instance when the run is on EC2), priced at the instance type's on-demand list price.
 */
export function describePlanEngines(plan: RunPlan, instanceType: string | null): string[] {
  const hours = planUnitHours(plan);
  if (hours === null) return [];
  const type = instanceType ?? DEFAULT_INSTANCE_TYPE;
  const usdPerHour = ON_DEMAND_USD_PER_HOUR[type];
  if (usdPerHour === undefined) return [];
  const where =
    instanceType === null
      ? `at this machine's measured speed (a GPU instance is faster), priced as ${type} on-demand`
      : `at this ${type}'s measured speed and on-demand price`;
  const comparisons = DRY_RUN_PARALLEL.map(
    (maxParallel): EngineComparison => compareEngines({ hours, maxParallel, usdPerHour }),
  );
  const line = (name: string, f: { wallHours: number; usd: number }) =>
    `  ${name.padEnd(10)} ${f.wallHours.toFixed(1).padStart(6)} h  $${f.usd.toFixed(2)}`;
  return [
    `engines ${where} ($${usdPerHour.toFixed(3)}/h, ${START_HOURS * 60} min start per instance, an estimate):`,
    line('instance', comparisons[0]!.instance),
    ...comparisons.map((c) => line(`batch x${c.batch.parallel}`, c.batch)),
  ];
}
