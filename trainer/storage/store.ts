/**
 * Where a run's files go: a local folder (`file://DIR`) or an S3 prefix (`s3://BUCKET/PREFIX`). Keys are
 * relative, `/`-separated paths such as those of run-layout.ts.
 */
export interface StoredObject {
  key: string;
  size: number;
}

export interface Store {
  /** The store's URL, e.g. `file:///home/me/runs` or `s3://bucket/runs`. */
  readonly url: string;
  /** Write one object; a reader sees either the old or the whole new content, never a torn one. */
  put(key: string, body: Uint8Array | string): Promise<void>;
  /** The object's bytes, or null when it does not exist. */
  get(key: string): Promise<Buffer | null>;
  /** Objects below a key prefix, sorted by key. */
  list(prefix: string): Promise<StoredObject[]>;
  delete(key: string): Promise<void>;
  /** A store for the keys below `prefix` (e.g. one run's directory); it shares this store's upload queue. */
  child(prefix: string): Store;
  /** Resolves when every write accepted so far is durable in the store (writes may be queued in the background). */
  flush(): Promise<void>;
}
