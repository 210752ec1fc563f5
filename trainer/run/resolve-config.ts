import { BACKENDS, TrainConfigSchema, type BackendName, type TrainConfig } from '../config';
import { PRESETS, type PresetName } from '../../contracts/presets';
import { presetConfig, type PresetSettings } from '../presets';
import { MODEL_NAMES, defaultRunId, type ModelName } from '../../contracts/run-layout';
import { UsageError } from './usage-error';

/** The plan the product promises for a cloud run: the baseline, then the six specialists (and the report). */
export const DEFAULT_MODELS: readonly ModelName[] = ['baseline', 'specialists'];

/** `--models all`: the whole ladder of the seed. */
const ALL_MODELS: readonly ModelName[] = MODEL_NAMES.filter((m) => m !== 'mean');

/** Options of `facepoints train` as commander hands them over (strings, before validation). */
export interface TrainCliOptions {
  data?: string;
  out?: string;
  run?: string;
  preset?: string;
  models?: string;
  backend?: string;
  requireGpu?: boolean;
  workers?: string;
  dryRun?: boolean;
  seed?: string;
  /** Repeated `--set KEY=VALUE` overrides of any preset setting. */
  set?: string[];
}

/**
 * Turn command-line options into a validated TrainConfig: preset settings, then flags, then `--set`
 * overrides, then the schema. Every problem found is collected and reported at once (UsageError), before
 * anything is read or written.
 */
export function resolveTrainConfig(opts: TrainCliOptions, now: Date = new Date()): TrainConfig {
  const errors: string[] = [];
  const preset = (opts.preset ?? 'seed') as PresetName;
  if (!PRESETS.includes(preset))
    errors.push(`--preset: expected one of ${PRESETS.join(', ')}, found "${opts.preset}"`);
  const settings = presetConfig(PRESETS.includes(preset) ? preset : 'seed');

  if (!opts.data)
    errors.push(
      '--data: expected a folder or s3://BUCKET/PREFIX holding training.csv, test.csv and IdLookupTable.csv, found nothing',
    );
  if (!opts.out) errors.push('--out: expected file://DIR or s3://BUCKET/PREFIX, found nothing');
  if (opts.backend !== undefined && !BACKENDS.includes(opts.backend as BackendName)) {
    errors.push(`--backend: expected one of ${BACKENDS.join(', ')}, found "${opts.backend}"`);
  }
  const models = parseModels(opts.models, errors);
  let workers = 0;
  if (opts.workers !== undefined) {
    const n = parseNumber(opts.workers);
    if (n === null || !Number.isInteger(n) || n < 0 || n > 16)
      errors.push(`--workers: expected an integer from 0 (automatic) to 16, found "${opts.workers}"`);
    else workers = n;
  }
  if (opts.seed !== undefined) {
    const seed = parseNumber(opts.seed);
    if (seed === null) errors.push(`--seed: expected a non-negative integer, found "${opts.seed}"`);
    else settings.seed = seed;
  }
  for (const assignment of opts.set ?? []) applySetting(settings, assignment, errors);

  const candidate = {
    ...settings,
    runId: opts.run ?? defaultRunId(now),
    preset,
    data: opts.data ?? '',
    out: opts.out ?? '',
    models,
    backend: opts.backend,
    requireGpu: opts.requireGpu ?? false,
    workers,
    dryRun: opts.dryRun ?? false,
  };
  if (errors.length > 0) throw new UsageError(formatErrors(errors));
  const parsed = TrainConfigSchema.safeParse(candidate);
  if (!parsed.success) {
    throw new UsageError(formatErrors(parsed.error.issues.map((i) => `${optionName(i.path)}: ${i.message}`)));
  }
  return parsed.data;
}

/** Setting keys `--set` accepts: every leaf of the preset settings, in dotted form (`baseline.maxEpochs`). */
export function settingKeys(settings: PresetSettings = presetConfig('seed')): string[] {
  const keys: string[] = [];
  const walk = (value: unknown, prefix: string): void => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, prefix ? `${prefix}.${k}` : k);
    } else {
      keys.push(prefix);
    }
  };
  walk(settings, '');
  return keys;
}

function parseModels(text: string | undefined, errors: string[]): ModelName[] {
  if (text === undefined) return [...DEFAULT_MODELS];
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) {
    errors.push(
      `--models: expected a comma-separated list of ${ALL_MODELS.join(', ')} (or all), found "${text}"`,
    );
    return [...DEFAULT_MODELS];
  }
  const out: ModelName[] = [];
  for (const name of names) {
    if (name === 'all') out.push(...ALL_MODELS);
    else if ((MODEL_NAMES as readonly string[]).includes(name)) out.push(name as ModelName);
    else errors.push(`--models: unknown model "${name}"; expected some of ${ALL_MODELS.join(', ')} (or all)`);
  }
  return [...new Set(out)];
}

/**
 * Apply one `KEY=VALUE`. Values are coerced by the type of the preset's value at that key: numbers must
 * parse completely, booleans are exactly true/false (a string "false" must not switch a feature on),
 * lists are comma-separated or JSON arrays.
 */
function applySetting(settings: PresetSettings, assignment: string, errors: string[]): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) {
    errors.push(`--set: expected KEY=VALUE (e.g. --set baseline.maxEpochs=50), found "${assignment}"`);
    return;
  }
  const key = assignment.slice(0, eq).trim();
  const raw = assignment.slice(eq + 1).trim();
  const path = key.split('.');
  const leaf = path.at(-1) ?? key;
  let parent: Record<string, unknown> = settings as unknown as Record<string, unknown>;
  for (const part of path.slice(0, -1)) {
    const next = parent[part];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) {
      parent = {};
      break;
    }
    parent = next as Record<string, unknown>;
  }
  const current = Object.hasOwn(parent, leaf) ? parent[leaf] : undefined;
  if (current === undefined || (current !== null && typeof current === 'object' && !Array.isArray(current))) {
    errors.push(`--set ${assignment}: unknown key "${key}"; valid keys: ${settingKeys().join(', ')}`);
    return;
  }
  const value = coerce(current, raw);
  if (value === undefined) {
    errors.push(`--set ${assignment}: expected ${describe(current)}, found "${raw}"`);
    return;
  }
  parent[leaf] = value;
}

function coerce(current: unknown, raw: string): unknown {
  if (typeof current === 'number') return parseNumber(raw) ?? undefined;
  if (typeof current === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : undefined;
  if (typeof current === 'string') return raw;
  if (Array.isArray(current)) {
    let items: unknown[];
    if (raw.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(raw);
        if (!Array.isArray(parsed)) return undefined;
        items = parsed;
      } catch {
        return undefined;
      }
    } else {
      items = raw === '' ? [] : raw.split(',').map((s) => s.trim());
    }
    const numeric = current.length > 0 && typeof current[0] === 'number';
    const coerced = items.map((item) =>
      numeric ? (typeof item === 'number' ? item : parseNumber(String(item))) : String(item),
    );
    return coerced.some((v) => v === null) ? undefined : coerced;
  }
  return undefined;
}

function describe(current: unknown): string {
  if (typeof current === 'number') return 'a number';
  if (typeof current === 'boolean') return 'true or false';
  if (Array.isArray(current)) {
    return current.length > 0 && typeof current[0] === 'number'
      ? 'a comma-separated list of numbers'
      : 'a comma-separated list';
  }
  return 'a value';
}

/** A number written in full (Number('') is 0 and parseFloat('3abc') is 3: neither is what the user meant). */
function parseNumber(text: string): number | null {
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text.trim().replace(/_/g, ''))) return null;
  return Number(text.trim().replace(/_/g, ''));
}

/** Name a schema path as the user wrote it: flags for the identity options, `--set key` for settings. */
function optionName(path: ReadonlyArray<PropertyKey>): string {
  const key = path.map(String).join('.');
  const flags: Record<string, string> = {
    runId: '--run',
    data: '--data',
    out: '--out',
    preset: '--preset',
    models: '--models',
    backend: '--backend',
    requireGpu: '--require-gpu',
    workers: '--workers',
    dryRun: '--dry-run',
    seed: '--seed',
  };
  const top = String(path[0]);
  if (flags[top]) return flags[top];
  return `--set ${key}`;
}

function formatErrors(errors: string[]): string {
  return errors.length === 1 ? `invalid options: ${errors[0]}` : `invalid options:\n  ${errors.join('\n  ')}`;
}

/** The machine a run is on, as the trainer image's environment describes it. */
export interface MachineSettings {
  /** EC2 instance type (FACEPOINTS_INSTANCE_TYPE), for the status and the cost; null on a laptop. */
  instanceType: string | null;
  /** Price per hour (FACEPOINTS_HOURLY_PRICE_USD, e.g. a spot price); null: the on-demand price of the type. */
  hourlyPriceUsd: number | null;
}

/** Read the machine settings from the environment; an unset, empty or non-positive price counts as none. */
export function resolveMachine(env: NodeJS.ProcessEnv = process.env): MachineSettings {
  const price = Number(env.FACEPOINTS_HOURLY_PRICE_USD);
  return {
    instanceType: env.FACEPOINTS_INSTANCE_TYPE || null,
    hourlyPriceUsd: Number.isFinite(price) && price > 0 ? price : null,
  };
}
