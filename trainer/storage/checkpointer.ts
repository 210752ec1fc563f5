/** The files of one checkpoint, by name (e.g. `state.json`, `weights.bin`, `optimizer.bin`, `best.bin`). */
export type CheckpointFiles = Record<string, Uint8Array>;

/**
 * Durable checkpoints of one run. The training loop serialises its whole state into files; the
 * checkpointer commits them atomically (files first, manifest last) and reads back the newest one that
 * verifies.
 */
export interface Checkpointer {
  /** Commit a checkpoint of `unit` (e.g. `baseline`, `specialists/nose-tip`); uploads may continue in the background. */
  save(unit: string, files: CheckpointFiles): Promise<void>;
  /** The newest checkpoint of `unit` whose files all verify, or null when there is none. */
  loadLatest(unit: string): Promise<CheckpointFiles | null>;
  /** Resolves when every checkpoint saved so far is in the store. */
  flush(): Promise<void>;
}
