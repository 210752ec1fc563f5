import { type Command, Option } from 'commander';
import { integerOption, usageExit } from '../../common/cli-options';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BACKENDS, type TrainConfig } from '../config';
import { PRESETS } from '../../contracts/presets';
import { DataError } from '../data/dataset';
import { runLayout } from '../../contracts/run-layout';
import { EXIT_INTERRUPTED, EXIT_USAGE } from '../../contracts/run-status';
import {
  DEFAULT_MODELS,
  resolveMachine,
  resolveTrainConfig,
  settingKeys,
  type TrainCliOptions,
} from '../run/resolve-config';
import { dryRun, runTraining, type RunDeps, type RunOutcome } from '../run/run-training';
import { ALL_UNITS, parseUnitList, type RunScope } from '../run/unit-scope';
import { runParallel, unitProcessArgs, type ParallelDeps } from '../run/parallel-runner';
import { UsageError } from '../run/usage-error';
import { defaultScratchDir } from '../storage/data-cache';
import { ensureSampleData } from './sample-command';

/** Rows of generated sample data quickstart trains on: enough for every specialist, small enough for minutes on 2 cores. */
export const QUICKSTART_ROWS = 2000;
export const QUICKSTART_DATA = './data/sample';
export const QUICKSTART_OUT = 'file://./runs';
/** Environment variable naming the scratch folder (the trainer image sets it to /scratch). */
export const SCRATCH_ENV = 'FACEPOINTS_SCRATCH_DIR';

/**
 * `facepoints train` (any preset, any models, local or S3) and `facepoints quickstart` (the first command
 * on a fresh machine: sample data, the quick preset, a local run). `deps` lets tests replace storage and
 * output; the CLI uses the defaults.
 */
export function registerTrainCommands(program: Command, deps: ParallelDeps = {}): void {
  program
    .command('train')
    .description('train the models of a run (resumes when the run already exists) and write its report')
    .option('--data <dir>', 'folder or s3://BUCKET/PREFIX with training.csv, test.csv and IdLookupTable.csv')
    .option('--out <url>', 'where runs live: file://DIR or s3://BUCKET/PREFIX', QUICKSTART_OUT)
    .option(
      '--run <id>',
      'run id; give an existing one to resume it (default: the UTC time, YYYYMMDD-HHMMSS)',
    )
    .addOption(new Option('--preset <name>', 'settings preset').choices([...PRESETS]).default('seed'))
    .option(
      '--models <list>',
      'comma-separated models: mlp, cnn, baseline, specialists, specialists-augmented, or all (mean is always computed)',
      DEFAULT_MODELS.join(','),
    )
    .addOption(
      new Option(
        '--backend <name>',
        'force a TensorFlow.js backend (default: the fastest that loads)',
      ).choices([...BACKENDS]),
    )
    .option('--require-gpu', 'fail at once unless a GPU backend works', false)
    .option(
      '--workers <n>',
      'gradient worker threads on wasm (0: 2 when the batch is 32 or more and there are 2 cores, else 1)',
      '0',
    )
    .option(
      '--units <list>',
      'train only these units of the run, comma-separated (e.g. baseline or specialists/eye-centers), and no report; ' +
        'a specialist needs the finished baseline (default: every unit, then the report)',
    )
    .option(
      '--parallel <n>',
      'train independent units in N processes side by side (the baseline first, then the specialists), then the report',
      integerOption('--parallel', { min: 1 }),
      1,
    )
    .option(
      '--dry-run',
      'load and check the data, print the plan with time estimates, train nothing, write nothing',
      false,
    )
    .option(
      '--seed <n>',
      "seed of the split, initial weights, shuffles, flips and dropout (default: the preset's)",
    )
    .option(
      '--set <key=value>',
      `override a preset setting, repeatable (e.g. --set baseline.maxEpochs=50 --set batchSize=64); keys: ${settingKeys().join(', ')}`,
      collect,
      [],
    )
    .addOption(
      new Option(
        '--scratch <dir>',
        "writable folder for the trainer's own files (the s3:// data cache); the container sets /scratch",
      )
        .env(SCRATCH_ENV)
        .default(deps.scratchDir ?? defaultScratchDir()),
    )
    .exitOverride(usageExit)
    .action(
      async ({
        scratch,
        units,
        parallel,
        ...opts
      }: TrainCliOptions & { scratch: string; units?: string; parallel: number }) => {
        await runCommand(
          () => {
            const config = resolveTrainConfig(opts);
            if (scratch.trim() === '') {
              throw new UsageError(
                `invalid options: --scratch (or ${SCRATCH_ENV}): expected a folder, found an empty string`,
              );
            }
            if (units !== undefined && parallel > 1) {
              throw new UsageError(
                `invalid options: --units with --parallel ${parallel}: expected one of them (--units trains in this process, --parallel starts one process per unit)`,
              );
            }
            const scope: RunScope =
              units === undefined ? ALL_UNITS : { kind: 'units', units: parseUnitList(units) };
            return {
              config,
              scope,
              processes: parallel,
              trainArgs: unitProcessArgs(config, opts.set ?? [], scratch),
            };
          },
          { ...deps, scratchDir: scratch },
        );
      },
    );

  program
    .command('quickstart')
    .description(
      'generate sample faces if missing, then train the baseline and the six specialists with the quick preset, locally',
    )
    .option('--data <dir>', 'folder of the sample data (generated there when missing)', QUICKSTART_DATA)
    .option('--out <url>', 'where runs live', QUICKSTART_OUT)
    .option(
      '--rows <n>',
      'training rows of the generated sample',
      integerOption('--rows', { min: 1 }),
      QUICKSTART_ROWS,
    )
    .option(
      '--parallel <n>',
      'units trained side by side, one process each (default: 2 with 2 or more cores, else 1)',
      integerOption('--parallel', { min: 1 }),
      Math.min(2, os.availableParallelism()),
    )
    .exitOverride(usageExit)
    .action(async (opts: { data: string; out: string; rows: number; parallel: number }) => {
      await ensureSampleData(opts.data, opts.rows, 1);
      await runCommand(() => {
        const config = resolveTrainConfig({
          data: opts.data,
          out: opts.out,
          preset: 'quick',
          models: DEFAULT_MODELS.join(','),
        });
        return {
          config,
          scope: ALL_UNITS,
          processes: opts.parallel,
          trainArgs: unitProcessArgs(config, [], deps.scratchDir ?? defaultScratchDir()),
        };
      }, deps);
    });
}

/** What one command runs: a configuration, a scope and, for `--parallel`, the processes and their options. */
export interface CommandPlan {
  config: TrainConfig;
  scope: RunScope;
  /** Unit processes side by side (runParallel) when more than 1. @default 1 */
  processes?: number;
  /** The `train` options each unit process repeats (unitProcessArgs). */
  trainArgs?: string[];
}

/**
 * Validate, run (or dry-run), print where the results are, and set the exit code the boot script and
 * AWS Batch rely on: 0 done, EXIT_INTERRUPTED to resume later (interrupted, or a unit busy elsewhere),
 * EXIT_USAGE for what no retry can fix. The machine settings come from the environment unless `deps`
 * gives them.
 */
export async function runCommand(
  resolve: () => Promise<CommandPlan> | CommandPlan,
  given: ParallelDeps,
): Promise<RunOutcome | null> {
  try {
    const { config, scope, processes = 1, trainArgs = [] } = await resolve();
    const deps: RunDeps = { ...resolveMachine(), ...given };
    if (config.dryRun) {
      await dryRun(config, deps);
      return null;
    }
    const outcome =
      processes > 1 && scope.kind === 'all'
        ? await runParallel(config, trainArgs, processes, deps)
        : await runTraining(config, deps, scope);
    if (outcome.state === 'interrupted' || outcome.state === 'busy') {
      process.exitCode = EXIT_INTERRUPTED;
    } else if (outcome.state === 'trained') {
      process.stdout.write(
        `trained: ${outcome.trained.join(', ') || 'nothing (every unit named was finished earlier)'}\n`,
      );
    } else {
      printResults(outcome);
    }
    return outcome;
  } catch (err) {
    if (err instanceof UsageError || err instanceof DataError) process.exitCode = EXIT_USAGE;
    throw err;
  }
}

function printResults(outcome: RunOutcome): void {
  const where = (key: string): string => {
    const url = `${outcome.runUrl}/${key}`;
    return url.startsWith('file://') ? path.relative(process.cwd(), fileURLToPath(url)) || '.' : url;
  };
  const lines = [
    `run:              ${where('.').replace(/\/\.$/, '')}`,
    `report:           ${where(runLayout.reportMarkdown)}`,
    `summary:          ${where(runLayout.summary)}`,
    `learning curves:  ${where(runLayout.learningCurves)}`,
    `best/worst faces: ${where(runLayout.bestWorst)}`,
    `submission:       ${where(runLayout.submission)}`,
  ];
  if (outcome.summary) {
    lines.push(
      '',
      'dev RMSE (px):',
      ...outcome.summary.models.map((m) => `  ${m.name.padEnd(22)} ${m.devRmsePx.toFixed(2)}`),
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
