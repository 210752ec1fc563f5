import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { COORDINATES, KEYPOINT_COLUMNS, SPECIALISTS } from '../contracts/keypoints';
import type { PresetName } from '../contracts/presets';
import type { MissingMode } from '../trainer/config';
import { loadKaggleDir } from '../trainer/data/kaggle-csv';
import { writeSampleData } from '../trainer/data/sample-faces';
import { splitTrainDev } from '../trainer/data/split';
import { resolveTrainConfig } from '../trainer/run/resolve-config';
import { runTraining } from '../trainer/run/run-training';

export interface MissingComparisonOptions {
  /** Seeds of the generated data sets (the sample's is 1). @default [1, 2] */
  dataSeeds?: number[];
  /** Training seeds (split, initial weights, shuffles, flips, dropout) per data set. @default [1, 2, 3] */
  seeds?: number[];
  /** Rows of each generated training.csv. @default 2000 (quickstart's) */
  rows?: number;
  /** Models to train; the specialists make each run minutes long. @default ['baseline'] */
  models?: string[];
  preset?: PresetName;
  /** Folder for the data sets and the runs. */
  workDir: string;
  log?: (line: string) => void;
}

/** Dev RMSE (px, over every present dev label of the unit's columns) of one unit in one run. */
interface Cell {
  dataSeed: number;
  seed: number;
  missing: MissingMode;
  unit: string;
  rmsePx: number;
  trainSeconds: number;
}

/**
 * The baseline and the specialists trained with `missing: drop` and with `missing: mask` (every other
 * setting the preset's), on generated data sets of several seeds, several training seeds each, through the
 * product's own runTraining. Each unit is judged on the same dev labels in both modes: every present label
 * of its columns among all dev rows (the report's per-keypoint figures), so drop and mask compare fairly.
 */
export async function compareMissing(
  opts: MissingComparisonOptions,
): Promise<{ table: string; cells: Cell[] }> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const rows = opts.rows ?? 2000;
  const models = opts.models ?? ['baseline'];
  const preset = opts.preset ?? 'quick';
  const cells: Cell[] = [];
  for (const dataSeed of opts.dataSeeds ?? [1, 2]) {
    const data = path.join(opts.workDir, `data-${rows}-${dataSeed}`);
    await fs.mkdir(data, { recursive: true });
    await writeSampleData(data, { rows, testRows: 20, seed: dataSeed });
    const training = (await loadKaggleDir(data)).training;
    for (const seed of opts.seeds ?? [1, 2, 3]) {
      let labels: Float64Array | null = null;
      for (const missing of ['drop', 'mask'] as const) {
        const run = `${preset}-d${dataSeed}-s${seed}-${missing}`;
        // A fresh run each time: an earlier bench's finished run would resume as done, with old settings.
        await fs.rm(path.join(opts.workDir, 'runs', run), { recursive: true, force: true });
        const config = resolveTrainConfig({
          data,
          out: `file://${path.join(opts.workDir, 'runs')}`,
          run,
          preset,
          seed: String(seed),
          models: models.join(','),
          set: [`baseline.missing=${missing}`, `specialists.missing=${missing}`],
        });
        const sink = new PassThrough();
        sink.resume();
        const started = performance.now();
        const outcome = await runTraining(config, {
          log: () => undefined,
          progress: { stream: sink, tty: false },
        });
        const seconds = (performance.now() - started) / 1000;
        if (outcome.state !== 'succeeded' || !outcome.summary)
          throw new Error(`run ${run}: expected success, found ${outcome.state}`);
        // Labels per column among the dev rows, to pool the per-keypoint RMSEs of a unit's columns; drop and
        // mask share the seed's split.
        labels ??= devLabelCounts(training, config.devFraction, config.seed);
        const counts = labels;
        const pooled = (perColumn: Record<string, number>, columns: readonly string[]) => {
          let sum = 0;
          let n = 0;
          for (const name of columns) {
            const k = counts[KEYPOINT_COLUMNS.indexOf(name)]!;
            sum += k * (perColumn[name] ?? Number.NaN) ** 2;
            n += k;
          }
          return Math.sqrt(sum / n);
        };
        for (const m of outcome.summary.models) {
          const base = { dataSeed, seed, missing, trainSeconds: m.trainSeconds };
          if (m.name === 'mean' && missing === 'mask') continue;
          cells.push({
            ...base,
            missing: m.name === 'mean' ? 'drop' : missing,
            unit: m.name,
            rmsePx: m.devRmsePx,
          });
          if (m.name === 'specialists') {
            for (const s of SPECIALISTS) {
              const unit = `specialists/${s.name}`;
              cells.push({
                ...base,
                unit,
                rmsePx: pooled(m.perKeypointRmsePx, s.columns),
                // The specialist's own time; the merged model's is the sum of the six.
                trainSeconds: outcome.summary.units.find((u) => u.unit === unit)?.trainSeconds ?? Number.NaN,
              });
            }
          }
        }
        log(
          `${run}: ${outcome.summary.models.map((m) => `${m.name} ${m.devRmsePx.toFixed(3)} px`).join(', ')} (${seconds.toFixed(0)} s)`,
        );
      }
    }
  }
  return { table: formatComparison(cells), cells };
}

/** Present labels per column (KEYPOINT_COLUMNS order) among the dev rows of the split for `seed`. */
function devLabelCounts(
  training: Awaited<ReturnType<typeof loadKaggleDir>>['training'],
  devFraction: number,
  seed: number,
): Float64Array {
  const { dev } = splitTrainDev(training, devFraction, seed);
  const labels = new Float64Array(COORDINATES);
  for (const r of dev)
    for (let c = 0; c < COORDINATES; c++)
      if (!Number.isNaN(training.labels[r * COORDINATES + c]!)) labels[c]!++;
  return labels;
}

/** Markdown: one line per data set and unit, drop and mask as mean ± sample standard deviation over the seeds. */
export function formatComparison(cells: readonly Cell[]): string {
  const stat = (xs: number[]) => {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
    return `${mean.toFixed(3)} ± ${sd.toFixed(3)}`;
  };
  const lines = [
    '| data seed | unit | drop: dev RMSE px | mask: dev RMSE px | drop: train s | mask: train s | runs |',
    '|---|---|---|---|---|---|---|',
  ];
  const keys = [...new Set(cells.map((c) => `${c.dataSeed}\t${c.unit}`))];
  for (const key of keys) {
    const [dataSeed, unit] = key.split('\t');
    const of = (missing: MissingMode) =>
      cells.filter((c) => String(c.dataSeed) === dataSeed && c.unit === unit && c.missing === missing);
    const drop = of('drop');
    const mask = of('mask');
    const cell = (xs: Cell[], f: (c: Cell) => number) => (xs.length ? stat(xs.map(f)) : '-');
    lines.push(
      `| ${dataSeed} | ${unit} | ${cell(drop, (c) => c.rmsePx)} | ${cell(mask, (c) => c.rmsePx)} | ${cell(drop, (c) => c.trainSeconds)} | ${cell(mask, (c) => c.trainSeconds)} | ${Math.max(drop.length, mask.length)} |`,
    );
  }
  return lines.join('\n');
}
