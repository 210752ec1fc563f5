import type { TrainConfig } from '../config';
import { selectBackend, type SelectedBackend } from '../backend/select-backend';
import { DataError } from '../data/dataset';
import { loadKaggleDir, type KaggleData } from '../data/kaggle-csv';
import { splitTrainDev } from '../data/split';
import { runLayout } from '../../contracts/run-layout';
import type { Store } from '../storage/store';
import { chooseWorkers } from '../train/step-engine';
import { probeBatches, speedProbe } from './estimate';
import { planRun, type PlanSettings, type RunPlan } from './plan';
import type { RunServices } from './run-services';
import { gatherAllColumns, gatherUnitRows } from './unit-data';
import { UsageError } from './usage-error';

/** The settings loading and planning read. */
export type LoadSettings = PlanSettings &
  Pick<
    TrainConfig,
    'data' | 'maxRows' | 'backend' | 'requireGpu' | 'devFraction' | 'seed' | 'workers' | 'batchSize'
  >;

/** Images and all 30 label columns (NaN where missing) of the dev rows, with their row numbers. */
export type DevSet = ReturnType<typeof gatherAllColumns> & { rows: Int32Array };

export interface LoadedRun {
  data: KaggleData;
  split: { train: Int32Array; dev: Int32Array };
  /** Every dev row, as the report evaluates each model on it. */
  dev: DevSet;
  backend: SelectedBackend;
  /** Gradient worker threads of every unit (chooseWorkers). */
  workers: number;
  plan: RunPlan;
}

/** Read and check the data, pick the backend and the workers, measure the speed and plan the units. */
export async function loadAndPlan(
  settings: LoadSettings,
  store: Store,
  services: Pick<RunServices, 'resolveDataDir'>,
  cacheDir: string,
  log: (line: string) => void,
  /** Time training steps for the plan's estimates; the report trains nothing and skips it. @default true */
  opts: { measureSpeed?: boolean } = {},
): Promise<LoadedRun> {
  const started = Date.now();
  const data = await asUsageErrorForLocalData(settings.data, async () => {
    const dataDir = await services.resolveDataDir(settings.data, cacheDir, log);
    return {
      dir: dataDir,
      ...(await loadKaggleDir(dataDir, { maxRows: settings.maxRows > 0 ? settings.maxRows : undefined })),
    };
  });
  log(
    `data: ${data.training.count} training rows, ${data.test.count} test images, ${data.lookup.length} lookup rows ` +
      `from ${data.dir} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  const backend = await selectBackend({ backend: settings.backend, requireGpu: settings.requireGpu, log });
  const split = splitTrainDev(data.training, settings.devFraction, settings.seed);
  log(`split: ${split.train.length} train rows, ${split.dev.length} dev rows (seed ${settings.seed})`);
  const { batchSize } = settings;
  const workers = asUsageError(() => chooseWorkers(settings.workers, backend.name, batchSize));
  log(
    `training: ${workers === 1 ? 'in this thread' : `${workers} gradient worker threads`} (${backend.name}, batch ${batchSize})`,
  );
  const sample = gatherUnitRows(
    data.training,
    split.train.subarray(0, probeBatches(batchSize) * batchSize),
    [],
  );
  const plan = await planRun({
    config: settings,
    training: data.training,
    split,
    isDone: async (unit) => (await store.get(runLayout.unitDone(unit))) !== null,
    probe:
      opts.measureSpeed === false
        ? undefined
        : speedProbe(settings, sample, { workers, backend: backend.name }),
  });
  const dev = { ...gatherAllColumns(data.training, split.dev), rows: split.dev };
  return { data, split, dev, backend, workers, plan };
}

/**
 * A local data folder that is missing or lacks a Kaggle file is the user's to fix (exit 64, no retry);
 * a download from S3 can fail for reasons a retry cures, so its errors pass unchanged.
 */
async function asUsageErrorForLocalData<T>(data: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (data.startsWith('s3://') || err instanceof DataError || !(err instanceof Error)) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== undefined && code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
    throw new UsageError(err.message);
  }
}

function asUsageError<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}
