import { runLayout, unitId } from '../../contracts/run-layout';
import { isTrained, type RunPlan, type TrainedUnit } from './plan';
import { UsageError } from './usage-error';

/**
 * What one invocation does with a run: train every unit and write the report (`all`), train only the
 * named units (`units`, e.g. one AWS Batch job per specialist), or only write the report from units
 * finished earlier (`report`). The scope is not part of the run's configuration: invocations of one run
 * may differ in it.
 */
export type RunScope = { kind: 'all' } | { kind: 'units'; units: readonly string[] } | { kind: 'report' };

export const ALL_UNITS: RunScope = { kind: 'all' };

/** `--units baseline,specialists/nose-tip` as a list of unit ids, without repeats. */
export function parseUnitList(text: string): string[] {
  const units = [
    ...new Set(
      text
        .split(',')
        .map((u) => u.trim())
        .filter((u) => u !== ''),
    ),
  ];
  if (units.length === 0)
    throw new UsageError(
      `--units: expected a comma-separated list of units (e.g. baseline,specialists/eye-centers), found "${text}"`,
    );
  return units;
}

/**
 * The trained units this scope trains, in plan order (the baseline before the specialists). For `units`,
 * every name must be a trained unit of the plan, and a specialist that starts from the baseline needs
 * the baseline finished (its done marker in the run) or named in the same list. For `report`, every
 * unit must be finished. Each problem is named; all are reported at once.
 */
export function unitsInScope(plan: RunPlan, scope: RunScope, runUrl: string): TrainedUnit[] {
  const trained = plan.units.filter(isTrained);
  if (scope.kind === 'all') return trained;
  if (scope.kind === 'report') {
    const unfinished = trained.filter((u) => !u.done).map((u) => u.unit);
    if (unfinished.length > 0) {
      throw new UsageError(
        `report: expected every unit of the run finished, found ${unfinished.length} without a done marker in ${runUrl}: ` +
          `${unfinished.join(', ')}; train them first (facepoints train ... --units ${unfinished.join(',')})`,
      );
    }
    return [];
  }

  const known = new Set(trained.map((u) => u.unit));
  const wanted = new Set(scope.units);
  const problems: string[] = [];
  for (const name of scope.units) {
    if (!known.has(name))
      problems.push(`unknown unit "${name}"; this run trains ${[...known].join(', ') || 'no units'}`);
  }
  const baseline = unitId('baseline');
  // Planning already refused specialists whose baseline is neither in the run nor finished.
  const baselineDone = trained.find((u) => u.unit === baseline)?.done ?? true;
  const selected = trained.filter((u) => wanted.has(u.unit));
  for (const u of selected) {
    if (u.initFromBaseline && !baselineDone && !wanted.has(baseline)) {
      problems.push(
        `${u.unit} starts from the finished baseline, but ${runLayout.unitDone(baseline)} is not in ${runUrl}; ` +
          `train --units ${baseline} first (or name both: --units ${baseline},${u.unit})`,
      );
    }
  }
  if (problems.length > 0)
    throw new UsageError(`--units ${scope.units.join(',')}:\n  ${problems.join('\n  ')}`);
  return selected;
}
