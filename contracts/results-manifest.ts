import { z } from 'zod';

/** One final artifact of a run: its key relative to the run directory, its size in bytes and its sha256. */
export const ResultsManifestEntrySchema = z.object({
  /** e.g. `report/summary.json`, `models/baseline/weights.bin`. */
  key: z.string().min(1),
  size: z.number().int().nonnegative(),
  /** Lowercase hex. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits'),
});
export type ResultsManifestEntry = z.infer<typeof ResultsManifestEntrySchema>;

/**
 * `report/manifest.json`: written last when a run succeeds, so its presence means the results are complete
 * in the store; `facepoints results` verifies every download against it.
 */
export const ResultsManifestSchema = z.object({
  runId: z.string(),
  createdAt: z.string(),
  artifacts: z.array(ResultsManifestEntrySchema),
});
export type ResultsManifest = z.infer<typeof ResultsManifestSchema>;
