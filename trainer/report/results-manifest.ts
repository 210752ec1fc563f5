import {
  type ResultsManifest,
  type ResultsManifestEntry,
  ResultsManifestSchema,
} from '../../contracts/results-manifest';
import { sha256Hex } from '../storage/sha256';
import type { Store } from '../storage/store';

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
  const artifacts: ResultsManifestEntry[] = [];
  for (const key of keys) {
    const body = await store.get(key);
    if (body === null)
      throw new Error(`results manifest: expected artifact "${key}" in ${store.url}, found nothing`);
    artifacts.push({ key, size: body.byteLength, sha256: await sha256Hex(body) });
  }
  return ResultsManifestSchema.parse({ runId, createdAt: now.toISOString(), artifacts });
}
