import type { DeployConfig } from './deploy-config';
import { ON_DEMAND_USD_PER_HOUR } from './instance-prices';
import { SPECIALISTS } from './keypoints';
import { SEED_TIME_AND_COST } from './seed-reference';

/**
 * Wall time and cost of one run on each engine, from the hours each unit takes: `instance` trains every
 * unit in turn on one instance; `batch` runs the baseline, then the specialists at most `maxParallel` at
 * a time (each on its own instance), then the report. Read by the CDK app (the deploy's output) and by the
 * dry runs, so this module imports nothing but other contracts.
 */

/** Hours of GPU training per unit, as measured (or planned from a measured speed). */
export interface UnitHours {
  baseline: number;
  /** One entry per specialist, in the order the run starts them. */
  specialists: readonly number[];
  report: number;
}

export interface EngineFigures {
  wallHours: number;
  /** Instance hours billed, every start included. */
  instanceHours: number;
  usd: number;
}

export interface EngineComparison {
  instance: EngineFigures;
  batch: EngineFigures & { parallel: number };
  usdPerHour: number;
}

/**
 * Time from asking for an instance to the trainer's first step: boot, the ECS or boot-script start, and
 * the ~6 GB image pull. An estimate, not a measurement: only a real account can measure it. The instance
 * engine pays it once; Batch pays it for every job, since each job may land on a fresh instance.
 */
export const START_HOURS = 0.15;

/**
 * The seed's measured hours (docs/seed.md: baseline 1.6 h, the six specialists 81 h on a g2.2xlarge).
 * Each specialist trains int(1e7 / rows) epochs of its rows, about 1e7 images whatever its size, so the
 * 81 h split evenly. The report's time was not reported; it is minutes next to these.
 */
export function seedUnitHours(): UnitHours {
  const phase = (name: string) => SEED_TIME_AND_COST.phases.find((p) => p.name === name)?.hours ?? 0;
  const each = phase('specialists') / SPECIALISTS.length;
  return { baseline: phase('baseline'), specialists: SPECIALISTS.map(() => each), report: 0 };
}

/** When the last of `jobs` ends if each starts, in order, as soon as one of `slots` is free (a Map state). */
export function makespan(jobs: readonly number[], slots: number): number {
  if (!Number.isInteger(slots) || slots < 1)
    throw new Error(`makespan: expected a whole number of parallel slots of at least 1, found ${slots}`);
  const freeAt = new Array<number>(Math.min(slots, Math.max(jobs.length, 1))).fill(0);
  for (const hours of jobs) {
    const slot = freeAt.indexOf(Math.min(...freeAt));
    freeAt[slot] = (freeAt[slot] ?? 0) + hours;
  }
  return Math.max(0, ...freeAt);
}

export function compareEngines(opts: {
  hours: UnitHours;
  maxParallel: number;
  usdPerHour: number;
  startHours?: number;
}): EngineComparison {
  const { hours, maxParallel, usdPerHour } = opts;
  const start = opts.startHours ?? START_HOURS;
  const specialistsSum = hours.specialists.reduce((a, b) => a + b, 0);
  const instanceWall = start + hours.baseline + specialistsSum + hours.report;
  const jobs = hours.specialists.map((h) => start + h);
  const batchWall = start + hours.baseline + makespan(jobs, maxParallel) + start + hours.report;
  const batchHours = instanceWall - start + (2 + hours.specialists.length) * start;
  return {
    usdPerHour,
    instance: { wallHours: instanceWall, instanceHours: instanceWall, usd: instanceWall * usdPerHour },
    batch: {
      parallel: maxParallel,
      wallHours: batchWall,
      instanceHours: batchHours,
      usd: batchHours * usdPerHour,
    },
  };
}

const h = (n: number) => `${n.toFixed(1)} h`;
const usd = (n: number) => `$${n.toFixed(2)}`;

/** One line, as the deploy prints it. */
export function formatEngineComparison(c: EngineComparison): string {
  return (
    `instance ${h(c.instance.wallHours)} ${usd(c.instance.usd)}; ` +
    `batch x${c.batch.parallel} ${h(c.batch.wallHours)} ${usd(c.batch.usd)} ` +
    `(at $${c.usdPerHour.toFixed(3)}/h, ${START_HOURS * 60} min start per instance)`
  );
}

/**
 * The comparison for a deploy's settings, in one line (the deploy's output and `facepoints preflight`).
 * Measured hours exist only for the seed preset (the seed's own run); `price` defaults to the on-demand
 * list price of instanceType.
 */
export function describeEngineComparison(
  config: Pick<DeployConfig, 'preset' | 'instanceType' | 'maxParallel'>,
  price?: { usdPerHour: number; label: string },
): string {
  const usdPerHour = price?.usdPerHour ?? ON_DEMAND_USD_PER_HOUR[config.instanceType];
  if (config.preset !== 'seed' || usdPerHour === undefined)
    return `no measured hours for preset ${config.preset}: facepoints train --preset ${config.preset} --dry-run measures its speed`;
  const comparison = compareEngines({ hours: seedUnitHours(), maxParallel: config.maxParallel, usdPerHour });
  const label = price?.label ?? `${config.instanceType} on-demand list price`;
  return `${formatEngineComparison(comparison)}; hours as the seed measured them on a g2.2xlarge, ${label}`;
}
