import { SPECIALISTS } from './keypoints';

/**
 * Where everything of a run lives, relative to the run's directory (`<out>/<runId>/`, a local folder or
 * an S3 prefix). The trainer writes these paths, the operator commands and the tests read them; nothing
 * else spells them out.
 */

/** Model names of the seed's ladder, as they appear in reports and `report/summary.json`. */
export const MODEL_NAMES = [
  'mean',
  'mlp',
  'cnn',
  'baseline',
  'specialists',
  'specialists-augmented',
] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** Bucket prefixes: the Kaggle files are uploaded under DATA_PREFIX, runs live under RUNS_PREFIX. */
export const DATA_PREFIX = 'data/';
export const RUNS_PREFIX = 'runs/';

/** The Kaggle files a run reads from its data directory. */
export const DATA_FILES = {
  training: 'training.csv',
  test: 'test.csv',
  lookup: 'IdLookupTable.csv',
} as const;

/**
 * A trained unit: a whole model (`baseline`) or one specialist of a group (`specialists/nose-tip`).
 * Unit ids double as folder names below `models/`, `checkpoints/` and `metrics/`.
 */
export function unitId(model: ModelName, specialist?: string): string {
  return specialist ? `${model}/${specialist}` : model;
}

/**
 * The trained units of a run of these models, in the order a run trains them (MODEL_NAMES's): one per
 * whole network, one per specialist of a specialist group. `mean` is computed, never trained.
 */
export function trainedUnitIds(models: readonly ModelName[]): string[] {
  const wanted = new Set(models);
  return MODEL_NAMES.filter((m) => m !== 'mean' && wanted.has(m)).flatMap((m) =>
    m === 'specialists' || m === 'specialists-augmented'
      ? SPECIALISTS.map((s) => unitId(m, s.name))
      : [unitId(m)],
  );
}

/** A specialist unit (`specialists/...`, `specialists-augmented/...`): it may start from the baseline. */
export function isSpecialistUnit(unit: string): boolean {
  return unit.includes('/');
}

/** Folder of every unit's checkpoints, and the file written last that commits one checkpoint folder. */
const CHECKPOINTS = 'checkpoints';
const CHECKPOINT_MANIFEST = 'manifest.json';
const checkpointDir = (unit: string, seq: number) => `${CHECKPOINTS}/${unit}/${String(seq).padStart(6, '0')}`;

export const runLayout = {
  /** The resolved configuration the run was started with (resuming runs reuse it). */
  config: 'config.json',
  /** Live status, rewritten at least every minute (see contracts/run-status.ts). */
  status: 'status.json',
  /** Per-epoch metrics of one unit, CSV with a header. */
  metrics: (unit: string) => `metrics/${unit}.csv`,
  /** Final model of one unit, loadable with tf.loadLayersModel (model.json + weights.bin). */
  modelDir: (unit: string) => `models/${unit}`,
  modelJson: (unit: string) => `models/${unit}/model.json`,
  /** Checkpoints of one unit: numbered folders, each committed by its manifest, written last. */
  checkpointsRoot: `${CHECKPOINTS}/`,
  checkpointsDir: (unit: string) => `${CHECKPOINTS}/${unit}`,
  checkpointDir,
  checkpointManifestName: CHECKPOINT_MANIFEST,
  checkpointManifest: (unit: string, seq: number) => `${checkpointDir(unit, seq)}/${CHECKPOINT_MANIFEST}`,
  /** Marks a unit as finished: its final model and metrics are in the store. */
  unitDone: (unit: string) => `models/${unit}/done.json`,
  /**
   * Status of one unit trained by a `train --units` invocation (same shape as status.json); status.json
   * itself belongs to a whole run or to `report`, so jobs training units side by side never share a file.
   */
  unitStatus: (unit: string) => `status/${unit}.json`,
  unitStatusRoot: 'status/',
  /** Who trains a unit right now and until when (see contracts/run-status.ts UnitLeaseSchema). */
  lease: (unit: string) => `leases/${unit}.json`,
  leasesRoot: 'leases/',
  reportDir: 'report',
  summary: 'report/summary.json',
  reportMarkdown: 'report/report.md',
  learningCurves: 'report/learning-curves.png',
  bestWorst: 'report/best-worst.png',
  submission: 'report/submission.csv',
  /** Manifest of the final artifacts (size and sha256 of each), written last when a run succeeds. */
  resultsManifest: 'report/manifest.json',
} as const;

/** `YYYYMMDD-HHMMSS` in UTC: sortable, safe in S3 keys and folder names. */
export function defaultRunId(now: Date = new Date()): string {
  const iso = now.toISOString();
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}`;
}

export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
