import {
  HEARTBEAT_SECONDS,
  RunStatusSchema,
  type RunState,
  type RunStatus,
} from '../../contracts/run-status';
import { runLayout } from '../../contracts/run-layout';
import type { Store } from '../storage/store';

/** What the run knows when the reporter starts. */
export interface StatusStart {
  runId: string;
  startedAt: Date;
  instanceType: string | null;
}

/** Fields a caller may change; the reporter keeps the rest. */
export type StatusUpdate = Partial<Omit<RunStatus, 'runId' | 'startedAt' | 'updatedAt'>>;

/**
 * Keeps `status.json` current: written at every phase change and state change, and rewritten as a
 * heartbeat at least every `heartbeatMs` so a reader can tell a live run from a dead one. Epoch updates are
 * written at most every `minWriteMs` (S3 PUTs cost money). Writes are serialised, so a slow store never
 * lets an older status overwrite a newer one.
 */
export class StatusReporter {
  private status: RunStatus;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private lastWrite = 0;
  private writeError: unknown = null;

  constructor(
    private readonly store: Store,
    start: StatusStart,
    private readonly opts: {
      heartbeatMs?: number;
      minWriteMs?: number;
      now?: () => Date;
      /** Where the status goes: status.json for a whole run, runLayout.unitStatus(unit) for one unit. @default runLayout.status */
      key?: string;
    } = {},
  ) {
    const now = this.now().toISOString();
    this.status = {
      runId: start.runId,
      state: 'running',
      phase: 'starting',
      model: null,
      epoch: null,
      maxEpochs: null,
      bestDevRmsePx: null,
      meanDevRmsePx: null,
      imagesPerSecond: null,
      etaPhaseSeconds: null,
      etaRunSeconds: null,
      backend: null,
      gpuName: null,
      instanceType: start.instanceType,
      startedAt: start.startedAt.toISOString(),
      updatedAt: now,
      lastCheckpointAt: null,
      finishedAt: null,
      error: null,
      interruption: null,
    };
  }

  /** The status as last set (not necessarily written yet). */
  get current(): RunStatus {
    return { ...this.status };
  }

  /** Write the first status and start the heartbeat. */
  async start(): Promise<void> {
    await this.write();
    const every = this.opts.heartbeatMs ?? HEARTBEAT_SECONDS * 1000;
    this.timer = setInterval(() => void this.write().catch(() => undefined), every);
    // The heartbeat must never keep a finished process alive.
    this.timer.unref();
  }

  /** Merge `update` and write when the phase, model or state changed, or when the last write is old enough. */
  async update(update: StatusUpdate): Promise<void> {
    const important =
      (update.phase !== undefined && update.phase !== this.status.phase) ||
      (update.model !== undefined && update.model !== this.status.model) ||
      (update.state !== undefined && update.state !== this.status.state);
    this.status = RunStatusSchema.parse({ ...this.status, ...update });
    if (important || Date.now() - this.lastWrite >= (this.opts.minWriteMs ?? 10_000)) await this.write();
  }

  /** Record the final state (succeeded, failed with the error, interrupted with the reason) and stop the heartbeat. */
  async finish(state: Exclude<RunState, 'running'>, extra: StatusUpdate = {}): Promise<void> {
    this.stop();
    this.status = RunStatusSchema.parse({
      ...this.status,
      ...(state === 'succeeded' ? { etaPhaseSeconds: 0, etaRunSeconds: 0 } : {}),
      ...extra,
      state,
      finishedAt: this.now().toISOString(),
    });
    await this.write();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Resolves when every write so far has reached the store; rethrows the first failed write. */
  async flush(): Promise<void> {
    await this.chain;
    if (this.writeError) throw this.writeError;
  }

  private write(): Promise<void> {
    this.lastWrite = Date.now();
    this.status = { ...this.status, updatedAt: this.now().toISOString() };
    const body = `${JSON.stringify(this.status, null, 2)}\n`;
    this.chain = this.chain.then(() =>
      this.store.put(this.opts.key ?? runLayout.status, body).catch((err: unknown) => {
        this.writeError ??= err;
      }),
    );
    return this.chain;
  }

  private now(): Date {
    return this.opts.now ? this.opts.now() : new Date();
  }
}
