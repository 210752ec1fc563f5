import { TrainConfigSchema, type TrainConfig } from '../config';
import { runLayout } from '../../contracts/run-layout';
import type { Store } from '../storage/store';
import { UsageError } from './usage-error';

/** Settings that may differ between attempts of one run without changing what it computes. */
const IGNORED_ON_RESUME: ReadonlySet<string> = new Set(['dryRun']);

/**
 * A resumed run must be the same run: compare the stored config.json with the one given now and refuse
 * any difference, naming each key with both values (resuming a baseline with another preset would mix
 * two experiments in one report).
 */
export async function checkResumedConfig(store: Store, config: TrainConfig): Promise<void> {
  const stored = await readStoredConfig(store);
  if (stored === null) return;
  const differences: string[] = [];
  const now = flatten(config);
  const before = flatten(stored);
  for (const key of [...new Set([...Object.keys(now), ...Object.keys(before)])].sort()) {
    const [top = key] = key.split('.');
    if (IGNORED_ON_RESUME.has(top)) continue;
    if (now[key] !== before[key])
      differences.push(`${key}: run has ${before[key] ?? '(unset)'}, given ${now[key] ?? '(unset)'}`);
  }
  if (differences.length > 0) {
    throw new UsageError(
      `run ${config.runId} in ${store.url} was started with other settings; resume it with the same options or choose another --run:\n  ` +
        differences.join('\n  '),
    );
  }
}

/** The configuration a run was started with (config.json), or null for a run not started yet. */
export async function readStoredConfig(store: Store): Promise<TrainConfig | null> {
  const body = await store.get(runLayout.config);
  if (body === null) return null;
  try {
    return TrainConfigSchema.parse(JSON.parse(body.toString('utf8')));
  } catch (err) {
    throw new UsageError(
      `${store.url}/${runLayout.config}: expected a valid run configuration, found one that does not parse (${(err as Error).message.split('\n')[0]})`,
    );
  }
}

function flatten(value: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (value !== undefined) {
    out[prefix] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return out;
}
