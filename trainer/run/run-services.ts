import type { Checkpointer } from '../storage/checkpointer';
import { resolveDataDir } from '../storage/data-cache';
import { createCheckpointer } from '../storage/durable-checkpointer';
import { watchInterruptions } from '../storage/interruptions';
import { openStore } from '../storage/open-store';
import type { Store } from '../storage/store';

/**
 * Everything the run needs from storage and the machine, in one place so tests can swap any of it and the
 * production wiring stays a few lines.
 */
export interface RunServices {
  /** The store `--out` names; the run lives in its `<runId>/` child. */
  openStore(url: string): Store;
  createCheckpointer(runStore: Store, log: (line: string) => void): Checkpointer;
  /** A local folder holding the Kaggle files (s3:// data is downloaded into `cacheDir` first). */
  resolveDataDir(data: string, cacheDir: string, log: (line: string) => void): Promise<string>;
  /** Aborted on SIGTERM, SIGINT or an EC2 spot interruption notice. */
  watchInterruptions(log: (line: string) => void): { signal: AbortSignal; dispose(): void };
}

export function defaultRunServices(): RunServices {
  return {
    openStore: (url) => openStore(url),
    createCheckpointer: (store, log) => createCheckpointer(store, log),
    resolveDataDir: (data, cacheDir, log) => resolveDataDir(data, cacheDir, log),
    watchInterruptions: (log) => watchInterruptions({ log }),
  };
}
