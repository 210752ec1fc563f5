import { type Column, formatDuration, renderTable } from '../../common/format';
import type { MissingMode, TrainConfig } from '../config';
import type { FaceSet } from '../data/dataset';
import { rowsWithAll, rowsWithAny } from '../data/split';
import { FLIP_PAIRS, KEYPOINT_COLUMNS, SPECIALISTS } from '../../contracts/keypoints';
import { SeedSource } from '../models/seed-source';
import { buildNetwork, countParams, type NetworkConfig, type NetworkKind } from '../models/ladder';
import { MODEL_NAMES, unitId, type ModelName } from '../../contracts/run-layout';
import type { Schedule } from '../train/schedule';
import type { SpeedProbe } from './estimate';
import { UsageError } from './usage-error';

interface UnitBase {
  /** `mean`, `baseline`, `specialists/nose-tip`, ... (folder name in the run layout). */
  unit: string;
  model: ModelName;
  /** Label columns it predicts, in output order. */
  columns: readonly string[];
  /** Index pairs into `columns` swapped by a horizontal flip. */
  flipPairs: ReadonlyArray<readonly [number, number]>;
  /** Training-set rows (original rows; augmented units train on their augmented copies too). */
  trainRows: Int32Array;
  /** Dev rows where all of `columns` are present (at least one for a unit with missing: 'mask'). */
  devRows: Int32Array;
  /** Images per epoch: trainRows, times (1 + augmentations) for `specialists-augmented`. */
  trainImages: number;
  params: number;
  /** Training time on this backend: measured images/s x images x epochs; null when not estimated. */
  estimatedSeconds: number | null;
}

/** The mean reference: computed from the training labels, never trained, never done ahead. */
export interface ComputedUnit extends UnitBase {
  kind: 'computed';
  network: null;
  maxEpochs: 0;
  initFromBaseline: false;
  done: false;
}

/** A whole network or one specialist. */
export interface TrainedUnit extends UnitBase {
  kind: 'trained';
  network: NetworkKind;
  schedule: Schedule;
  /** 'mask': rows with at least one of `columns` train it, missing labels left out of the loss. */
  missing: MissingMode;
  maxEpochs: number;
  /** Initialise from the trained baseline (all layers but the output). */
  initFromBaseline: boolean;
  /** Finished by an earlier attempt of this run (its done marker exists): never retrained. */
  done: boolean;
}

/** One step of a run: the mean reference, a whole network, or one specialist. */
export type PlannedUnit = ComputedUnit | TrainedUnit;

export const isTrained = (u: PlannedUnit): u is TrainedUnit => u.kind === 'trained';

/** The settings planning reads. */
export type PlanSettings = NetworkConfig &
  Pick<
    TrainConfig,
    | 'models'
    | 'specialistsFromBaseline'
    | 'augmentations'
    | 'specialistEpochBudget'
    | 'mlp'
    | 'cnn'
    | 'baseline'
    | 'specialists'
  >;

export interface RunPlan {
  units: PlannedUnit[];
  /** Images per second measured per network kind on this backend. */
  imagesPerSecond: Partial<Record<NetworkKind, number>>;
}

export interface PlanInputs {
  config: PlanSettings;
  training: FaceSet;
  split: { train: Int32Array; dev: Int32Array };
  /** Whether the unit's done marker exists in the run store. */
  isDone: (unit: string) => Promise<boolean>;
  /** Measures training speed; without it no time is estimated. */
  probe?: SpeedProbe;
}

/** The models of the ladder in the order they train (specialists need the baseline first): MODEL_NAMES's order. */
export const LADDER_ORDER: readonly ModelName[] = MODEL_NAMES;

/**
 * The ordered units of a run: `mean` always (the reference line), then the requested models in ladder
 * order. Specialists that start from the baseline need it trained in this run or finished earlier.
 */
export async function planRun(inputs: PlanInputs): Promise<RunPlan> {
  const { config, training, split } = inputs;
  const requested = new Set<ModelName>(['mean', ...config.models]);
  await checkBaselineAvailable(config, requested, inputs.isDone);

  const units: PlannedUnit[] = [];
  const problems: string[] = [];
  const paramsCache = new Map<string, number>();
  const imagesPerSecond: RunPlan['imagesPerSecond'] = {};
  const augmentFactor = 1 + config.augmentations.length;

  const rowsOf = (unit: string, columns: readonly string[], missing: MissingMode) => {
    const trainRows = unitRows(training, split.train, columns, missing);
    const devRows = unitRows(training, split.dev, columns, missing);
    if (trainRows.length === 0 || devRows.length === 0) {
      problems.push(
        `${unit}: expected train and dev rows where ${missing === 'mask' ? 'at least one' : 'all'} of its ${columns.length} columns ${missing === 'mask' ? 'is' : 'are'} present, ` +
          `found ${trainRows.length} train and ${devRows.length} dev rows (use more data, or fewer --set maxRows)`,
      );
    }
    return { trainRows, devRows };
  };

  const addTrained = async (
    model: Exclude<ModelName, 'mean'>,
    network: NetworkKind,
    columns: readonly string[],
    flipPairs: ReadonlyArray<readonly [number, number]>,
    specialist?: string,
  ): Promise<void> => {
    const unit = unitId(model, specialist);
    const missing = missingOf(config, model);
    const { trainRows, devRows } = rowsOf(unit, columns, missing);
    const trainImages =
      model === 'specialists-augmented' ? trainRows.length * augmentFactor : trainRows.length;
    const schedule = scheduleOf(config, model);
    // The tutorial's epoch budget: small specialists see more epochs, so every one trains about as many steps.
    const budget = Math.round(config.specialistEpochBudget / Math.max(1, trainImages));
    const maxEpochs = specialist ? Math.max(1, Math.min(schedule.maxEpochs, budget)) : schedule.maxEpochs;
    let estimatedSeconds: number | null = null;
    if (inputs.probe) {
      const ips = await inputs.probe(network, columns.length);
      imagesPerSecond[network] = ips;
      // Dev evaluation is a forward pass only, about a third of a training step per image.
      estimatedSeconds = (maxEpochs * (trainImages + devRows.length / 3)) / ips;
    }
    units.push({
      kind: 'trained',
      unit,
      model,
      network,
      columns,
      flipPairs,
      trainRows,
      devRows,
      trainImages,
      schedule: { ...schedule, maxEpochs },
      missing,
      maxEpochs,
      params: paramsOf(network, columns.length, config, paramsCache),
      initFromBaseline: specialist !== undefined && config.specialistsFromBaseline,
      done: await inputs.isDone(unit),
      estimatedSeconds,
    });
  };

  for (const model of LADDER_ORDER) {
    if (!requested.has(model)) continue;
    if (model === 'mean') units.push(meanUnit(split));
    else if (model === 'mlp' || model === 'cnn' || model === 'baseline')
      await addTrained(model, model, KEYPOINT_COLUMNS, FLIP_PAIRS);
    else for (const s of SPECIALISTS) await addTrained(model, 'baseline', s.columns, s.flipPairs, s.name);
  }
  if (problems.length > 0) throw new UsageError(`cannot plan the run:\n  ${problems.join('\n  ')}`);
  return { units, imagesPerSecond };
}

/** Specialists that start from the baseline need it trained in this run or finished by an earlier attempt. */
async function checkBaselineAvailable(
  config: Pick<PlanSettings, 'models' | 'specialistsFromBaseline'>,
  requested: ReadonlySet<ModelName>,
  isDone: PlanInputs['isDone'],
): Promise<void> {
  const wantsSpecialists = requested.has('specialists') || requested.has('specialists-augmented');
  if (!wantsSpecialists || !config.specialistsFromBaseline || requested.has('baseline')) return;
  if (await isDone('baseline')) return;
  throw new UsageError(
    `--models ${config.models.join(',')}: the specialists start from the trained baseline, but this run has none ` +
      `(${unitId('baseline')} is not requested and models/baseline/done.json is not in the run); ` +
      'add baseline to --models, resume a run whose baseline is done, or --set specialistsFromBaseline=false',
  );
}

/** The mean is taken per column over every row that has it, and judged on every dev label. */
function meanUnit(split: PlanInputs['split']): ComputedUnit {
  return {
    kind: 'computed',
    unit: unitId('mean'),
    model: 'mean',
    network: null,
    columns: KEYPOINT_COLUMNS,
    flipPairs: [],
    trainRows: split.train,
    devRows: split.dev,
    trainImages: split.train.length,
    maxEpochs: 0,
    params: KEYPOINT_COLUMNS.length,
    initFromBaseline: false,
    done: false,
    estimatedSeconds: 0,
  };
}

/**
 * The rows of `rows` that train (or judge) a unit predicting `columns`: all of them present under 'drop',
 * at least one under 'mask'.
 */
export function unitRows(
  set: FaceSet,
  rows: Int32Array,
  columns: readonly string[],
  missing: MissingMode,
): Int32Array {
  return missing === 'mask' ? rowsWithAny(set, rows, columns) : rowsWithAll(set, rows, columns);
}

/** Only the baseline and the specialists have the setting; Models 1 and 2 train on complete rows, as the seed's. */
function missingOf(config: PlanSettings, model: ModelName): MissingMode {
  if (model === 'baseline') return config.baseline.missing;
  if (model === 'specialists' || model === 'specialists-augmented') return config.specialists.missing;
  return 'drop';
}

function scheduleOf(config: PlanSettings, model: ModelName): Schedule {
  switch (model) {
    case 'mlp':
      return config.mlp;
    case 'cnn':
      return config.cnn;
    case 'baseline':
      return config.baseline;
    default:
      return config.specialists;
  }
}

function paramsOf(
  kind: NetworkKind,
  outputs: number,
  config: NetworkConfig,
  cache: Map<string, number>,
): number {
  const key = `${kind}/${outputs}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const model = buildNetwork(kind, outputs, config, new SeedSource(0));
  const n = countParams(model);
  model.dispose();
  cache.set(key, n);
  return n;
}

/** A fixed-width table of the plan for the terminal (dry run and the start of a run). */
export function formatPlan(plan: RunPlan, backend: string): string {
  const rows = plan.units.map((u) => [
    u.unit,
    u.network ?? 'computed',
    String(u.trainImages),
    String(u.devRows.length),
    u.params.toLocaleString('en-US'),
    u.network === null ? '-' : String(u.maxEpochs),
    u.done ? 'done' : u.estimatedSeconds === null ? '?' : formatDuration(u.estimatedSeconds),
  ]);
  const columns: Column[] = [
    { header: 'unit' },
    { header: 'network' },
    { header: 'train images', right: true },
    { header: 'dev rows', right: true },
    { header: 'params', right: true },
    { header: 'max epochs', right: true },
    { header: 'estimated time', right: true },
  ];
  const total = plan.units.filter((u) => !u.done).reduce((s, u) => s + (u.estimatedSeconds ?? 0), 0);
  const speed = Object.entries(plan.imagesPerSecond)
    .map(([k, v]) => `${k} ${v.toFixed(1)} img/s`)
    .join(', ');
  return [
    renderTable(columns, rows),
    '',
    `estimated training time on ${backend}: ${formatDuration(total)} at most (early stopping can end units sooner)` +
      (speed ? `; measured ${speed}` : ''),
  ].join('\n');
}
