import type { RunState, RunStatus } from '../contracts/run-status';

/** A split run's state: a run state, or `report pending` once every unit that started has succeeded. */
export type SplitRunState = RunState | 'report pending';

export interface SplitRunSummary {
  state: SplitRunState;
  /** `2 of 6 units training` while any unit runs, else `5 of 6 units done`. */
  phase: string;
  /** The earliest unit start and the latest heartbeat. */
  startedAt: string;
  updatedAt: string;
  /** The lowest best dev RMSE among the units, and its unit. */
  bestDevRmsePx: number | null;
  bestModel: string | null;
  /** Why the run stopped when it is failed or interrupted: the units' errors or interruptions. */
  note: string | null;
  /** The unit status with the latest heartbeat: its unit, epoch and speed are the run's latest progress. */
  latest: RunStatus;
}

/**
 * A run split into `train --units` jobs (engine=batch) has no status.json until its report job writes one:
 * its unit statuses (`status/<unit>.json`) stand for it, in `facepoints runs` and on the dashboard alike.
 * Running while any unit runs; else failed when one failed, else interrupted when one was; else every unit
 * that started has succeeded and the report is still to come. Null without any unit status.
 */
export function summarizeSplitRun(units: readonly RunStatus[]): SplitRunSummary | null {
  const latest = units.reduce<RunStatus | null>(
    (l, u) => (l === null || u.updatedAt > l.updatedAt ? u : l),
    null,
  );
  if (latest === null) return null;
  const inState = (state: RunState) => units.filter((u) => u.state === state);
  const state: SplitRunState = inState('running').length
    ? 'running'
    : inState('failed').length
      ? 'failed'
      : inState('interrupted').length
        ? 'interrupted'
        : 'report pending';
  const phase =
    state === 'running'
      ? `${inState('running').length} of ${units.length} units training`
      : `${inState('succeeded').length} of ${units.length} units done`;
  const best = units.reduce<RunStatus | null>(
    (b, u) =>
      u.bestDevRmsePx !== null && (b === null || u.bestDevRmsePx < (b.bestDevRmsePx ?? Infinity)) ? u : b,
    null,
  );
  const stopped = state === 'failed' || state === 'interrupted' ? inState(state) : [];
  const note = stopped.map((u) => `${u.model ?? u.runId}: ${u.error ?? u.interruption ?? state}`).join('; ');
  return {
    state,
    phase,
    startedAt: units.map((u) => u.startedAt).sort()[0] ?? latest.startedAt,
    updatedAt: latest.updatedAt,
    bestDevRmsePx: best?.bestDevRmsePx ?? null,
    bestModel: best?.model ?? null,
    note: note || null,
    latest,
  };
}

/**
 * The summary as one run status, for views that show a run's status.json: the latest unit's progress, the
 * run's state (`running` while its report is pending, since the report job is still to run), phase, start
 * and stop reasons.
 */
export function splitRunAsStatus(summary: SplitRunSummary): RunStatus {
  const { latest, state, note } = summary;
  return {
    ...latest,
    state: state === 'report pending' ? 'running' : state,
    phase: state === 'report pending' ? `${summary.phase}, report pending` : summary.phase,
    startedAt: summary.startedAt,
    finishedAt: state === 'failed' || state === 'interrupted' ? latest.finishedAt : null,
    error: state === 'failed' ? note : null,
    interruption: state === 'interrupted' ? note : null,
  };
}
