import { z } from 'zod';
import { runLayout } from '../../contracts/run-layout';
import type { Checkpointer, CheckpointFiles } from './checkpointer';
import { sha256Hex } from './sha256';
import type { Store } from './store';

const MANIFEST = 'manifest.json';

/** `manifest.json` of one checkpoint: written last, it is what makes the checkpoint exist. */
export const CheckpointManifestSchema = z.object({
  version: z.literal(1),
  unit: z.string(),
  seq: z.number().int().positive(),
  createdAt: z.string(),
  files: z.record(
    z.string(),
    z.object({ size: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
  ),
});
export type CheckpointManifest = z.infer<typeof CheckpointManifestSchema>;

export interface CheckpointerOptions {
  /** Committed checkpoints kept per unit; older ones are deleted after a newer one is committed. @default 2 */
  keep?: number;
}

/**
 * Checkpoints in numbered folders (`checkpoints/<unit>/000007/`) of the run's store. A commit writes the
 * files, then a manifest with each file's size and sha256; with the store's ordered writes the manifest
 * never becomes visible before its files. Reading trusts a checkpoint only when its manifest parses and
 * every file matches it, and otherwise falls back to the previous one.
 */
export function createCheckpointer(
  store: Store,
  log: (line: string) => void,
  opts: CheckpointerOptions = {},
): Checkpointer {
  return new DurableCheckpointer(store, log, Math.max(1, opts.keep ?? 2));
}

/** Sequence numbers of a unit's checkpoint folders, and which of them have a manifest. */
interface Listing {
  seqs: number[];
  committed: Set<number>;
  keysBySeq: Map<number, string[]>;
}

class DurableCheckpointer implements Checkpointer {
  private readonly nextSeq = new Map<string, number>();
  // Commits run one after another in the background: a commit must see the previous one's listing.
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | null = null;

  constructor(
    private readonly store: Store,
    private readonly log: (line: string) => void,
    private readonly keep: number,
  ) {}

  /**
   * Starts committing in the background (hashing, then queueing the writes) and resolves once the previous
   * commit is queued, so at most one checkpoint is in preparation; a failure is reported by flush().
   */
  save(unit: string, files: CheckpointFiles): Promise<void> {
    if (MANIFEST in files) {
      return Promise.reject(
        new Error(
          `checkpoint of ${unit}: a file may not be named ${MANIFEST}, which the checkpointer writes`,
        ),
      );
    }
    const previous = this.chain;
    this.chain = previous
      .then(() => this.commit(unit, files))
      .catch((err: unknown) => {
        this.failure ??= err instanceof Error ? err : new Error(String(err));
        this.log(`checkpoint: commit of ${unit} to ${this.store.url} failed: ${this.failure.message}`);
      });
    return previous;
  }

  async loadLatest(unit: string): Promise<CheckpointFiles | null> {
    await this.chain;
    const listing = await this.listUnit(unit);
    this.nextSeq.set(unit, Math.max(this.nextSeq.get(unit) ?? 1, (listing.seqs.at(-1) ?? 0) + 1));
    const rejected: string[] = [];
    for (const seq of [...listing.seqs].reverse()) {
      const dir = runLayout.checkpointDir(unit, seq);
      const verdict = await this.verify(unit, seq, listing.committed.has(seq));
      if ('reason' in verdict) {
        rejected.push(`${dir}: ${verdict.reason}`);
        continue;
      }
      if (rejected.length > 0) {
        this.log(
          `checkpoint: using ${dir} of ${this.store.url} for ${unit}; skipped newer ${rejected.join('; ')}`,
        );
      }
      return verdict.files;
    }
    if (rejected.length > 0)
      this.log(`checkpoint: no usable checkpoint of ${unit} in ${this.store.url}: ${rejected.join('; ')}`);
    return null;
  }

  async flush(): Promise<void> {
    await this.chain;
    const failure = this.failure;
    this.failure = null;
    if (failure) throw failure;
    await this.store.flush();
  }

  private async commit(unit: string, files: CheckpointFiles): Promise<void> {
    let seq = this.nextSeq.get(unit);
    if (seq === undefined) {
      // Continue after whatever an earlier process left, committed or not, so no folder is ever reused.
      const listing = await this.listUnit(unit);
      seq = (listing.seqs.at(-1) ?? 0) + 1;
    }
    this.nextSeq.set(unit, seq + 1);

    const manifest: CheckpointManifest = {
      version: 1,
      unit,
      seq,
      createdAt: new Date().toISOString(),
      files: {},
    };
    for (const [name, body] of Object.entries(files)) {
      manifest.files[name] = { size: body.byteLength, sha256: await sha256Hex(body) };
      await this.store.put(`${runLayout.checkpointDir(unit, seq)}/${name}`, body);
    }
    await this.store.put(runLayout.checkpointManifest(unit, seq), JSON.stringify(manifest, null, 1));
    await this.prune(unit, seq);
  }

  /** Deletes every folder older than the newest `keep` committed checkpoints (the manifest first, so a half-deleted folder is never trusted). */
  private async prune(unit: string, newest: number): Promise<void> {
    const listing = await this.listUnit(unit);
    const kept = new Set(
      listing.seqs.filter((s) => listing.committed.has(s) && s <= newest).slice(-this.keep),
    );
    for (const seq of listing.seqs) {
      // Uncommitted folders below the newest commit are debris of interrupted commits.
      if (seq > newest || kept.has(seq)) continue;
      const keys = listing.keysBySeq.get(seq) ?? [];
      const manifestKey = runLayout.checkpointManifest(unit, seq);
      if (keys.includes(manifestKey)) await this.store.delete(manifestKey);
      for (const key of keys) if (key !== manifestKey) await this.store.delete(key);
    }
  }

  private async listUnit(unit: string): Promise<Listing> {
    const base = `${runLayout.checkpointsDir(unit)}/`;
    const keysBySeq = new Map<number, string[]>();
    const committed = new Set<number>();
    for (const { key } of await this.store.list(base)) {
      const rest = key.slice(base.length);
      const [, folder, file] = /^(\d+)\/([^/]+)$/.exec(rest) ?? [];
      // Other units nest below this one's folder (`specialists/...` vs `specialists/nose-tip/...`): skip them.
      if (folder === undefined) continue;
      const seq = Number.parseInt(folder, 10);
      if (runLayout.checkpointDir(unit, seq) !== `${base}${folder}`) continue;
      const keys = keysBySeq.get(seq) ?? [];
      keysBySeq.set(seq, keys);
      keys.push(key);
      if (file === MANIFEST) committed.add(seq);
    }
    return { seqs: [...keysBySeq.keys()].sort((a, b) => a - b), committed, keysBySeq };
  }

  private async verify(
    unit: string,
    seq: number,
    hasManifest: boolean,
  ): Promise<{ files: CheckpointFiles } | { reason: string }> {
    if (!hasManifest) return { reason: `no ${MANIFEST} (the commit did not finish)` };
    const manifestKey = runLayout.checkpointManifest(unit, seq);
    const raw = await this.store.get(manifestKey);
    if (raw === null) return { reason: `no ${MANIFEST} (deleted)` };
    let manifest: CheckpointManifest;
    try {
      const parsed = CheckpointManifestSchema.safeParse(JSON.parse(raw.toString('utf8')));
      if (!parsed.success) {
        const [issue] = parsed.error.issues;
        return { reason: `${MANIFEST} invalid at key "${issue?.path.join('.')}": ${issue?.message}` };
      }
      manifest = parsed.data;
    } catch (err) {
      return { reason: `${MANIFEST} is not JSON (${(err as Error).message})` };
    }
    const files: CheckpointFiles = {};
    for (const [name, expected] of Object.entries(manifest.files)) {
      const key = `${runLayout.checkpointDir(unit, seq)}/${name}`;
      const body = await this.store.get(key);
      if (body === null) return { reason: `${name} is missing` };
      if (body.byteLength !== expected.size)
        return { reason: `${name} has ${body.byteLength} bytes, expected ${expected.size}` };
      const actual = await sha256Hex(body);
      if (actual !== expected.sha256)
        return {
          reason: `${name} sha256 ${actual.slice(0, 12)}..., expected ${expected.sha256.slice(0, 12)}...`,
        };
      files[name] = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    }
    return { files };
  }
}
