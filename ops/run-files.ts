import { z } from 'zod';
import { parseJson } from './parse-json';

/**
 * Readers for the files a finished run leaves in `report/`. The trainer writes them; these schemas
 * check only what the operator commands use and let every other field through.
 */

const Label = z.union([
  z.string(),
  z.looseObject({ label: z.string().optional(), name: z.string().optional(), column: z.string().optional() }),
]);

export const SummarySchema = z.looseObject({
  runId: z.string(),
  models: z.array(
    z.looseObject({
      name: z.string(),
      devRmsePx: z.number().nullable(),
      perKeypointRmsePx: z.unknown().optional(),
      bestLabels: z.array(Label).default([]),
      worstLabels: z.array(Label).default([]),
      trainSeconds: z.number().nullable().optional(),
    }),
  ),
  phases: z.unknown().optional(),
  backend: z.string().nullable().optional(),
  preset: z.string().nullable().optional(),
});
export type Summary = z.infer<typeof SummarySchema>;

/** A best/worst label as printed: the column name, whatever shape the trainer chose for it. */
export function labelText(label: z.infer<typeof Label>): string {
  if (typeof label === 'string') return label;
  return label.label ?? label.name ?? label.column ?? JSON.stringify(label);
}

/** The best dev RMSE of a run's models, in pixels, or null when none was measured. */
export function bestRmse(summary: Summary): { model: string; devRmsePx: number } | null {
  let best: { model: string; devRmsePx: number } | null = null;
  for (const m of summary.models)
    if (m.devRmsePx !== null && (!best || m.devRmsePx < best.devRmsePx))
      best = { model: m.name, devRmsePx: m.devRmsePx };
  return best;
}

const ManifestEntry = z
  .looseObject({
    key: z.string().optional(),
    path: z.string().optional(),
    size: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/i),
  })
  .refine((e) => e.key !== undefined || e.path !== undefined, { message: 'each file needs a key' });

/** `report/manifest.json`: key (relative to the run directory), size and sha256 of each final artifact. */
export const ResultsManifestSchema = z.union([
  z.looseObject({ files: z.array(ManifestEntry) }),
  z.looseObject({ artifacts: z.array(ManifestEntry) }),
  z.array(ManifestEntry),
]);

export interface ManifestFile {
  /** Relative to the run directory, e.g. `report/summary.json`. */
  key: string;
  size: number;
  sha256: string;
}

/** The manifest's entries with keys made relative to the run directory (`runs/ID/` is stripped if present). */
export function manifestFiles(
  manifest: z.infer<typeof ResultsManifestSchema>,
  runPrefix: string,
): ManifestFile[] {
  type Entry = z.infer<typeof ManifestEntry>;
  const m = manifest as Entry[] | { files?: Entry[]; artifacts?: Entry[] };
  const entries: Entry[] = Array.isArray(m) ? m : (m.files ?? m.artifacts ?? []);
  return entries.map((e) => {
    const raw = (e.key ?? e.path)!.replace(/^\/+/, '');
    return {
      key: raw.startsWith(runPrefix) ? raw.slice(runPrefix.length) : raw,
      size: e.size,
      sha256: e.sha256.toLowerCase(),
    };
  });
}

export function parseSummary(text: string, where: string): Summary {
  return parseJson(text, SummarySchema, where);
}
