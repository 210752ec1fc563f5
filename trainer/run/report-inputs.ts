import type * as tf from '@tensorflow/tfjs';
import { ON_DEMAND_USD_PER_HOUR } from '../../contracts/instance-prices';
import type { TrainConfig } from '../config';
import { COORDINATES } from '../../contracts/keypoints';
import type { UnitCurve } from '../report/learning-curves';
import type { PhaseTime, RunSummary, UnitSummary } from '../../contracts/run-summary';
import { UnitSummarySchema } from '../../contracts/run-summary';
import { devErrors } from '../report/dev-metrics';
import { writeReport, type ModelPredictions } from '../report/write-report';
import type { ModelName } from '../../contracts/run-layout';
import type { Store } from '../storage/store';
import { predictUnitPx } from '../predict/test-time-views';
import { meanModel } from '../train/evaluate';
import { lossToRmsePx } from '../train/metrics';
import type { WrittenDigest } from './hashed-writes';
import type { LoadedRun } from './load-run';
import { loadModel } from './model-io';
import { isTrained, type TrainedUnit } from './plan';
import { readDoneMarker, readMetrics } from './run-files';
import { scatterUnitColumns } from './unit-data';
import type { UnitPredictions } from './unit-trainer';

/** The settings the report reads. */
export type ReportSettings = Pick<TrainConfig, 'runId' | 'preset' | 'batchSize' | 'testTimeAugmentation'>;

export interface ReportContext {
  settings: ReportSettings;
  store: Store;
  loaded: LoadedRun;
  /** Units trained by this process, evaluated while their models were in memory. */
  predictions: ReadonlyMap<string, UnitPredictions>;
  /** Size and sha256 of every file this process wrote, for the results manifest. */
  written: ReadonlyMap<string, WrittenDigest>;
  loadingSeconds: number;
  startedAt: Date;
  instanceType: string | null;
  /** USD per hour for the cost; null looks up the on-demand price of instanceType. */
  hourlyPriceUsd: number | null;
  log: (line: string) => void;
}

/** Evaluate every model on the dev rows and the test images, then write the report. */
export async function evaluateAndReport(c: ReportContext): Promise<RunSummary> {
  const evalStart = Date.now();
  const { data, split, dev, plan } = c.loaded;
  const models: ModelPredictions[] = [meanPredictions(c.loaded)];
  const units: UnitSummary[] = [];
  const curves: UnitCurve[] = [];
  const phases: PhaseTime[] = [{ name: 'loading', seconds: c.loadingSeconds }];

  for (const [name, groupUnits] of byModel(plan.units.filter(isTrained))) {
    const devPredPx = new Float32Array(dev.count * COORDINATES).fill(Number.NaN);
    const testPredPx = new Float32Array(data.test.count * COORDINATES).fill(Number.NaN);
    let trainSeconds = 0;
    for (const u of groupUnits) {
      const marker = await readDoneMarker(c.store, u.unit);
      units.push(UnitSummarySchema.parse(marker));
      trainSeconds += marker.trainSeconds;
      curves.push(await unitCurve(c.store, u.unit, marker.bestEpoch));
      const predicted = c.predictions.get(u.unit) ?? (await predictStored(c, u));
      scatterUnitColumns(devPredPx, predicted.devPredPx, u.columns);
      scatterUnitColumns(testPredPx, predicted.testPredPx, u.columns);
    }
    models.push({ name, devPredPx, testPredPx, trainSeconds });
    phases.push({ name, seconds: trainSeconds });
  }
  phases.push({ name: 'evaluation', seconds: (Date.now() - evalStart) / 1000 });

  const summary = await writeReport(
    c.store,
    {
      runId: c.settings.runId,
      preset: c.settings.preset,
      testTimeAugmentation: c.settings.testTimeAugmentation,
      backend: c.loaded.backend.name,
      gpuName: c.loaded.backend.gpuName,
      instanceType: c.instanceType,
      startedAt: c.startedAt,
      finishedAt: new Date(),
      phases,
      totalSeconds: phases.reduce((s, p) => s + p.seconds, 0),
      hourlyPriceUsd: c.hourlyPriceUsd ?? onDemandPrice(c.instanceType),
      trainRows: split.train.length,
      dev,
      test: data.test,
      lookup: data.lookup,
      models,
      units,
      curves,
    },
    c.written,
  );
  for (const m of summary.models) c.log(`${m.name.padEnd(22)} dev RMSE ${m.devRmsePx.toFixed(2)} px`);
  return summary;
}

/**
 * Model 0's dev RMSE in pixels, exactly as the report's summary gives it (null when the dev rows have no
 * label): known as soon as the data is loaded, so the run status carries it from the start.
 */
export function meanDevRmsePx(loaded: LoadedRun): number | null {
  const { rmsePx } = devErrors(loaded.dev.labelsPx, meanPredictions(loaded).devPredPx, loaded.dev.count);
  return Number.isFinite(rmsePx) ? rmsePx : null;
}

/** Model 0: the training mean of each coordinate, for every dev row and test image. */
function meanPredictions({ data, split, dev }: LoadedRun): ModelPredictions {
  const trainLabels = gatherLabels(data.training.labels, split.train);
  const means = meanModel(trainLabels, split.train.length);
  const repeat = (count: number) => {
    const out = new Float32Array(count * COORDINATES);
    for (let r = 0; r < count; r++) out.set(means, r * COORDINATES);
    return out;
  };
  return { name: 'mean', devPredPx: repeat(dev.count), testPredPx: repeat(data.test.count), trainSeconds: 0 };
}

function gatherLabels(labels: Float32Array, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * COORDINATES);
  rows.forEach((r, i) => {
    out.set(labels.subarray(r * COORDINATES, (r + 1) * COORDINATES), i * COORDINATES);
  });
  return out;
}

/** Trained units grouped by model, in plan order. */
function byModel(units: readonly TrainedUnit[]): Map<ModelName, TrainedUnit[]> {
  const groups = new Map<ModelName, TrainedUnit[]>();
  for (const u of units) groups.set(u.model, [...(groups.get(u.model) ?? []), u]);
  return groups;
}

async function unitCurve(store: Store, unit: string, bestEpoch: number): Promise<UnitCurve> {
  const history = await readMetrics(store, unit);
  return {
    unit,
    bestEpoch,
    points: history.map((h) => ({
      epoch: h.epoch,
      trainRmsePx: lossToRmsePx(h.trainLoss),
      devRmsePx: h.devRmsePx,
    })),
  };
}

/** A unit finished by an earlier attempt: its model is only in the store. */
async function predictStored(c: ReportContext, u: TrainedUnit): Promise<UnitPredictions> {
  const model: tf.LayersModel = await loadModel(c.store, u.unit);
  try {
    const { dev, data } = c.loaded;
    return {
      devPredPx: predictUnitPx(
        model,
        dev.pixels,
        dev.count,
        c.settings.batchSize,
        u,
        c.settings.testTimeAugmentation,
      ),
      testPredPx: predictUnitPx(
        model,
        data.test.pixels,
        data.test.count,
        c.settings.batchSize,
        u,
        c.settings.testTimeAugmentation,
      ),
    };
  } finally {
    model.dispose();
  }
}

function onDemandPrice(instanceType: string | null): number | null {
  return instanceType ? (ON_DEMAND_USD_PER_HOUR[instanceType] ?? null) : null;
}
