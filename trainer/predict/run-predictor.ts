import type * as tf from '@tensorflow/tfjs';
import * as path from 'node:path';
import {
  COORDINATES,
  FLIP_PAIRS,
  IMAGE_SIZE,
  KEYPOINT_COLUMNS,
  SPECIALISTS,
} from '../../contracts/keypoints';
import { runLayout, unitId } from '../../contracts/run-layout';
import { loadModel, loadModelFrom } from '../run/model-io';
import { openStore } from '../storage/open-store';
import { scatterUnitColumns } from '../run/unit-data';
import type { Store } from '../storage/store';
import type { TestTimeAugmentation } from '../config';
import { readStoredConfig } from '../run/config-file';
import { predictUnitPx } from './test-time-views';

/** Whole-face models that fill the columns no specialist covers, best first (the report's ladder). */
const FILLERS = ['baseline', 'cnn', 'mlp'] as const;

/** The file that makes a folder a saved model (trainer/run/model-io.ts writes it). */
const MODEL_JSON = 'model.json';

interface LoadedUnit extends UnitLabels {
  unit: string;
  model: tf.LayersModel;
}

interface UnitLabels {
  columns: readonly string[];
  /** Left/right partners among `columns`, for the mirrored views. */
  flipPairs: ReadonlyArray<readonly [number, number]>;
}

export interface RunPredictor {
  /** Units in use, in merge order. */
  units: readonly string[];
  /** The views each unit predicts in (the run's setting unless given). */
  testTimeAugmentation: TestTimeAugmentation;
  /** count images of 96x96 -> count * 30 coordinates in the input's pixels. */
  predict(pixels: Uint8Array, count: number, batchSize: number): Float32Array;
  dispose(): void;
}

/** Columns a unit predicts, from its id. */
export function unitColumns(unit: string): readonly string[] {
  return unitLabels(unit).columns;
}

function unitLabels(unit: string): UnitLabels {
  const [, specialist] = unit.split('/');
  if (specialist === undefined) return { columns: KEYPOINT_COLUMNS, flipPairs: FLIP_PAIRS };
  const s = SPECIALISTS.find((x) => x.name === specialist);
  if (!s)
    throw new Error(`unit "${unit}": expected a specialist of ${SPECIALISTS.map((x) => x.name).join(', ')}`);
  return { columns: s.columns, flipPairs: s.flipPairs };
}

const isDone = async (store: Store, unit: string) => (await store.get(runLayout.unitDone(unit))) !== null;

/**
 * The units predict merges, as the report does: the finished specialists, then the first finished whole-face
 * model fills every column they leave; `model` picks one unit instead.
 */
export async function chooseUnits(store: Store, model?: string): Promise<string[]> {
  if (model !== undefined) {
    if (!(await isDone(store, model)))
      throw new Error(
        `--model ${model}: expected a finished unit at ${runLayout.unitDone(model)} in ${store.url}, found none`,
      );
    return [model];
  }
  const units: string[] = [];
  for (const s of SPECIALISTS) {
    const u = unitId('specialists', s.name);
    if (await isDone(store, u)) units.push(u);
  }
  const covered = new Set(units.flatMap(unitColumns));
  if (covered.size < COORDINATES) {
    for (const f of FILLERS) {
      if (await isDone(store, f)) {
        units.unshift(f);
        return units;
      }
    }
    throw new Error(
      `expected finished models in ${store.url} (a ${runLayout.unitDone('baseline')} or all six specialists), ` +
        `found ${units.length === 0 ? 'none' : units.join(', ')}`,
    );
  }
  return units;
}

function checkShape(model: tf.LayersModel, unit: string, columns: readonly string[], where: string): void {
  const input = model.inputs[0]?.shape ?? [];
  const output = model.outputs[0]?.shape ?? [];
  const wantIn = [null, IMAGE_SIZE, IMAGE_SIZE, 1];
  if (input.length !== 4 || input.some((d, i) => d !== wantIn[i]) || output.at(-1) !== columns.length)
    throw new Error(
      `${where}: expected a network of ${unit} taking [null,${IMAGE_SIZE},${IMAGE_SIZE},1] and giving ${columns.length} outputs, ` +
        `found input ${JSON.stringify(input)} and output ${JSON.stringify(output)}`,
    );
}

interface UnitSource {
  unit: string;
  /** The model.json, for messages. */
  where: string;
  load(): Promise<tf.LayersModel>;
}

/** A run given as a plain folder is a file:// store. */
export const storeUrl = (location: string) =>
  /^(file|s3):\/\//.test(location) ? location : `file://${path.resolve(location)}`;

/**
 * The unit a model folder holds, from its path: what follows `models/` (`runs/x/models/specialists/nose-tip`),
 * else a specialist's name (`nose-tip/`) or, for any other name, a whole-face model.
 */
export function modelFolderUnit(url: string): string {
  const inRun = splitAtModels(url);
  if (inRun) return inRun.unit;
  const name = url.replace(/\/+$/, '').split('/').at(-1) ?? '';
  return SPECIALISTS.some((s) => s.name === name) ? unitId('specialists', name) : name;
}

/** `<run>/models/<unit>` split into the run and the unit, or null for a folder outside a run's models/. */
function splitAtModels(url: string): { run: string; unit: string } | null {
  const parts = url.replace(/\/+$/, '').split('/');
  const at = parts.lastIndexOf('models');
  if (at < 0 || at >= parts.length - 1) return null;
  return { run: parts.slice(0, at).join('/'), unit: parts.slice(at + 1).join('/') };
}

/**
 * Load what `location` holds: one model folder (it has a model.json) or a run, whose units are merged as
 * in the report (`model` picks one). Each network is checked against the input size and its unit's columns.
 * The units predict in the views of `testTime`, by default the run's `testTimeAugmentation` (a model folder
 * outside a run: one view).
 */
export async function openPredictor(
  location: string,
  model?: string,
  testTime?: TestTimeAugmentation,
): Promise<RunPredictor> {
  const url = storeUrl(location);
  const store = openStore(url);
  let sources: UnitSource[];
  const isModelFolder = (await store.get(MODEL_JSON)) !== null;
  const runRoot = isModelFolder ? (splitAtModels(url)?.run ?? null) : url;
  const views =
    testTime ?? (runRoot ? (await readStoredConfig(openStore(runRoot)))?.testTimeAugmentation : undefined);
  if (isModelFolder) {
    if (model !== undefined)
      throw new Error(
        `--model ${model}: expected --run to be a run folder, found the model folder ${url} (it holds one unit)`,
      );
    const unit = modelFolderUnit(url);
    sources = [{ unit, where: `${url}/${MODEL_JSON}`, load: () => loadModelFrom(store, '', url) }];
  } else {
    sources = (await chooseUnits(store, model)).map((unit) => ({
      unit,
      where: `${store.url}/${runLayout.modelJson(unit)}`,
      load: () => loadModel(store, unit),
    }));
  }
  return openUnits(sources, views ?? 'none');
}

async function openUnits(
  sources: readonly UnitSource[],
  testTimeAugmentation: TestTimeAugmentation,
): Promise<RunPredictor> {
  const loaded: LoadedUnit[] = [];
  try {
    for (const { unit, where, load } of sources) {
      const labels = unitLabels(unit);
      const m = await load();
      loaded.push({ unit, ...labels, model: m });
      checkShape(m, unit, labels.columns, where);
    }
  } catch (err) {
    for (const l of loaded) l.model.dispose();
    throw err;
  }
  return {
    units: loaded.map((l) => l.unit),
    testTimeAugmentation,
    predict(pixels, count, batchSize) {
      const out = new Float32Array(count * COORDINATES).fill(Number.NaN);
      // Later units overwrite earlier ones: the filler goes first, the specialists over it.
      for (const l of loaded) {
        const unitPx = predictUnitPx(l.model, pixels, count, batchSize, l, testTimeAugmentation);
        scatterUnitColumns(out, unitPx, l.columns);
      }
      return out;
    },
    dispose() {
      for (const l of loaded) l.model.dispose();
    },
  };
}
