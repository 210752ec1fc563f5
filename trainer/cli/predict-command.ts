import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { integerOption } from '../../common/cli-options';
import { COORDINATES, IMAGE_SIZE, PIXELS } from '../../contracts/keypoints';
import { selectBackend } from '../backend/select-backend';
import type { BackendName } from '../config';
import { drawKeypoints } from '../predict/draw-keypoints';
import { type Box, type FitMode, loadNetworkImage, parseBox, toOriginal } from '../predict/image-transform';
import { type ImagePrediction, predictionsCsv, predictionsJson } from '../predict/predict-output';
import { openRunPredictor } from '../predict/run-predictor';
import { openStore } from '../storage/open-store';

interface PredictCliOptions {
  run: string;
  out?: string;
  json?: boolean;
  fit: FitMode;
  box?: Box;
  model?: string;
  draw?: string;
  batch: number;
  /** Force one tfjs backend; by default the fastest that loads. */
  backend?: BackendName;
}

/** A run given as a plain folder is a file:// store. */
const storeUrl = (run: string) => (/^(file|s3):\/\//.test(run) ? run : `file://${path.resolve(run)}`);

/** Files named on the command line; a folder contributes the files directly inside it, sorted. */
async function expandInputs(inputs: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    const stat = await fs.stat(input).catch(() => null);
    if (stat?.isDirectory()) {
      const names = (await fs.readdir(input, { withFileTypes: true }))
        .filter((d) => d.isFile())
        .map((d) => d.name);
      files.push(...names.sort().map((n) => path.join(input, n)));
    } else files.push(input);
  }
  return files;
}

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

/** Predict every image; failures are collected with the file and the reason, the rest still done. */
export async function runPredict(
  images: readonly string[],
  opts: PredictCliOptions,
  log: (line: string) => void,
): Promise<{ predictions: ImagePrediction[]; failures: { file: string; reason: string }[] }> {
  if (opts.fit === 'box' && !opts.box) throw new Error('--fit box: expected --box x,y,w,h, found none');
  const box = opts.box;
  const fit: FitMode = box ? 'box' : opts.fit;
  await selectBackend({ backend: opts.backend, requireGpu: false, log });
  const predictor = await openRunPredictor(openStore(storeUrl(opts.run)), opts.model);
  log(`predicting with ${predictor.units.join(', ')}`);
  const files = await expandInputs(images);
  const predictions: ImagePrediction[] = [];
  const failures: { file: string; reason: string }[] = [];
  if (opts.draw) await fs.mkdir(opts.draw, { recursive: true });
  const bar = new SingleBar({
    format: 'predict [{bar}] {value}/{total} images',
    stream: process.stderr,
    noTTYOutput: true,
    notTTYSchedule: 10_000,
    barsize: 30,
  });
  bar.start(files.length, 0);
  try {
    for (let start = 0; start < files.length; start += opts.batch) {
      const batchFiles = files.slice(start, start + opts.batch);
      const loaded = [];
      for (const file of batchFiles) {
        try {
          loaded.push({ file, image: await loadNetworkImage(file, fit, box) });
        } catch (err) {
          failures.push({ file, reason: err instanceof Error ? err.message : String(err) });
        }
      }
      const pixels = new Uint8Array(loaded.length * PIXELS);
      for (const [i, l] of loaded.entries()) pixels.set(l.image.pixels, i * PIXELS);
      const px =
        loaded.length > 0 ? predictor.predict(pixels, loaded.length, opts.batch) : new Float32Array();
      for (const [i, { file, image }] of loaded.entries()) {
        const coordinates = px.slice(i * COORDINATES, (i + 1) * COORDINATES);
        for (let k = 0; k < COORDINATES; k += 2) {
          const p = toOriginal(image.box, toInputEdges(coordinates[k]!), toInputEdges(coordinates[k + 1]!));
          coordinates[k] = p.x;
          coordinates[k + 1] = p.y;
        }
        const prediction = { image: file, width: image.width, height: image.height, coordinates };
        predictions.push(prediction);
        if (opts.draw) {
          const outFile = path.join(opts.draw, `${path.parse(file).name}.png`);
          await drawKeypoints(file, prediction, outFile).catch((err: unknown) =>
            failures.push({
              file,
              reason: `drawing ${outFile}: ${err instanceof Error ? err.message : err}`,
            }),
          );
        }
      }
      bar.update(start + batchFiles.length);
    }
  } finally {
    bar.stop();
    predictor.dispose();
  }
  return { predictions, failures };
}

/** `facepoints predict --run RUN_OR_DIR [--out URL] [--json] [--fit crop|pad] [--box x,y,w,h] IMAGES...` */
export function registerPredictCommand(program: Command): void {
  program
    .command('predict')
    .description('predict the 15 facial keypoints of your own images with a trained run')
    .argument('<images...>', 'image files (PNG, JPEG, WebP, ...) or folders of them')
    .requiredOption('--run <run>', 'the run folder or URL (file://, s3://) with finished models')
    .option('--out <url>', 'write the CSV/JSON here (a path, file:// or s3:// URL) instead of stdout')
    .option('--json', 'JSON instead of CSV')
    .option('--fit <mode>', 'bring each image to 96x96: crop (centre square) or pad (to a square)', 'crop')
    .option('--box <x,y,w,h>', 'use this box of each image (original pixels) instead', parseBox)
    .option('--model <unit>', 'one unit instead of the merged specialists, e.g. baseline')
    .option('--draw <dir>', 'write each image with its keypoints drawn and labelled into this folder')
    .option('--batch <n>', 'images per model call', integerOption('--batch', { min: 1 }), 64)
    .action(async (images: string[], opts: PredictCliOptions) => {
      if (!['crop', 'pad', 'box'].includes(opts.fit))
        throw new Error(`--fit: expected crop, pad or box, found "${opts.fit}"`);
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const { predictions, failures } = await runPredict(images, opts, log);
      await writeOutput(opts.out, opts.json ? predictionsJson(predictions) : predictionsCsv(predictions));
      for (const f of failures) log(`${f.file}: ${f.reason}`);
      if (failures.length > 0) {
        log(`${failures.length} of ${failures.length + predictions.length} images failed`);
        process.exitCode = 1;
      }
    });
}
