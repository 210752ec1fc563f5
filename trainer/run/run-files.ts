import { z } from 'zod';
import { RunSummarySchema, UnitSummarySchema, type RunSummary } from '../../contracts/run-summary';
import { runLayout } from '../../contracts/run-layout';
import { RunStateSchema, type RunState } from '../../contracts/run-status';
import { parseJson } from '../../common/parse-json';
import type { Store } from '../storage/store';
import type { EpochMetrics } from '../train/metrics';
import { parseMetricsCsv } from './metrics-csv';

/**
 * The files a run reads back from its own directory, each through its schema: a file that does not
 * match says which key is wrong and where, instead of flowing on as a loose object.
 */

/** What `models/<unit>/done.json` records: the unit's figures, kept across attempts of the run. */
export const DoneMarkerSchema = UnitSummarySchema.extend({ finishedAt: z.string() });
export type DoneMarker = z.infer<typeof DoneMarkerSchema>;

export async function readDoneMarker(store: Store, unit: string): Promise<DoneMarker> {
  const key = runLayout.unitDone(unit);
  const body = await store.get(key);
  if (body === null) throw new Error(`report: expected ${key} in ${store.url}, found nothing`);
  return parseJson(body.toString('utf8'), DoneMarkerSchema, `${store.url}/${key}`);
}

/** The marker goes last: it promises that the unit's model and metrics are complete. */
export async function writeDoneMarker(store: Store, marker: DoneMarker): Promise<void> {
  await store.put(
    runLayout.unitDone(marker.unit),
    `${JSON.stringify(DoneMarkerSchema.parse(marker), null, 2)}\n`,
  );
}

/** The state of an earlier attempt, or null for a new run (or a status.json too damaged to tell). */
export async function readRunState(store: Store): Promise<RunState | null> {
  const body = await store.get(runLayout.status);
  if (body === null) return null;
  try {
    return parseJson(body.toString('utf8'), z.object({ state: RunStateSchema }), runLayout.status).state;
  } catch {
    return null;
  }
}

export async function readSummary(store: Store): Promise<RunSummary | null> {
  const body = await store.get(runLayout.summary);
  return body === null
    ? null
    : parseJson(body.toString('utf8'), RunSummarySchema, `${store.url}/${runLayout.summary}`);
}

/** A unit's epochs so far; none when its metrics file does not exist yet. */
export async function readMetrics(store: Store, unit: string): Promise<EpochMetrics[]> {
  const key = runLayout.metrics(unit);
  const body = await store.get(key);
  return body ? parseMetricsCsv(body.toString('utf8'), key) : [];
}
