import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { writeSampleData } from '../trainer/data/sample-faces';
import { DATA_FILES } from '../contracts/run-layout';

const run = promisify(execFile);

/** Rows of the real training.csv: the generated file has as many, so the timing is full-size. */
const FULL_SIZE_ROWS = 7049;
/** Timed loads; the fastest counts (the others measure the machine's other work as much as the loader). */
const RUNS = 3;

export interface CsvLoadResult {
  csvLoadSeconds: number;
  csvLoadPeakRssMB: number;
  /** CPU time of the fastest load (user + system): the figure to compare on a busy machine. */
  csvLoadCpuSeconds: number;
  rows: number;
  file: string;
}

/** A full-size generated training.csv, written once under `tmpDir` and reused. */
async function fullSizeCsv(tmpDir: string): Promise<string> {
  const dir = path.join(tmpDir, `sample-${FULL_SIZE_ROWS}`);
  const file = path.join(dir, DATA_FILES.training);
  try {
    await fs.access(file);
    return file;
  } catch {
    process.stderr.write(
      `bench: generating a ${FULL_SIZE_ROWS}-row training.csv in ${dir} (once; about a minute)\n`,
    );
    await writeSampleData(dir, { rows: FULL_SIZE_ROWS, testRows: 1, seed: 1 });
    return file;
  }
}

/**
 * Loads the file in a fresh child process (so peak RSS is the loader's alone, read from
 * process.resourceUsage().maxRSS) and returns wall seconds, CPU seconds and peak RSS.
 */
async function loadInChild(
  file: string,
): Promise<{ seconds: number; cpuSeconds: number; peakRssMB: number; rows: number }> {
  const loader = require.resolve('../trainer/data/kaggle-csv');
  const script = `
    const { loadTraining } = require(${JSON.stringify(loader)});
    const start = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    loadTraining(${JSON.stringify(file)}).then((set) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const used = process.cpuUsage(cpu);
      process.stdout.write(JSON.stringify({
        seconds, cpuSeconds: (used.user + used.system) / 1e6,
        peakRssMB: process.resourceUsage().maxRSS / 1024, rows: set.count,
      }));
    });`;
  // execArgv carries a TypeScript loader when the benchmark itself runs from source.
  const { stdout } = await run(process.execPath, [...process.execArgv, '-e', script], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as { seconds: number; cpuSeconds: number; peakRssMB: number; rows: number };
}

/** Load time and peak memory of training.csv: `csv` when given, else a generated full-size file. */
export async function benchCsvLoad(opts: { csv?: string; tmpDir: string }): Promise<CsvLoadResult> {
  const file = opts.csv ?? (await fullSizeCsv(opts.tmpDir));
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await loadInChild(file));
  const best = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  return {
    csvLoadSeconds: best.seconds,
    csvLoadPeakRssMB: Math.max(...runs.map((r) => r.peakRssMB)),
    csvLoadCpuSeconds: best.cpuSeconds,
    rows: best.rows,
    file,
  };
}
