import { z } from 'zod';
import { DEFAULT_INSTANCE_TYPE, SUPPORTED_INSTANCE_TYPES, launchInstanceTypes } from './instance-prices';
import { SPECIALISTS } from './keypoints';
import { PRESETS } from './presets';
import { DATA_FILES, RUN_ID_PATTERN, defaultRunId } from './run-layout';

/**
 * The deploy's settings, read from CDK context (`-c key=value` or cdk.json) and validated once before any
 * construct exists. Context given on the command line arrives as strings, so booleans and numbers are
 * coerced explicitly: the string "false" must not switch a feature on.
 */

/** Context keys the app reads, in the order their problems are reported. */
export const DEPLOY_CONTEXT_KEYS = [
  'allowedCidr',
  'allowAnyIp',
  'instanceType',
  'spot',
  'maxHours',
  'maxAttempts',
  'budgetUsd',
  'budgetScope',
  'alertEmail',
  'keyPairName',
  'dataDir',
  'runId',
  'preset',
  'jupyter',
  'engine',
  'maxParallel',
  'instanceTypes',
] as const;

export const BUDGET_SCOPES = ['project', 'account'] as const;

/**
 * What runs the training: `instance`, one self-terminating GPU instance that trains every unit in turn;
 * `batch`, AWS Batch jobs orchestrated by Step Functions, the six specialists in parallel.
 */
export const ENGINES = ['instance', 'batch'] as const;

/** More parallel jobs than specialists cannot shorten the run. */
export const MAX_PARALLEL_LIMIT = SPECIALISTS.length;
/** Two single-GPU xlarge instances fit the 8 vCPUs of a common default G-instance quota. */
export const DEFAULT_MAX_PARALLEL = 2;

const IPV4_CIDR =
  /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\/(3[0-2]|[12]?\d)$/;
const IPV6_CIDR = /^[0-9A-Fa-f:]*:[0-9A-Fa-f:]*\/(12[0-8]|1[01]\d|[1-9]?\d)$/;
const WORLD_CIDRS = ['0.0.0.0/0', '::/0'];
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const KEY_PAIR_NAME = /^[\x20-\x7E]{1,255}$/;

function show(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : JSON.stringify(value);
}

/** A context flag: a real boolean from cdk.json, or the strings "true"/"false" from `-c`. */
function flag(defaultValue: boolean) {
  return z
    .union([z.boolean(), z.enum(['true', 'false'])], {
      error: (issue) => `expected true or false, found ${show(issue.input)}`,
    })
    .optional()
    .transform((v) => (v === undefined ? defaultValue : v === true || v === 'true'));
}

/** A context number: a real number from cdk.json, or a decimal string from `-c`. */
function numberIn<D extends number | undefined>(
  min: number,
  max: number,
  what: string,
  defaultValue: D,
  integer = false,
) {
  const expected = `expected ${integer ? 'a whole number' : 'a number'} of ${what} from ${min} to ${max}`;
  return z.unknown().transform((v, ctx): number | D => {
    if (v === undefined || v === '') return defaultValue;
    const n =
      typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : NaN;
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      ctx.addIssue({ code: 'custom', message: `${expected}, found ${show(v)}` });
      return z.NEVER;
    }
    return n;
  });
}

/** A context list: a JSON array from cdk.json, or comma-separated text from `-c`. */
function optionalList() {
  return z
    .union([z.string(), z.array(z.string())], {
      error: (issue) => `expected a comma-separated list, found ${show(issue.input)}`,
    })
    .optional()
    .transform((v) => {
      const items = (typeof v === 'string' ? v.split(',') : (v ?? [])).map((i) => i.trim()).filter(Boolean);
      return items.length === 0 ? undefined : [...new Set(items)];
    });
}

function optionalText() {
  return z
    .string({ error: (issue) => `expected text, found ${show(issue.input)}` })
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
}

/** One schema per context key, so that a bad value in one key never hides the problems of the others. */
const FIELD_SCHEMAS = {
  /** The only source allowed on SSH (22) and Jupyter (8888). @default none: no inbound rules, use SSM Session Manager */
  allowedCidr: optionalText(),
  /** Accept 0.0.0.0/0 or ::/0 as allowedCidr. @default false */
  allowAnyIp: flag(false),
  /** GPU instance type. @default g4dn.xlarge */
  instanceType: optionalText().transform((v) => v ?? DEFAULT_INSTANCE_TYPE),
  /** Run on a one-time spot instance. @default false */
  spot: flag(false),
  /** Hard cap on the instance's life in hours, counted from its first boot. @default 12 */
  maxHours: numberIn(0.25, 168, 'hours', 12),
  /** Trainer runs that may fail before the instance gives up and powers off. @default 3 */
  maxAttempts: numberIn(1, 10, 'attempts', 3, true),
  /** Monthly AWS Budget in USD; 0 deploys no budget and no budget action. @default 50 */
  budgetUsd: numberIn(0, 100000, 'US dollars', 50),
  /**
   * What the budget counts: the whole account, or only resources tagged Project=facepoints (which needs the
   * tag activated for cost allocation first, and activation is not retroactive). @default account
   */
  budgetScope: optionalText().transform((v) => v ?? 'account'),
  /** Address for budget alerts; required when budgetUsd > 0. @default none */
  alertEmail: optionalText(),
  /** EC2 key pair for SSH. @default none: connect with SSM Session Manager */
  keyPairName: optionalText(),
  /** Local folder with the Kaggle files, uploaded to the bucket's data prefix. @default none: the data is already there */
  dataDir: optionalText(),
  /** Run id; re-deploying the same id resumes that run. @default the deploy's UTC time, YYYYMMDD-HHMMSS */
  runId: optionalText(),
  /** Trainer preset. @default seed */
  preset: optionalText().transform((v) => v ?? 'seed'),
  /** Also run JupyterLab on port 8888 with the run directory mounted read-only. @default false */
  jupyter: flag(false),
  /** `instance` or `batch` (see ENGINES). @default instance */
  engine: optionalText().transform((v) => v ?? 'instance'),
  /** engine=batch only: specialist jobs that run at the same time, each on its own GPU instance. @default 2 */
  maxParallel: numberIn(1, MAX_PARALLEL_LIMIT, 'jobs', undefined, true),
  /**
   * engine=batch only: the instance types Batch may launch, several so that capacity can be found.
   * @default instanceType, and with spot=true its two larger sizes
   */
  instanceTypes: optionalList(),
} satisfies Record<(typeof DEPLOY_CONTEXT_KEYS)[number], z.ZodType>;

type ParsedFields = { [K in keyof typeof FIELD_SCHEMAS]: z.output<(typeof FIELD_SCHEMAS)[K]> };

/** Checks that look at one value in the light of others (or of the file system). */
/**
 * The local folder `dataDir` names, as the caller's file system sees it: the CDK app and
 * `facepoints preflight` both pass their node:fs view, and this module stays free of I/O.
 */
export interface DataFolders {
  /** The absolute path of `dir`, relative paths taken from the working directory. */
  resolve(dir: string): string;
  /** The names of the files directly in the folder `dir`, or null when there is no folder there. */
  filesIn(dir: string): readonly string[] | null;
}

function checkValues(
  c: ParsedFields,
  folders: DataFolders,
  valid: (key: string) => boolean,
  problem: (key: string, message: string) => void,
): void {
  if (valid('allowedCidr') && c.allowedCidr !== undefined) {
    if (!IPV4_CIDR.test(c.allowedCidr) && !IPV6_CIDR.test(c.allowedCidr)) {
      problem(
        'allowedCidr',
        `expected an IPv4 or IPv6 CIDR such as 203.0.113.7/32, found ${show(c.allowedCidr)}`,
      );
    } else if (WORLD_CIDRS.includes(c.allowedCidr) && !c.allowAnyIp) {
      problem(
        'allowedCidr',
        `${c.allowedCidr} opens SSH and Jupyter to the whole internet; give your own address (e.g. 203.0.113.7/32) or add -c allowAnyIp=true`,
      );
    }
  }
  if (valid('instanceType') && !SUPPORTED_INSTANCE_TYPES.includes(c.instanceType)) {
    problem(
      'instanceType',
      `expected one of ${SUPPORTED_INSTANCE_TYPES.join(', ')} (GPUs that libtensorflow 2.9.1 with CUDA 11 runs on), found ${show(c.instanceType)}`,
    );
  }
  if (valid('budgetScope') && !(BUDGET_SCOPES as readonly string[]).includes(c.budgetScope)) {
    problem('budgetScope', `expected one of ${BUDGET_SCOPES.join(', ')}, found ${show(c.budgetScope)}`);
  }
  if (valid('alertEmail') && c.alertEmail !== undefined && !EMAIL.test(c.alertEmail)) {
    problem('alertEmail', `expected an email address such as me@example.com, found ${show(c.alertEmail)}`);
  }
  if (valid('alertEmail') && valid('budgetUsd') && c.alertEmail === undefined && c.budgetUsd > 0) {
    problem(
      'alertEmail',
      `required when budgetUsd is above 0 (budgetUsd=${c.budgetUsd}): give -c alertEmail=you@example.com, or -c budgetUsd=0 to deploy without a budget`,
    );
  }
  if (valid('keyPairName') && c.keyPairName !== undefined && !KEY_PAIR_NAME.test(c.keyPairName)) {
    problem(
      'keyPairName',
      `expected a key pair name of 1-255 printable ASCII characters, found ${show(c.keyPairName)}`,
    );
  }
  if (valid('runId') && c.runId !== undefined && !RUN_ID_PATTERN.test(c.runId)) {
    problem(
      'runId',
      `expected 1-64 letters, digits, dot, dash or underscore, starting with a letter or digit, found ${show(c.runId)}`,
    );
  }
  if (valid('preset') && !(PRESETS as readonly string[]).includes(c.preset)) {
    problem('preset', `expected one of ${PRESETS.join(', ')}, found ${show(c.preset)}`);
  }
  checkEngine(c, valid, problem);
  if (valid('dataDir') && c.dataDir !== undefined) {
    const dir = folders.resolve(c.dataDir);
    const files = folders.filesIn(dir);
    if (files === null) {
      problem(
        'dataDir',
        `expected a folder holding ${Object.values(DATA_FILES).join(', ')}, found no folder at ${dir}`,
      );
    } else {
      const missing = Object.values(DATA_FILES).filter((f) => !files.includes(f));
      if (missing.length > 0)
        problem('dataDir', `expected ${missing.join(', ')} in ${dir}, found no such file`);
    }
  }
}

/** The batch-only keys, and the instance-only settings that have no meaning on Batch. */
function checkEngine(
  c: ParsedFields,
  valid: (key: string) => boolean,
  problem: (key: string, message: string) => void,
): void {
  if (!valid('engine')) return;
  if (!(ENGINES as readonly string[]).includes(c.engine)) {
    problem('engine', `expected one of ${ENGINES.join(', ')}, found ${show(c.engine)}`);
    return;
  }
  if (valid('instanceTypes') && c.instanceTypes !== undefined) {
    const unsupported = c.instanceTypes.filter((t) => !SUPPORTED_INSTANCE_TYPES.includes(t));
    if (unsupported.length > 0)
      problem(
        'instanceTypes',
        `expected a comma-separated list of ${SUPPORTED_INSTANCE_TYPES.join(', ')}, found ${unsupported.map(show).join(', ')}`,
      );
  }
  if (c.engine === 'instance') {
    const batchOnly = { maxParallel: c.maxParallel, instanceTypes: c.instanceTypes };
    for (const [key, value] of Object.entries(batchOnly))
      if (valid(key) && value !== undefined)
        problem(
          key,
          `only read with engine=batch; the instance engine launches one instance of instanceType (with spot=true, perhaps of its two larger sizes): remove ${key} or add -c engine=batch`,
        );
    return;
  }
  if (valid('jupyter') && c.jupyter)
    problem(
      'jupyter',
      'JupyterLab runs on the training instance, and engine=batch has none of its own: remove -c jupyter=true or use engine=instance',
    );
  if (valid('keyPairName') && c.keyPairName !== undefined)
    problem(
      'keyPairName',
      "engine=batch launches Batch's own instances, which take no key pair: remove keyPairName or use engine=instance",
    );
}

export interface DeployConfig {
  allowedCidr?: string;
  allowAnyIp: boolean;
  instanceType: string;
  spot: boolean;
  maxHours: number;
  maxAttempts: number;
  budgetUsd: number;
  budgetScope: (typeof BUDGET_SCOPES)[number];
  alertEmail?: string;
  keyPairName?: string;
  /** Absolute path. */
  dataDir?: string;
  runId: string;
  preset: (typeof PRESETS)[number];
  jupyter: boolean;
  engine: (typeof ENGINES)[number];
  /** engine=batch: specialist jobs at the same time. */
  maxParallel: number;
  /** engine=batch: the types Batch may launch (every one supported); the instance engine ignores it. */
  instanceTypes: string[];
}

/** Every problem of a configuration, reported together. */
export class DeployConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Invalid deploy configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}; set them with -c key=value or in cdk.json "context"):\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
    this.name = 'DeployConfigError';
  }
}

/**
 * A configuration for stacks that are only listed or destroyed (`cdk ls`, `cdk destroy` with no `-c`
 * flags): those commands need the stacks' names, never their settings. The app marks such stacks with the
 * configuration's problems, which `cdk deploy`, `diff` and `synth` refuse before anything is built.
 */
export const UNDEPLOYABLE_CONFIG: DeployConfig = {
  allowAnyIp: false,
  instanceType: DEFAULT_INSTANCE_TYPE,
  spot: false,
  maxHours: 12,
  maxAttempts: 3,
  budgetUsd: 0,
  budgetScope: 'account',
  runId: 'not-configured',
  preset: 'seed',
  jupyter: false,
  engine: 'instance',
  maxParallel: DEFAULT_MAX_PARALLEL,
  instanceTypes: [DEFAULT_INSTANCE_TYPE],
};

/**
 * Validates the deploy's context. `getContext` is `(key) => app.node.tryGetContext(key)` in the app;
 * `now` fixes the default run id.
 */
export function parseDeployConfig(
  getContext: (key: string) => unknown,
  folders: DataFolders,
  now: Date = new Date(),
): DeployConfig {
  const problems = new Map<string, string[]>();
  const problem = (key: string, message: string) =>
    problems.set(key, [...(problems.get(key) ?? []), `${key}: ${message}`]);
  const parsed: Record<string, unknown> = {};
  for (const key of DEPLOY_CONTEXT_KEYS) {
    const result = FIELD_SCHEMAS[key].safeParse(getContext(key));
    if (result.success) parsed[key] = result.data;
    else for (const issue of result.error.issues) problem(key, issue.message);
  }
  const c = parsed as ParsedFields;
  checkValues(c, folders, (key) => !problems.has(key), problem);
  if (problems.size > 0)
    throw new DeployConfigError(DEPLOY_CONTEXT_KEYS.flatMap((k) => problems.get(k) ?? []));
  return {
    ...c,
    budgetScope: c.budgetScope as DeployConfig['budgetScope'],
    preset: c.preset as DeployConfig['preset'],
    engine: c.engine as DeployConfig['engine'],
    maxParallel: c.maxParallel ?? DEFAULT_MAX_PARALLEL,
    instanceTypes: c.instanceTypes ?? launchInstanceTypes(c.instanceType, c.spot),
    dataDir: c.dataDir === undefined ? undefined : folders.resolve(c.dataDir),
    runId: c.runId ?? defaultRunId(now),
  };
}
