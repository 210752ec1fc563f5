import type { RunStatus } from '../../contracts/run-status';
import type { RunSummary } from '../../contracts/run-summary';

/**
 * The JSON the dashboard server answers with and the page reads (`/api/run`, `/api/runs`): one definition
 * for both sides. Types only, so that the browser build can import it without Node.
 */

/** One unit's learning curve: RMSE in pixels per epoch, as `metrics/<unit>.csv` holds it so far. */
export interface UnitCurve {
  unit: string;
  epochs: number[];
  trainRmsePx: number[];
  devRmsePx: number[];
}

export interface CostSoFar {
  usd: number | null;
  hours: number | null;
  usdPerHour: number | null;
  priceSource: string;
}

/** One AWS Batch job of an engine=batch run, as `facepoints status` lists it. */
export interface BatchJobRow {
  /** `baseline`, `specialists/<name>`, or `report`. */
  unit: string;
  /** SUBMITTED, PENDING, RUNNABLE, STARTING, RUNNING, SUCCEEDED or FAILED. */
  status: string;
  attempts: number;
  statusReason: string | null;
}

/** An engine=batch run's Step Functions execution and its jobs; what could not be read is said in the notes. */
export interface BatchJobs {
  execution: { status: string; error: string | null } | null;
  executionNote: string | null;
  jobs: BatchJobRow[];
  jobsNote: string | null;
}

export interface RunSnapshot {
  reconnecting: false;
  runId: string;
  runUrl: string;
  checkedAt: string;
  /** null until the run writes its first status. */
  status: RunStatus | null;
  heartbeatAgeSeconds: number | null;
  /** Set when the run says it is running but has stopped beating (or its instance is gone). */
  staleWarning: string | null;
  /** Instance (or Batch job) cost so far; null for runs outside the deployment (a laptop run, a foreign store). */
  cost: CostSoFar | null;
  /** The run's Batch execution and jobs when it runs on engine=batch; null otherwise. */
  batch: BatchJobs | null;
  units: UnitCurve[];
  /** The mean predictor's dev RMSE (Model 0): the line every curve should end below; in the status once the run's data is loaded, else from the report. */
  meanDevRmsePx: number | null;
  /** `report/summary.json` once the run has written its report. */
  summary: RunSummary | null;
  /** Report pictures present in the store, by run-layout key. */
  images: { bestWorst: boolean; learningCurves: boolean };
}

/** What the page gets when the store could not be read: it keeps what it shows and says it is reconnecting. */
export interface Unreachable {
  reconnecting: true;
  error: string;
  checkedAt: string;
  /** True when the store answered but holds no run yet: the page waits rather than reconnects. */
  waiting?: boolean;
}

export interface RunRow {
  runId: string;
  state: string;
  phase: string | null;
  preset: string | null;
  startedAt: string | null;
  /** Wall time: the summary's total once done, else since the start. */
  seconds: number | null;
  costUsd: number | null;
  /** Best dev RMSE per model from the summary; while running, the live best of the current model. */
  bestDevRmsePx: Record<string, number>;
  bestModel: string | null;
  /** Why the run's files could not be read (the other runs are still shown). */
  error: string | null;
}

export interface RunsSnapshot {
  reconnecting: false;
  storeUrl: string;
  checkedAt: string;
  runs: RunRow[];
}
