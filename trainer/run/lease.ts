import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseJson } from '../../common/parse-json';
import { runLayout } from '../../contracts/run-layout';
import {
  HEARTBEAT_SECONDS,
  LEASE_HEARTBEATS,
  UnitLeaseSchema,
  type UnitLease,
} from '../../contracts/run-status';
import type { Store } from '../storage/store';

export interface LeaseOptions {
  /** How often a held lease is renewed. @default HEARTBEAT_SECONDS */
  renewMs?: number;
  /** Time between writing a lease and reading it back (see acquire). @default 2000 */
  settleMs?: number;
  /** This process's holder id. @default `host/pid/random` */
  holder?: string;
  /**
   * How long acquire waits for a unit another holder has: a holder that died without releasing (SIGKILL,
   * a lost machine) stops renewing, and its lease expires within this time. @default (LEASE_HEARTBEATS + 1) * renewMs
   */
  waitMs?: number;
  /** Time between looks at a lease held by someone else while waiting. @default 5000 */
  pollMs?: number;
  now?: () => Date;
  log?: (line: string) => void;
}

/** A lease this process holds: renewed in the background until released. */
export interface HeldLease {
  held: true;
  /** Aborted when a renewal finds the lease taken by another holder (it had expired). */
  lost: AbortSignal;
  release(): Promise<void>;
}

/** Another live holder has the unit. */
export interface RefusedLease {
  held: false;
  current: UnitLease;
}

/**
 * Leases on units (`leases/<unit>.json`), so that two processes never train the same unit at once.
 *
 * The Store interface has no conditional write (S3 has If-None-Match/If-Match on PutObject, a local folder
 * has none; using S3's would close the race below), so acquiring writes the lease, waits `settleMs` and reads it back:
 * of two processes that both found the unit free, the one whose write landed last keeps it and the other
 * backs off. Both can still win when one takes longer than `settleMs` between its read and its write
 * (a stalled process or a very slow store), the residual race of a write-then-verify lock; units are
 * deterministic (their seed depends on the run and the unit only), so a unit trained twice still
 * ends with the same model. `store` must read its own writes once flushed (both stores do).
 */
export class Leases {
  readonly holder: string;
  private readonly renewMs: number;

  constructor(
    private readonly store: Store,
    private readonly opts: LeaseOptions = {},
  ) {
    this.holder = opts.holder ?? `${os.hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
    this.renewMs = opts.renewMs ?? HEARTBEAT_SECONDS * 1000;
  }

  /** The unit's lease when one exists and has not expired. */
  async current(unit: string): Promise<UnitLease | null> {
    const lease = await this.read(unit);
    return lease && Date.parse(lease.expiresAt) > this.now().getTime() ? lease : null;
  }

  /**
   * Take the unit's lease. While another holder has it, wait (up to waitMs) for it to be released or to
   * expire; a holder on this host whose process is gone is not waited for.
   */
  async acquire(unit: string): Promise<HeldLease | RefusedLease> {
    const waitUntil = Date.now() + (this.opts.waitMs ?? (LEASE_HEARTBEATS + 1) * this.renewMs);
    for (;;) {
      const existing = await this.current(unit);
      if (!existing || existing.holder === this.holder || !isAlive(existing.holder)) break;
      if (Date.now() >= waitUntil) return { held: false, current: existing };
      await sleep(this.opts.pollMs ?? 5000);
    }
    const acquiredAt = this.now().toISOString();
    await this.write(unit, acquiredAt);
    await sleep(this.opts.settleMs ?? 2000);
    const back = await this.read(unit);
    if (back === null || back.holder !== this.holder) {
      // Someone wrote after us: theirs; or deleted it: try again later rather than race on.
      return { held: false, current: back ?? this.lease(unit, acquiredAt) };
    }
    return this.keep(unit, acquiredAt);
  }

  private keep(unit: string, acquiredAt: string): HeldLease {
    const lost = new AbortController();
    let renewing: Promise<void> = Promise.resolve();
    const renew = async (): Promise<void> => {
      const now = await this.read(unit);
      if (now !== null && now.holder !== this.holder) {
        lost.abort(`lease of ${unit} lost to ${now.holder}`);
        clearInterval(timer);
        return;
      }
      await this.write(unit, acquiredAt);
    };
    const timer = setInterval(() => {
      renewing = renewing
        .then(renew)
        .catch((err: unknown) =>
          this.opts.log?.(`lease ${unit}: renewal failed (${(err as Error).message}); will retry`),
        );
    }, this.renewMs);
    // A lease must never keep a finished process alive.
    timer.unref();
    return {
      held: true,
      lost: lost.signal,
      release: async () => {
        clearInterval(timer);
        await renewing;
        const now = await this.read(unit);
        if (now?.holder === this.holder) {
          await this.store.delete(runLayout.lease(unit));
          await this.store.flush();
        }
      },
    };
  }

  private lease(unit: string, acquiredAt: string): UnitLease {
    const now = this.now();
    return {
      unit,
      holder: this.holder,
      acquiredAt,
      renewedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + LEASE_HEARTBEATS * this.renewMs).toISOString(),
    };
  }

  private async write(unit: string, acquiredAt: string): Promise<void> {
    await this.store.put(runLayout.lease(unit), `${JSON.stringify(this.lease(unit, acquiredAt), null, 2)}\n`);
    // Durable before anyone relies on it: an S3 store queues writes in the background.
    await this.store.flush();
  }

  private async read(unit: string): Promise<UnitLease | null> {
    const key = runLayout.lease(unit);
    const body = await this.store.get(key);
    return body === null
      ? null
      : parseJson(body.toString('utf8'), UnitLeaseSchema, `${this.store.url}/${key}`);
  }

  private now(): Date {
    return this.opts.now ? this.opts.now() : new Date();
  }
}

/**
 * False only for a holder on this host whose process has ended (killed without releasing its lease), so
 * a restart on the same machine resumes at once; on another host nothing can tell, and the lease expires.
 */
function isAlive(holder: string): boolean {
  const [host, pidText] = holder.split('/');
  const pid = Number(pidText);
  if (host !== os.hostname() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
