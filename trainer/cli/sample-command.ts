import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { integerOption, usageExit } from '../../common/cli-options';
import { writeSampleData } from '../data/sample-faces';
import { DATA_FILES } from '../../contracts/run-layout';

/** Sizes of the real Kaggle files, the defaults of `facepoints sample`. */
export const REAL_TRAINING_ROWS = 7049;
export const REAL_TEST_ROWS = 1783;

interface SampleCliOptions {
  out: string;
  rows: number;
  testRows: number;
  seed: number;
}

/** Writes the sample with a progress bar on stderr and returns the elapsed seconds. */
async function generateWithProgress(
  out: string,
  rows: number,
  testRows: number,
  seed: number,
): Promise<number> {
  const bar = new SingleBar({
    format: 'sample faces [{bar}] {value}/{total} {percentage}% | {rate} faces/s | eta {eta_formatted}',
    stream: process.stderr,
    noTTYOutput: true,
    notTTYSchedule: 10_000,
    barsize: 30,
  });
  const start = Date.now();
  bar.start(rows + testRows, 0, { rate: '-' });
  try {
    await writeSampleData(out, {
      rows,
      testRows,
      seed,
      onProgress: (done) =>
        bar.update(done, { rate: (done / Math.max(0.001, (Date.now() - start) / 1000)).toFixed(0) }),
    });
  } finally {
    bar.stop();
  }
  return (Date.now() - start) / 1000;
}

/** `facepoints sample --out DIR [--rows N] [--test-rows N] [--seed S]`: generated Kaggle-format data. */
export function registerSampleCommand(program: Command): void {
  program
    .command('sample')
    .description(
      'write training.csv, test.csv and IdLookupTable.csv of generated faces (Kaggle format, exact keypoints)',
    )
    .requiredOption('--out <dir>', 'folder to write the three files to (created if missing)')
    .option('--rows <n>', 'rows of training.csv', integerOption('--rows', { min: 1 }), REAL_TRAINING_ROWS)
    .option('--test-rows <n>', 'images of test.csv', integerOption('--test-rows', { min: 1 }), REAL_TEST_ROWS)
    .option('--seed <s>', 'seed: the same seed writes the same files', integerOption('--seed'), 1)
    .exitOverride(usageExit)
    .action(async (opts: SampleCliOptions) => {
      const seconds = await generateWithProgress(opts.out, opts.rows, opts.testRows, opts.seed);
      const sizes = await Promise.all(
        [DATA_FILES.training, DATA_FILES.test, DATA_FILES.lookup].map(async (name) => {
          const { size } = await fs.stat(path.join(opts.out, name));
          return `${name} (${size >= 1e6 ? `${(size / 1e6).toFixed(1)} MB` : `${(size / 1e3).toFixed(1)} kB`})`;
        }),
      );
      process.stdout.write(
        `wrote ${opts.rows} training rows and ${opts.testRows} test images to ${opts.out}: ${sizes.join(', ')} ` +
          `in ${seconds.toFixed(1)} s (${((opts.rows + opts.testRows) / seconds).toFixed(0)} faces/s, seed ${opts.seed})\n`,
      );
    });
}

/**
 * Generates sample data in `dir` unless training.csv, test.csv and IdLookupTable.csv are all there already
 * (existing files are kept as they are, whatever their size). Test images scale with the training rows as
 * in the real data (1783 per 7049).
 */
export async function ensureSampleData(dir: string, rows: number, seed: number): Promise<void> {
  const present = await Promise.all(
    [DATA_FILES.training, DATA_FILES.test, DATA_FILES.lookup].map((name) =>
      fs.stat(path.join(dir, name)).then(
        (s) => s.isFile(),
        () => false,
      ),
    ),
  );
  if (present.every(Boolean)) {
    process.stderr.write(`sample data: using the files in ${dir}\n`);
    return;
  }
  const testRows = Math.max(20, Math.round((rows * REAL_TEST_ROWS) / REAL_TRAINING_ROWS));
  process.stderr.write(
    `sample data: generating ${rows} training rows and ${testRows} test images in ${dir}\n`,
  );
  const seconds = await generateWithProgress(dir, rows, testRows, seed);
  process.stderr.write(`sample data: written in ${seconds.toFixed(1)} s\n`);
}
