import { z } from 'zod';

/** The run's live status (`status.json`), written by the trainer and read by `facepoints status` and `runs`. */
export const RunStateSchema = z.enum(['running', 'succeeded', 'failed', 'interrupted']);
export type RunState = z.infer<typeof RunStateSchema>;

export const RunStatusSchema = z.object({
  runId: z.string(),
  state: RunStateSchema,
  /** e.g. `loading`, `baseline`, `specialists`, `report`, `done`. */
  phase: z.string(),
  /** Unit in training, e.g. `specialists/nose-tip`; null between units. */
  model: z.string().nullable(),
  epoch: z.number().int().nonnegative().nullable(),
  maxEpochs: z.number().int().nonnegative().nullable(),
  bestDevRmsePx: z.number().nullable(),
  /**
   * The mean predictor's (Model 0's) dev RMSE, known once the data is loaded; the line every curve should
   * end below. Absent in status files written before it existed.
   */
  meanDevRmsePx: z.number().nullable().optional(),
  imagesPerSecond: z.number().nullable(),
  etaPhaseSeconds: z.number().nullable(),
  etaRunSeconds: z.number().nullable(),
  backend: z.string().nullable(),
  gpuName: z.string().nullable(),
  instanceType: z.string().nullable(),
  startedAt: z.string(),
  /** Heartbeat: when this object was last written. */
  updatedAt: z.string(),
  lastCheckpointAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  error: z.string().nullable(),
  /** Why the run stopped early when state is `interrupted` (SIGTERM, spot notice). */
  interruption: z.string().nullable(),
});
export type RunStatus = z.infer<typeof RunStatusSchema>;

/** The trainer rewrites status.json at least this often, running or not: its heartbeat. */
export const HEARTBEAT_SECONDS = 60;
/** A run that says `running` with a status older than this (five missed beats) is likely dead. */
export const STALE_HEARTBEAT_SECONDS = 5 * HEARTBEAT_SECONDS;

/** Exit code meaning "interrupted, resume later": the boot script restarts instead of counting a failure. */
export const EXIT_INTERRUPTED = 75;
/** Exit code for invalid configuration or data: retrying cannot help. */
export const EXIT_USAGE = 64;

/**
 * `leases/<unit>.json`: the process training a unit. It is renewed every heartbeat and expires after
 * LEASE_HEARTBEATS missed beats, so a unit of a killed job can be taken over; a live lease held by someone
 * else makes `train` leave the unit alone.
 */
export const UnitLeaseSchema = z.object({
  unit: z.string(),
  /** `host/pid/random`: unique per process. */
  holder: z.string(),
  acquiredAt: z.string(),
  renewedAt: z.string(),
  expiresAt: z.string(),
});
export type UnitLease = z.infer<typeof UnitLeaseSchema>;

/** A lease lives this many heartbeats without renewal. */
export const LEASE_HEARTBEATS = 3;
