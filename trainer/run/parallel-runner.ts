import { spawn } from 'node:child_process';
import * as readline from 'node:readline';
import { EXIT_INTERRUPTED } from '../../contracts/run-status';
import { isSpecialistUnit, runLayout, trainedUnitIds } from '../../contracts/run-layout';
import type { TrainConfig } from '../config';
import { checkResumedConfig } from './config-file';
import { readRunState } from './run-files';
import { defaultRunServices, type RunServices } from './run-services';
import { runTraining, type RunDeps, type RunOutcome } from './run-training';

/** How to start this program in a child process: a command and the arguments before `train`. */
export interface CliEntry {
  command: string;
  args: string[];
}

export interface ParallelDeps extends RunDeps {
  /** @default this process's node, its flags and its entry script (works for dist/ and for tsx) */
  cliEntry?: CliEntry;
}

/**
 * `train --parallel N`: every unit in its own `facepoints train --units UNIT` child process, at most N at
 * a time, in two stages: the units that start from scratch (the baseline, mlp, cnn), then the specialists
 * that start from the baseline. Then the report, in this process. Each child trains one unit, under the
 * unit's lease like any `--units` invocation, so results are those of a sequential run (unit seeds depend
 * on the run and the unit only). A child's lines are shown prefixed with its unit.
 *
 * `trainArgs` are the `train` options that reproduce `config` (unitProcessArgs): the children check them
 * against the run's config.json like any resumed run.
 */
export async function runParallel(
  config: TrainConfig,
  trainArgs: readonly string[],
  processes: number,
  deps: ParallelDeps = {},
): Promise<RunOutcome> {
  const log = deps.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const services: RunServices = { ...defaultRunServices(), ...deps.services };
  const store = services.openStore(config.out).child(config.runId);
  await checkResumedConfig(store, config);
  if ((await readRunState(store)) === 'succeeded') return runTraining(config, deps);
  // Written before the children start, so they all find one configuration instead of racing to write it.
  if ((await store.get(runLayout.config)) === null) {
    await store.put(runLayout.config, `${JSON.stringify(config, null, 2)}\n`);
    await store.flush();
  }

  const units = trainedUnitIds(config.models);
  const fromBaseline = (u: string) => config.specialistsFromBaseline && isSpecialistUnit(u);
  const stages = [units.filter((u) => !fromBaseline(u)), units.filter(fromBaseline)];
  const entry = deps.cliEntry ?? {
    command: process.execPath,
    args: [...process.execArgv, process.argv[1] ?? ''],
  };
  const interruptions = services.watchInterruptions(log);
  const signal = deps.signal ? AbortSignal.any([interruptions.signal, deps.signal]) : interruptions.signal;
  log(`run ${config.runId}: ${units.length} units in up to ${processes} processes, writing to ${store.url}`);
  try {
    for (const stage of stages) {
      const pending: string[] = [];
      for (const u of stage) {
        if ((await store.get(runLayout.unitDone(u))) !== null) log(`${u}: finished earlier, not retrained`);
        else pending.push(u);
      }
      const ended = await inPool(pending, processes, signal, (u) =>
        trainInChild(entry, [...trainArgs, '--units', u], u, signal, log),
      );
      if (ended === 'interrupted') {
        log(
          `interrupted (${describe(signal.reason)}): units keep their checkpoints; re-run the same command to resume`,
        );
        return { state: 'interrupted', runUrl: store.url, summary: null, trained: [], busy: null };
      }
    }
  } finally {
    interruptions.dispose();
  }
  return runTraining(config, deps, { kind: 'report' });
}

/**
 * The `train` options that reproduce a configuration: its data, store, run, preset, models, machine
 * settings and seed, and the `--set` overrides as given.
 */
export function unitProcessArgs(config: TrainConfig, sets: readonly string[], scratchDir: string): string[] {
  return [
    '--data',
    config.data,
    '--out',
    config.out,
    '--run',
    config.runId,
    '--preset',
    config.preset,
    '--models',
    config.models.join(','),
    ...(config.backend ? ['--backend', config.backend] : []),
    ...(config.requireGpu ? ['--require-gpu'] : []),
    '--workers',
    String(config.workers),
    '--seed',
    String(config.seed),
    ...sets.flatMap((s) => ['--set', s]),
    '--scratch',
    scratchDir,
  ];
}

/**
 * Runs `run` on the units, at most `size` at a time. A unit that fails stops new starts; the ones running
 * finish, then the failures are thrown together. An interrupted unit (exit 75) or an abort stops new
 * starts too, and the pool ends `interrupted`.
 */
async function inPool(
  units: readonly string[],
  size: number,
  signal: AbortSignal,
  run: (unit: string) => Promise<number | null>,
): Promise<'done' | 'interrupted'> {
  let next = 0;
  let interrupted = false;
  const failures: string[] = [];
  const worker = async (): Promise<void> => {
    while (next < units.length && !interrupted && failures.length === 0 && !signal.aborted) {
      const unit = units[next++] as string;
      const code = await run(unit);
      if (code === 0) continue;
      if (code === EXIT_INTERRUPTED || signal.aborted) interrupted = true;
      else failures.push(`${unit}: exited with ${code === null ? 'a signal' : `code ${code}`}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, units.length) }, worker));
  if (failures.length > 0)
    throw new Error(
      `training failed in a unit process (its lines above say why):\n  ${failures.join('\n  ')}`,
    );
  return interrupted || signal.aborted ? 'interrupted' : 'done';
}

/** One child process; its output becomes log lines prefixed with the unit, and an abort reaches it as SIGTERM. */
function trainInChild(
  entry: CliEntry,
  trainArgs: string[],
  unit: string,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<number | null> {
  const child = spawn(entry.command, [...entry.args, 'train', ...trainArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: process.env,
  });
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream }).on('line', (line) => log(`[${unit}] ${line}`));
  }
  const forward = () => child.kill('SIGTERM');
  signal.addEventListener('abort', forward);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      signal.removeEventListener('abort', forward);
      resolve(code);
    });
  });
}

function describe(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return typeof reason === 'string' ? reason : 'interrupted';
}
