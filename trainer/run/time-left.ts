import type { PlannedUnit, TrainedUnit } from './plan';

export interface TimeLeft {
  /** This unit. */
  unit: number;
  /** This unit and the later ones of its model (the phase). */
  phase: number;
  /** This unit and every later unit of the run. */
  run: number;
}

/**
 * Time left in seconds: this unit from its own epoch times, later units from the plan scaled by how far
 * off the plan was for this one.
 */
export function timeLeft(
  units: readonly PlannedUnit[],
  u: TrainedUnit,
  epoch: number,
  epochSeconds: readonly number[],
): TimeLeft {
  const perEpoch = epochSeconds.reduce((a, b) => a + b, 0) / Math.max(1, epochSeconds.length);
  const unitLeft = Math.max(0, u.maxEpochs - epoch) * perEpoch;
  const plannedPerEpoch =
    u.estimatedSeconds !== null && u.maxEpochs > 0 ? u.estimatedSeconds / u.maxEpochs : null;
  const scale = plannedPerEpoch && plannedPerEpoch > 0 ? perEpoch / plannedPerEpoch : 1;
  const later = units.slice(units.indexOf(u) + 1).filter((x) => x.kind === 'trained' && !x.done);
  const left = (xs: PlannedUnit[]) => xs.reduce((s, x) => s + (x.estimatedSeconds ?? 0) * scale, 0);
  return {
    unit: unitLeft,
    phase: unitLeft + left(later.filter((x) => x.model === u.model)),
    run: unitLeft + left(later),
  };
}
