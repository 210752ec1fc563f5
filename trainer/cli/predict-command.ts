import { type Command, Option } from 'commander';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { integerOption } from '../../common/cli-options';
import { mapLimit } from '../../common/map-limit';
import { COORDINATES, IMAGE_SIZE, PIXELS } from '../../contracts/keypoints';
import { DATA_FILES } from '../../contracts/run-layout';
import { selectBackend } from '../backend/select-backend';
import { BACKENDS, type BackendName, TEST_TIME_AUGMENTATIONS, type TestTimeAugmentation } from '../config';
import { DataError } from '../data/dataset';
import { formatSubmission, loadLookup, loadTest } from '../data/kaggle-csv';
import { drawKeypoints } from '../predict/draw-keypoints';
import {
  type Box,
  type FitMode,
  loadNetworkImage,
  type NetworkImage,
  parseBox,
  toOriginal,
} from '../predict/image-transform';
import { expandInputs } from '../predict/predict-inputs';
import { type ImagePrediction, predictionsCsv, predictionsJson } from '../predict/predict-output';
import { predictProgress } from '../predict/predict-progress';
import { openPredictor, type RunPredictor } from '../predict/run-predictor';
import { predictorFor } from '../report/write-report';
import type { ProgressOptions } from '../run/progress';
import { openStore } from '../storage/open-store';

const FIT_MODES: readonly FitMode[] = ['crop', 'pad', 'box'];

export interface PredictCliOptions {
  /** A run folder or URL, or one model folder (with model.json). */
  run: string;
  out?: string;
  json?: boolean;
  /** @default 'crop' */
  fit: FitMode;
  box?: Box;
  model?: string;
  /** Views each unit predicts in, averaged; by default the run's setting. */
  testTimeAugmentation?: TestTimeAugmentation;
  draw?: string;
  /** @default 64 */
  batch: number;
  /** IdLookupTable of a test.csv input. @default IdLookupTable.csv beside test.csv */
  lookup?: string;
  /** Where the submission of a test.csv input goes. @default submission.csv */
  submission?: string;
  /** Force one tfjs backend; by default the fastest that loads. */
  backend?: BackendName;
}

export interface PredictFailure {
  file: string;
  reason: string;
}

/** A Kaggle submission made from a test.csv input, and where it goes. */
export interface PredictSubmission {
  testFile: string;
  lookupFile: string;
  out: string;
  csv: string;
  rows: number;
}

export interface PredictResult {
  predictions: ImagePrediction[];
  failures: PredictFailure[];
  submissions: PredictSubmission[];
}

export interface PredictDeps {
  /** @default a line on stderr */
  log?: (line: string) => void;
  /** @default stderr, a bar on a terminal */
  progress?: ProgressOptions;
}

const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Write to a local path or a file:// / s3:// URL; stdout when none is given. */
async function writeOutput(out: string | undefined, text: string): Promise<void> {
  if (out === undefined) {
    process.stdout.write(text);
    return;
  }
  if (/^(file|s3):\/\//.test(out)) {
    const slash = out.lastIndexOf('/');
    const store = openStore(out.slice(0, slash));
    await store.put(out.slice(slash + 1), text);
    await store.flush();
    return;
  }
  await fs.mkdir(path.dirname(path.resolve(out)), { recursive: true });
  await fs.writeFile(out, text);
}

/** Predictions are clipped to [0, 96]; the input's edges are at -0.5 and 95.5 (pixel centres on integers). */
const toInputEdges = (v: number) => Math.min(IMAGE_SIZE - 0.5, Math.max(-0.5, v));

/** Images are read and drawn this many at a time: sharp works in its own threads. */
const CONCURRENT_FILES = 8;

/** `<name>.png` for each drawn image; `<name>-2.png`, ... when two folders hold the same name. */
function uniqueNames(): { next(file: string): string } {
  const used = new Set<string>();
  return {
    next(file) {
      const base = path.parse(file).name;
      let name = `${base}.png`;
      for (let n = 2; used.has(name); n++) name = `${base}-${n}.png`;
      used.add(name);
      return name;
    },
  };
}

/** Predict image files in batches, each in its own pixels; an unreadable file becomes a failure. */
async function predictImages(
  files: readonly string[],
  predictor: RunPredictor,
  opts: PredictCliOptions,
  deps: PredictDeps,
  result: PredictResult,
): Promise<void> {
  const box = opts.box;
  const fit: FitMode = box ? 'box' : opts.fit;
  if (opts.draw) await fs.mkdir(opts.draw, { recursive: true });
  const progress = predictProgress(files.length, deps.progress);
  const drawnNames = uniqueNames();
  try {
    for (let start = 0; start < files.length; start += opts.batch) {
      const batchFiles = files.slice(start, start + opts.batch);
      const read = await mapLimit(batchFiles, CONCURRENT_FILES, async (file) => {
        try {
          return { file, image: await loadNetworkImage(file, fit, box) };
        } catch (err) {
          result.failures.push({ file, reason: reasonOf(err) });
          return null;
        }
      });
      const loaded = read.filter((r): r is { file: string; image: NetworkImage } => r !== null);
      const pixels = new Uint8Array(loaded.length * PIXELS);
      for (const [i, l] of loaded.entries()) pixels.set(l.image.pixels, i * PIXELS);
      const px =
        loaded.length > 0 ? predictor.predict(pixels, loaded.length, opts.batch) : new Float32Array();
      const batch = loaded.map(({ file, image }, i): ImagePrediction => {
        const coordinates = px.slice(i * COORDINATES, (i + 1) * COORDINATES);
        for (let k = 0; k < COORDINATES; k += 2) {
          const p = toOriginal(image.box, toInputEdges(coordinates[k]!), toInputEdges(coordinates[k + 1]!));
          coordinates[k] = p.x;
          coordinates[k + 1] = p.y;
        }
        return { image: file, width: image.width, height: image.height, coordinates };
      });
      result.predictions.push(...batch);
      const drawDir = opts.draw;
      if (drawDir)
        await mapLimit(batch, CONCURRENT_FILES, async (p) => {
          const outFile = path.join(drawDir, drawnNames.next(p.image));
          await drawKeypoints(p.image, p, outFile).catch((err: unknown) =>
            result.failures.push({ file: p.image, reason: `drawing ${outFile}: ${reasonOf(err)}` }),
          );
        });
      progress.update(start + batchFiles.length);
    }
  } finally {
    progress.stop();
  }
}

/**
 * Predict every row of a Kaggle-format test.csv (96x96 already: its pixels are the network's input), and
 * with its IdLookupTable write the submission as the run's report does.
 */
async function predictKaggleTest(
  file: string,
  predictor: RunPredictor,
  opts: PredictCliOptions,
  deps: PredictDeps,
  result: PredictResult,
): Promise<void> {
  const lookupFile = opts.lookup ?? path.join(path.dirname(file), DATA_FILES.lookup);
  const test = await loadTest(file);
  const px = new Float32Array(test.count * COORDINATES);
  const progress = predictProgress(test.count, deps.progress);
  try {
    for (let start = 0; start < test.count; start += opts.batch) {
      const n = Math.min(opts.batch, test.count - start);
      const batch = test.pixels.subarray(start * PIXELS, (start + n) * PIXELS);
      px.set(predictor.predict(batch, n, opts.batch), start * COORDINATES);
      progress.update(start + n);
    }
  } finally {
    progress.stop();
  }
  test.imageIds.forEach((id, i) => {
    result.predictions.push({
      image: `${file}#ImageId=${id}`,
      width: IMAGE_SIZE,
      height: IMAGE_SIZE,
      coordinates: px.slice(i * COORDINATES, (i + 1) * COORDINATES),
    });
  });
  const lookupExists = await fs.stat(lookupFile).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!lookupExists) {
    if (opts.lookup !== undefined)
      throw new Error(
        `--lookup ${lookupFile}: expected an IdLookupTable (${DATA_FILES.lookup}), found no such file`,
      );
    (deps.log ?? (() => {}))(
      `${file}: no ${DATA_FILES.lookup} beside it, so no submission (give one with --lookup FILE)`,
    );
    return;
  }
  const lookup = await loadLookup(lookupFile);
  let csv: string;
  try {
    csv = formatSubmission(lookup, predictorFor(test, px));
  } catch (err) {
    throw new Error(`${lookupFile} with ${file}: ${reasonOf(err)}`);
  }
  result.submissions.push({
    testFile: file,
    lookupFile,
    out: opts.submission ?? 'submission.csv',
    csv,
    rows: lookup.length,
  });
}

/**
 * Predict every image and test.csv named; a file that cannot be read or predicted is a failure with the
 * file and the reason, and the rest are still done. A model that cannot be used stops everything.
 */
export async function runPredict(
  args: readonly string[],
  opts: PredictCliOptions,
  deps: PredictDeps = {},
): Promise<PredictResult> {
  const log = deps.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (!FIT_MODES.includes(opts.fit))
    throw new Error(`--fit: expected ${FIT_MODES.join(', ')}, found "${opts.fit}"`);
  if (opts.fit === 'box' && !opts.box) throw new Error('--fit box: expected --box x,y,w,h, found none');
  const inputs = await expandInputs(args);
  if (inputs.kaggleTests.length > 1)
    throw new Error(
      `expected at most one test.csv (one submission), found ${inputs.kaggleTests.length}: ${inputs.kaggleTests.join(', ')}`,
    );
  await selectBackend({ backend: opts.backend, requireGpu: false, log });
  const predictor = await openPredictor(opts.run, opts.model, opts.testTimeAugmentation);
  log(
    `predicting with ${predictor.units.join(', ')} (test-time augmentation: ${predictor.testTimeAugmentation})`,
  );
  const result: PredictResult = { predictions: [], failures: [...inputs.failures], submissions: [] };
  try {
    await predictImages(inputs.images, predictor, opts, { ...deps, log }, result);
    for (const file of inputs.kaggleTests) {
      await predictKaggleTest(file, predictor, opts, { ...deps, log }, result).catch((err: unknown) =>
        result.failures.push(
          // A data error carries its own place: file:line:column.
          err instanceof DataError
            ? { file: `${err.file}:${err.line}:${err.column}`, reason: err.detail }
            : { file, reason: reasonOf(err) },
        ),
      );
    }
  } finally {
    predictor.dispose();
  }
  return result;
}

/**
 * `facepoints predict --run RUN_OR_DIR [--out URL] [--json] [--fit crop|pad] [--box x,y,w,h] [--model UNIT]
 * [--draw DIR] [--batch N] [--lookup FILE] [--submission FILE] IMAGES_OR_TEST_CSV...`
 */
export function registerPredictCommand(program: Command, deps: PredictDeps = {}): void {
  program
    .command('predict')
    .description(
      'predict the 15 facial keypoints of your own images, or of a Kaggle test.csv, with a trained run',
    )
    .argument(
      '<inputs...>',
      'image files (PNG, JPEG, WebP, ...), folders of them, or a Kaggle-format test.csv (ImageId,Image)',
    )
    .requiredOption(
      '--run <run>',
      'the run folder or URL (file://, s3://) with finished models, or one model folder (models/<unit>/ with model.json)',
    )
    .option('--out <url>', 'write the CSV/JSON here (a path, file:// or s3:// URL) instead of stdout')
    .option('--json', 'JSON instead of CSV')
    .addOption(
      new Option('--fit <mode>', 'bring each image to 96x96: crop (centre square) or pad (to a square)')
        .choices(['crop', 'pad'])
        .default('crop'),
    )
    .option('--box <x,y,w,h>', 'use this box of each image (original pixels) instead', parseBox)
    .option('--model <unit>', 'one unit of the run instead of the merged specialists, e.g. baseline')
    .addOption(
      new Option(
        '--test-time-augmentation <mode>',
        "views each unit predicts in, averaged: none, flip (and the mirror image) or flip-shift (both also moved by one pixel right, down and both); default: the run's setting",
      ).choices([...TEST_TIME_AUGMENTATIONS]),
    )
    .option('--draw <dir>', 'write each image with its keypoints drawn and labelled into this folder')
    .option('--batch <n>', 'images per model call', integerOption('--batch', { min: 1 }), 64)
    .option(
      '--lookup <file>',
      `the IdLookupTable of a test.csv input (default: ${DATA_FILES.lookup} beside it)`,
    )
    .option('--submission <file>', 'where the Kaggle submission of a test.csv input goes', 'submission.csv')
    .addOption(
      new Option(
        '--backend <name>',
        'force a TensorFlow.js backend (default: the fastest that loads)',
      ).choices([...BACKENDS]),
    )
    .action(async (inputs: string[], opts: PredictCliOptions) => {
      const log = deps.log ?? ((line: string) => process.stderr.write(`${line}\n`));
      const { predictions, failures, submissions } = await runPredict(inputs, opts, { ...deps, log });
      await writeOutput(opts.out, opts.json ? predictionsJson(predictions) : predictionsCsv(predictions));
      for (const s of submissions) {
        await writeOutput(s.out, s.csv);
        log(`submission of ${s.rows} rows (${s.testFile}, ${s.lookupFile}): ${s.out}`);
      }
      for (const f of failures) log(`${f.file}: ${f.reason}`);
      if (failures.length > 0) {
        log(`${failures.length} of the inputs failed; ${predictions.length} images predicted`);
        process.exitCode = 1;
      }
    });
}
