import { describeError } from '../../common/s3-client';

/** One queued change to a store, by full key. */
export type WriteOp = { kind: 'put'; key: string; body: Buffer } | { kind: 'delete'; key: string };

export interface WriteQueueOptions {
  /** Performs one change; throws on failure. */
  send(op: WriteOp): Promise<void>;
  /** True when retrying `err` cannot help (the write is then given up and flush() rejects). */
  isPermanent(err: unknown): boolean;
  /** Where writes go, for messages (e.g. `s3://bucket/runs`). */
  target: string;
  log?: (line: string) => void;
  /** First retry delay. @default 250 */
  baseDelayMs?: number;
  /** Longest retry delay: bounds how long after an outage ends the queue notices. @default 10000 */
  maxDelayMs?: number;
  /** How long flush() waits for the queue to drain before rejecting. @default 900000 (15 minutes) */
  flushGiveUpMs?: number;
  /** How often a persisting outage is reported. @default 60000 */
  reportEveryMs?: number;
}

interface Failure {
  op: WriteOp;
  error: string;
}

/**
 * Writes accepted at once and performed one at a time in the background, in the order they were
 * accepted, so an object written after others (a checkpoint manifest after its files) never becomes
 * visible before them. A write of a key that has not started yet is dropped when the same key is written
 * or deleted again, and the new one joins the end of the queue. Failures are retried with exponential
 * backoff for as long as the process lives; flush() gives up waiting after `flushGiveUpMs`.
 */
export class WriteQueue {
  private readonly pending: WriteOp[] = [];
  private inFlight: WriteOp | null = null;
  private readonly failures = new Map<string, Failure>();
  private running = false;
  private idleWaiters: Array<() => void> = [];
  private outageSince: number | null = null;
  private lastError = '';
  private lastReport = 0;
  private stopped = false;
  private wake: (() => void) | null = null;

  constructor(private readonly opts: WriteQueueOptions) {}

  enqueue(op: WriteOp): void {
    if (this.stopped)
      throw new Error(`write of "${op.key}" to ${this.opts.target} after the store was closed`);
    const i = this.pending.findIndex((p) => p.key === op.key);
    if (i >= 0) this.pending.splice(i, 1);
    this.pending.push(op);
    if (!this.running) void this.run();
  }

  /** The newest accepted but not yet durable change of `key`, if any (read-your-writes). */
  latest(key: string): WriteOp | undefined {
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const op = this.pending[i];
      if (op?.key === key) return op;
    }
    return this.inFlight?.key === key ? this.inFlight : undefined;
  }

  /** Every accepted change not yet durable, oldest first. */
  unsent(): WriteOp[] {
    return this.inFlight ? [this.inFlight, ...this.pending] : [...this.pending];
  }

  get size(): number {
    return this.pending.length + (this.inFlight ? 1 : 0);
  }

  /**
   * Resolves when every write accepted so far is durable; rejects when one was refused for good, or when
   * the queue has not drained after `giveUpMs` (the queue keeps retrying in the background).
   */
  async flush(giveUpMs: number = this.opts.flushGiveUpMs ?? 900_000): Promise<void> {
    if (this.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const drained = await Promise.race([
        new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true))),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), giveUpMs);
        }),
      ]);
      clearTimeout(timer);
      if (!drained) {
        const first = this.unsent()[0];
        throw new Error(
          `${this.size} write(s) to ${this.opts.target} still not stored after waiting ${Math.round(giveUpMs / 1000)} s ` +
            `(first: ${first ? `${first.kind} ${first.key}` : 'none'}; last error: ${this.lastError || 'none'})`,
        );
      }
    }
    if (this.failures.size > 0) {
      const list = [...this.failures.values()].map((f) => `${f.op.kind} ${f.op.key}: ${f.error}`);
      throw new Error(
        `${this.failures.size} write(s) to ${this.opts.target} were refused: ${list.join('; ')}`,
      );
    }
  }

  /** Stops retrying; unsent writes are dropped. For tests and shutdown after a failed flush. */
  close(): void {
    this.stopped = true;
    this.pending.length = 0;
    this.wake?.();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (!this.stopped && this.pending.length > 0) {
        const op = this.pending.shift()!;
        this.inFlight = op;
        await this.deliver(op);
        this.inFlight = null;
      }
    } finally {
      this.inFlight = null;
      this.running = false;
      if (this.pending.length === 0 || this.stopped) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  private async deliver(op: WriteOp): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        await this.opts.send(op);
        this.failures.delete(op.key);
        if (this.outageSince !== null) {
          const secs = Math.round((Date.now() - this.outageSince) / 1000);
          this.opts.log?.(
            `storage: ${this.opts.target} reachable again after ${secs} s; ${this.size} write(s) pending`,
          );
          this.outageSince = null;
        }
        return;
      } catch (err) {
        this.lastError = describeError(err);
        if (this.opts.isPermanent(err)) {
          this.failures.set(op.key, { op, error: this.lastError });
          this.opts.log?.(
            `storage: ${op.kind} ${op.key} to ${this.opts.target} refused, not retrying: ${this.lastError}`,
          );
          return;
        }
        const now = Date.now();
        if (this.outageSince === null) {
          this.outageSince = now;
          this.lastReport = now;
          this.opts.log?.(
            `storage: ${op.kind} ${op.key} to ${this.opts.target} failed (${this.lastError}); retrying in the background`,
          );
        } else if (now - this.lastReport >= (this.opts.reportEveryMs ?? 60_000)) {
          this.lastReport = now;
          const secs = Math.round((now - this.outageSince) / 1000);
          this.opts.log?.(
            `storage: ${this.opts.target} unreachable for ${secs} s, ${this.size} write(s) waiting (${this.lastError})`,
          );
        }
        await this.sleep(this.backoff(attempt));
        // A newer write of the same key queued meanwhile makes this one moot; it is delivered in its turn.
        if (this.pending.some((p) => p.key === op.key)) return;
      }
    }
  }

  private backoff(attempt: number): number {
    const base = this.opts.baseDelayMs ?? 250;
    const max = this.opts.maxDelayMs ?? 10_000;
    const delay = Math.min(max, base * 2 ** Math.min(attempt, 20));
    // Jitter so that several processes recovering from one outage do not retry in lockstep. Taken from the
    // clock, not Math.random(), whose sequence a seeded trainer may own.
    const jitter = Number(process.hrtime.bigint() % 1000n) / 1000;
    return delay * (0.75 + jitter * 0.25);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      // Unref'd: the queue alone does not keep the process alive; callers that need durability flush().
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      timer.unref();
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }
}
