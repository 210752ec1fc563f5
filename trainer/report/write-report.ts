import type { TestTimeAugmentation } from '../config';
import { COORDINATES, KEYPOINT_COLUMNS, PIXELS } from '../../contracts/keypoints';
import type { LookupRow, TestSet } from '../data/dataset';
import { formatSubmission } from '../data/kaggle-csv';
import { runLayout, type ModelName } from '../../contracts/run-layout';
import type { Store } from '../storage/store';
import { renderBestWorst, type FaceTile } from './best-worst';
import { bestAndWorstImages, bestAndWorstLabels, devErrors, perImageRmsePx } from './dev-metrics';
import { renderLearningCurves, type UnitCurve } from './learning-curves';
import { renderReportMarkdown } from './report-markdown';
import {
  type ResultsManifest,
  type ResultsManifestEntry,
  ResultsManifestSchema,
} from '../../contracts/results-manifest';
import { buildResultsManifest } from './results-manifest';
import {
  RunSummarySchema,
  type ModelSummary,
  type PhaseTime,
  type RunSummary,
  type UnitSummary,
} from '../../contracts/run-summary';

/** Predictions of one model of the ladder, all 30 columns in pixels. */
export interface ModelPredictions {
  name: ModelName;
  /** dev.count * 30. */
  devPredPx: Float32Array;
  /** test.count * 30. */
  testPredPx: Float32Array;
  trainSeconds: number;
}

export interface ReportInput {
  runId: string;
  preset: string;
  testTimeAugmentation: TestTimeAugmentation;
  backend: string;
  gpuName: string | null;
  instanceType: string | null;
  startedAt: Date;
  finishedAt: Date;
  phases: PhaseTime[];
  totalSeconds: number;
  hourlyPriceUsd: number | null;
  trainRows: number;
  /** Every dev row: images, all 30 labels (NaN missing) and their row numbers in training.csv (0-based). */
  dev: { pixels: Uint8Array; labelsPx: Float32Array; count: number; rows: ArrayLike<number> };
  test: TestSet;
  lookup: LookupRow[];
  /** `mean` first, then the trained models in ladder order. */
  models: ModelPredictions[];
  units: UnitSummary[];
  curves: UnitCurve[];
}

/** Keys below the run directory that the results manifest covers (checkpoints and status are working state). */
const ARTIFACT_PREFIXES = [runLayout.config, 'metrics/', 'models/', `${runLayout.reportDir}/`];

/**
 * Write the whole report of a run: summary.json, report.md, learning-curves.png, best-worst.png,
 * submission.csv, then the results manifest of every artifact, last. `written` holds the size and sha256
 * of the files this process wrote (hashed as they were written); only the others are read back.
 */
export async function writeReport(
  store: Store,
  input: ReportInput,
  written: ReadonlyMap<string, Omit<ResultsManifestEntry, 'key'>> = new Map(),
): Promise<RunSummary> {
  if (input.models[0]?.name !== 'mean') {
    throw new Error(
      `report: expected the mean model first, found ${input.models.map((m) => m.name).join(', ') || 'no model'}`,
    );
  }
  const models: ModelSummary[] = input.models.map((m) => {
    const errors = devErrors(input.dev.labelsPx, m.devPredPx, input.dev.count);
    const perKeypointRmsePx = Object.fromEntries(
      Object.entries(errors.perColumnRmsePx).filter(([, v]) => Number.isFinite(v)),
    );
    const { best, worst } = bestAndWorstLabels(errors.perColumnRmsePx, 4);
    return {
      name: m.name,
      devRmsePx: errors.rmsePx,
      devLabels: errors.labelCount,
      perKeypointRmsePx,
      bestLabels: best,
      worstLabels: worst,
      trainSeconds: m.trainSeconds,
    };
  });
  // The best trained model answers the submission and the pictures; the mean only when nothing was trained.
  const candidates = models.length > 1 ? models.slice(1) : models;
  const bestSummary = candidates.reduce((a, b) => (b.devRmsePx < a.devRmsePx ? b : a));
  const best = input.models.find((m) => m.name === bestSummary.name)!;

  const submission = formatSubmission(input.lookup, predictorFor(input.test, best.testPredPx));
  await store.put(runLayout.submission, submission);

  const meanDev = models[0]?.devRmsePx ?? Number.NaN;
  await store.put(
    runLayout.learningCurves,
    await renderLearningCurves(input.curves, Number.isFinite(meanDev) ? meanDev : null),
  );
  await store.put(
    runLayout.bestWorst,
    await renderBestWorst(SUMMARY_TITLES[best.name], ...tilesOf(input, best)),
  );

  const summary = RunSummarySchema.parse({
    runId: input.runId,
    preset: input.preset,
    testTimeAugmentation: input.testTimeAugmentation,
    backend: input.backend,
    gpuName: input.gpuName,
    instanceType: input.instanceType,
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    data: {
      trainRows: input.trainRows,
      devRows: input.dev.count,
      testImages: input.test.count,
      submissionRows: input.lookup.length,
    },
    models,
    bestModel: best.name,
    units: input.units,
    phases: input.phases,
    totalSeconds: input.totalSeconds,
    hourlyPriceUsd: input.hourlyPriceUsd,
    costUsd: input.hourlyPriceUsd === null ? null : (input.totalSeconds / 3600) * input.hourlyPriceUsd,
  } satisfies RunSummary);
  await store.put(runLayout.summary, `${JSON.stringify(summary, null, 2)}\n`);
  await store.put(runLayout.reportMarkdown, renderReportMarkdown(summary));

  const keys = (await Promise.all(ARTIFACT_PREFIXES.map((p) => store.list(p))))
    .flat()
    .map((o) => o.key)
    .filter(
      (k) =>
        k !== runLayout.resultsManifest &&
        (k === runLayout.config || ARTIFACT_PREFIXES.slice(1).some((p) => k.startsWith(p))),
    );
  const manifest = await resultsManifest(
    store,
    input.runId,
    [...new Set(keys)].sort(),
    input.finishedAt,
    written,
  );
  await store.put(runLayout.resultsManifest, `${JSON.stringify(manifest, null, 2)}\n`);
  return summary;
}

/** The results manifest of `keys`: digests taken on write where known, the rest read back from the store. */
async function resultsManifest(
  store: Store,
  runId: string,
  keys: readonly string[],
  now: Date,
  written: ReadonlyMap<string, Omit<ResultsManifestEntry, 'key'>>,
): Promise<ResultsManifest> {
  const readBack = await buildResultsManifest(
    store,
    runId,
    keys.filter((k) => !written.has(k)),
    now,
  );
  const earlier = new Map(readBack.artifacts.map((a) => [a.key, a] as const));
  const artifacts = keys.map((key): ResultsManifestEntry => {
    const digest = written.get(key);
    const entry = digest ? { key, ...digest } : earlier.get(key);
    if (!entry)
      throw new Error(`results manifest: expected artifact "${key}" in ${store.url}, found nothing`);
    return entry;
  });
  return ResultsManifestSchema.parse({ ...readBack, artifacts });
}

const SUMMARY_TITLES: Record<ModelName, string> = {
  mean: 'Model 0 (mean)',
  mlp: 'Model 1 (one hidden layer)',
  cnn: 'Model 2 (CNN)',
  baseline: 'Model 3 (baseline)',
  specialists: 'Model 4 (six specialists)',
  'specialists-augmented': 'Model 5 (augmented specialists)',
};

/** Looks up a test image's predicted coordinate for the submission writer. */
export function predictorFor(
  test: TestSet,
  predPx: Float32Array,
): (imageId: number, feature: string) => number {
  const rowOf = new Map<number, number>();
  test.imageIds.forEach((id, i) => {
    rowOf.set(id, i);
  });
  const colOf = new Map(KEYPOINT_COLUMNS.map((c, i) => [c, i] as const));
  return (imageId, feature) => {
    const r = rowOf.get(imageId);
    const c = colOf.get(feature);
    const value = r === undefined || c === undefined ? undefined : predPx[r * COORDINATES + c];
    if (value === undefined) {
      throw new Error(
        `submission: expected a test image and keypoint column, found ImageId ${imageId} and feature "${feature}"`,
      );
    }
    return value;
  };
}

function tilesOf(input: ReportInput, model: ModelPredictions): [FaceTile[], FaceTile[]] {
  const { dev } = input;
  const perImage = perImageRmsePx(dev.labelsPx, model.devPredPx, dev.count);
  const { best, worst } = bestAndWorstImages(perImage, 4);
  const tile = (i: number): FaceTile => ({
    pixels: dev.pixels.subarray(i * PIXELS, (i + 1) * PIXELS),
    truePx: dev.labelsPx.subarray(i * COORDINATES, (i + 1) * COORDINATES),
    predPx: model.devPredPx.subarray(i * COORDINATES, (i + 1) * COORDINATES),
    rmsePx: perImage[i]!,
    // training.csv line numbers: the header is line 1.
    caption: `training.csv line ${dev.rows[i]! + 2}`,
  });
  return [best.map(tile), worst.map(tile)];
}
