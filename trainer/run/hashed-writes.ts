import type { ResultsManifestEntry } from '../../contracts/results-manifest';
import { sha256Hex } from '../storage/sha256';
import type { Store } from '../storage/store';

/** Size and sha256 of an object as it was written. */
export type WrittenDigest = Omit<ResultsManifestEntry, 'key'>;

/**
 * A store that records the size and sha256 of every object written through it (the last write of a key
 * wins), so the results manifest needs no read-back of what this process has just uploaded.
 */
export class HashedWrites implements Store {
  private readonly digests: Map<string, WrittenDigest>;

  constructor(
    private readonly inner: Store,
    private readonly prefix = '',
    digests?: Map<string, WrittenDigest>,
  ) {
    this.digests = digests ?? new Map();
  }

  get url(): string {
    return this.inner.url;
  }

  /** Digests of the keys written so far, relative to this store. */
  written(): ReadonlyMap<string, WrittenDigest> {
    const out = new Map<string, WrittenDigest>();
    for (const [key, digest] of this.digests)
      if (key.startsWith(this.prefix)) out.set(key.slice(this.prefix.length), digest);
    return out;
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const digest = { size: bytes.byteLength, sha256: await sha256Hex(bytes) };
    await this.inner.put(key, body);
    this.digests.set(this.prefix + key, digest);
  }

  get(key: string): Promise<Buffer | null> {
    return this.inner.get(key);
  }

  list(prefix: string) {
    return this.inner.list(prefix);
  }

  async delete(key: string): Promise<void> {
    await this.inner.delete(key);
    this.digests.delete(this.prefix + key);
  }

  child(prefix: string): Store {
    const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
    return new HashedWrites(this.inner.child(prefix), this.prefix + base, this.digests);
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }
}
