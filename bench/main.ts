import { Command } from 'commander';
import { integerOption } from '../common/cli-options';
import * as os from 'node:os';
import * as path from 'node:path';
import { benchCsvLoad } from './csv-load';
import { benchTrainSpeed, benchPyTorchReference } from './train-speed';
import { benchCheckpointOverhead } from './checkpoint-overhead';
import { benchPredictSpeed } from './predict-speed';
import { compareMissing } from './missing-comparison';

/**
 * `npm run bench -- [--json] [--csv PATH]`: the speed figures the project tracks. Targets are benchmarks,
 * never test assertions: CSV load <= 1 s and <= 500 MB peak RSS for a full-size training.csv, CPU
 * training >= half of PyTorch's images/s on the same network and machine, checkpoint overhead < 2%,
 * `facepoints predict` on 1000 pictures in seconds on the CPU.
 */
interface BenchOptions {
  json: boolean;
  csv?: string;
  only?: string;
  steps: number;
  workers: number;
  images: number;
  missingModels: string;
  missingDataSeeds: string;
}

function parseArguments(argv: string[]): BenchOptions {
  const program = new Command('bench')
    .option('--json', 'print one JSON object instead of a table', false)
    .option(
      '--csv <path>',
      'training.csv to load (default: a generated full-size file, cached under .cache/bench)',
    )
    .option(
      '--only <parts>',
      'comma-separated subset: csv,train,pytorch,checkpoint,predict (default), and missing (drop against mask, minutes per run)',
    )
    .option(
      '--missing-models <list>',
      'models the missing comparison trains (baseline; baseline,specialists takes minutes per run)',
      'baseline',
    )
    .option(
      '--missing-data-seeds <list>',
      'generated data sets of the missing comparison, by seed (1 is the sample); one process per seed runs them side by side',
      '1,2',
    )
    .option('--steps <n>', 'timed training steps after warm-up', integerOption('--steps', { min: 1 }), 5)
    .option(
      '--workers <n>',
      'gradient worker threads for the training bench (0: as the trainer picks; 1: in this thread)',
      integerOption('--workers'),
      0,
    )
    .option(
      '--images <n>',
      'pictures the predict bench predicts',
      integerOption('--images', { min: 1 }),
      1000,
    )
    .parse(argv);
  return program.opts<BenchOptions>();
}

async function main(): Promise<void> {
  const opts = parseArguments(process.argv);
  const parts = new Set((opts.only ?? 'csv,train,pytorch,checkpoint,predict').split(','));
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const result: Record<string, unknown> = { cpus: os.cpus().length, node: process.version };

  if (parts.has('csv')) {
    log('bench: loading training.csv ...');
    Object.assign(result, await benchCsvLoad({ csv: opts.csv, tmpDir: path.resolve('.cache/bench') }));
  }
  if (parts.has('train')) {
    log('bench: training the baseline network at batch 128 ...');
    const train = await benchTrainSpeed({ batch: 128, steps: opts.steps, workers: opts.workers, log });
    Object.assign(result, train);
    if (train.workers > 1) {
      // The same network in this thread: the one-core figure and where its step goes, kernel by kernel.
      log('bench: the same in this thread, kernel by kernel ...');
      const one = await benchTrainSpeed({ batch: 128, steps: opts.steps, workers: 1, log });
      Object.assign(result, {
        trainImagesPerSecondOneThread: one.trainImagesPerSecond,
        perKernelMs: one.perKernelMs,
      });
    }
    if (parts.has('pytorch')) {
      log('bench: PyTorch reference (when python3-torch is installed) ...');
      const ref = await benchPyTorchReference({
        batch: 128,
        steps: opts.steps,
        trainImagesPerSecond: train.trainImagesPerSecond,
      });
      if (ref) Object.assign(result, ref);
      else result.pytorch = 'not installed (apt-get install python3-torch to compare)';
    }
  }
  if (parts.has('checkpoint')) {
    log('bench: checkpoint overhead against a local S3 server ...');
    Object.assign(result, await benchCheckpointOverhead({ log }));
  }
  if (parts.has('predict')) {
    // Prefixed per preset: the quick preset's narrow networks, then the seed's (what a cloud run trains).
    for (const preset of ['quick', 'seed'] as const) {
      log(`bench: facepoints predict on ${opts.images} pictures, a ${preset} run's merged specialists ...`);
      const r = await benchPredictSpeed({ images: opts.images, preset, log });
      for (const [k, v] of Object.entries(r)) result[`${k}${preset === 'seed' ? 'Seed' : 'Quick'}`] = v;
    }
  }

  if (parts.has('missing')) {
    const dataSeeds = opts.missingDataSeeds.split(',').map((s) => {
      const seed = Number(s);
      if (!Number.isInteger(seed) || seed < 1)
        throw new Error(`--missing-data-seeds: expected positive integers, found "${s}"`);
      return seed;
    });
    log(`bench: drop against mask on generated data, ${dataSeeds.length} data set(s) x 3 seeds ...`);
    const { table, cells } = await compareMissing({
      workDir: path.resolve('.cache/bench/missing'),
      models: opts.missingModels.split(','),
      dataSeeds,
      log,
    });
    log(table);
    result.missingComparison = cells;
  }

  if (opts.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    for (const [k, v] of Object.entries(result)) {
      process.stdout.write(
        `${k.padEnd(28)} ${typeof v === 'number' ? Number(v.toPrecision(4)) : JSON.stringify(v)}\n`,
      );
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
