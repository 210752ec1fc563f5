import { createHash } from 'node:crypto';
import type { Store } from '../storage/store';

export interface ManifestEntry {
  key: string;
  size: number;
  sha256: string;
}

export interface ResultsManifest {
  runId: string;
  createdAt: string;
  artifacts: ManifestEntry[];
}

/**
 * Read back each artifact from the store and record its size and sha256, so a reader (the `results`
 * command, a user comparing runs) can verify what it downloaded. Written last: its presence means the
 * run's results are complete in the store.
 */
export async function buildResultsManifest(
  store: Store,
  runId: string,
  keys: readonly string[],
  now = new Date(),
): Promise<ResultsManifest> {
  const artifacts: ManifestEntry[] = [];
  for (const key of keys) {
    const body = await store.get(key);
    if (body === null)
      throw new Error(`results manifest: expected artifact "${key}" in ${store.url}, found nothing`);
    artifacts.push({ key, size: body.byteLength, sha256: createHash('sha256').update(body).digest('hex') });
  }
  return { runId, createdAt: now.toISOString(), artifacts };
}
