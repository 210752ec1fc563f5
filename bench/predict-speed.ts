import * as tf from '@tensorflow/tfjs';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import seedrandom from 'seedrandom';
import sharp from 'sharp';
import { COORDINATES, IMAGE_SIZE, SPECIALISTS } from '../contracts/keypoints';
import type { PresetName } from '../contracts/presets';
import { unitId } from '../contracts/run-layout';
import { selectBackend } from '../trainer/backend/select-backend';
import { runPredict } from '../trainer/cli/predict-command';
import type { BackendName } from '../trainer/config';
import { generateFace } from '../trainer/data/sample-faces';
import { buildNetwork } from '../trainer/models/ladder';
import { SeedSource } from '../trainer/models/seed-source';
import { predictionsCsv } from '../trainer/predict/predict-output';
import { presetConfig } from '../trainer/presets';
import { saveModel } from '../trainer/run/model-io';
import { writeDoneMarker } from '../trainer/run/run-files';
import { FileStore } from '../trainer/storage/file-store';

export interface PredictSpeedOptions {
  /** Image files predicted. @default 1000 */
  images?: number;
  /** Images per model call, as predict's --batch. @default 64 */
  batch?: number;
  /** The networks of this preset's run: the seed's (96x96, 16.6M parameters each) or quick's (48x48, narrow). @default 'seed' */
  preset?: PresetName;
  /** Predict with this one unit instead of the merged specialists (the run's default), e.g. baseline. */
  model?: string;
  /** Force a backend; default: the best that loads here (predict's own choice). */
  backend?: BackendName;
  log?: (line: string) => void;
}

export interface PredictSpeedResult {
  predictImages: number;
  /** Images per second from the command's start (backend, models, every file read, predicted, CSV made). */
  predictImagesPerSecond: number;
  predictSeconds: number;
  /** Of predictSeconds, choosing the backend and loading the models. */
  predictLoadSeconds: number;
  predictUnits: string;
  predictBackend: string;
}

/** Distinct faces drawn; the files repeat them at other sizes and formats (the speed does not depend on the face). */
const DISTINCT_FACES = 20;

/**
 * A preset's networks (baseline, six specialists) with untrained weights in a run folder, as a finished run
 * holds them: predict's speed depends on the networks' shapes, not on what they learnt.
 */
async function writeRun(dir: string, preset: PresetName): Promise<void> {
  const store = new FileStore(dir);
  const seeds = new SeedSource(1);
  const config = presetConfig(preset);
  const units = [
    { unit: 'baseline', outputs: COORDINATES },
    ...SPECIALISTS.map((s) => ({ unit: unitId('specialists', s.name), outputs: s.columns.length })),
  ];
  for (const { unit, outputs } of units) {
    const model = buildNetwork('baseline', outputs, config, seeds);
    await saveModel(model, store, unit);
    await writeDoneMarker(store, {
      unit,
      trainRows: 0,
      devRows: 0,
      params: model.countParams(),
      maxEpochs: 0,
      epochsRun: 0,
      bestEpoch: 0,
      bestDevRmsePx: 0,
      stoppedEarly: false,
      trainSeconds: 0,
      finishedAt: new Date().toISOString(),
    });
    model.dispose();
  }
  await store.flush();
}

/** `count` pictures of generated faces, PNG and JPEG, 96 to 480 pixels wide, some not square. */
async function writeImages(dir: string, count: number): Promise<string[]> {
  const rng = seedrandom('predict-bench');
  const faces = [];
  for (let i = 0; i < DISTINCT_FACES; i++) faces.push((await generateFace(rng)).pixels);
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const scale = 1 + (i % 5);
    const face = sharp(Buffer.from(faces[i % DISTINCT_FACES]!), {
      raw: { width: IMAGE_SIZE, height: IMAGE_SIZE, channels: 1 },
    }).resize(IMAGE_SIZE * scale, Math.round(IMAGE_SIZE * scale * (i % 2 === 0 ? 1 : 1.25)), { fit: 'fill' });
    const file = path.join(dir, `face-${String(i).padStart(4, '0')}.${i % 3 === 0 ? 'jpg' : 'png'}`);
    await (i % 3 === 0 ? face.jpeg() : face.png()).toFile(file);
    files.push(file);
  }
  return files;
}

/**
 * `facepoints predict` on `images` picture files end to end, through the command's own runPredict: the
 * backend, the models of a run of the preset's networks, reading and fitting every file, batched prediction, the CSV.
 */
export async function benchPredictSpeed(opts: PredictSpeedOptions = {}): Promise<PredictSpeedResult> {
  const count = opts.images ?? 1000;
  const preset = opts.preset ?? 'seed';
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'facepoints-bench-predict-'));
  try {
    const run = path.join(root, 'run');
    // The networks are built, then loaded by predict, on the backend predict chooses.
    await selectBackend({ backend: opts.backend, requireGpu: false, log });
    log(`bench: writing a run of the ${preset} preset's networks ...`);
    await writeRun(run, preset);
    log(`bench: writing ${count} pictures ...`);
    await fs.mkdir(path.join(root, 'images'));
    const files = await writeImages(path.join(root, 'images'), count);
    const sink = new PassThrough();
    sink.resume();
    let loadedAt = 0;
    let units = '';
    const start = performance.now();
    const result = await runPredict(
      files,
      { run, fit: 'crop', batch: opts.batch ?? 64, backend: opts.backend, model: opts.model },
      {
        log: (line) => {
          if (line.startsWith('predicting with ')) {
            loadedAt = performance.now();
            units = line.slice('predicting with '.length);
          }
        },
        progress: { stream: sink, tty: false },
      },
    );
    predictionsCsv(result.predictions);
    const seconds = (performance.now() - start) / 1000;
    if (result.failures.length > 0 || result.predictions.length !== count)
      throw new Error(
        `bench: expected ${count} predictions, found ${result.predictions.length}; ` +
          result.failures.map((f) => `${f.file}: ${f.reason}`).join('; '),
      );
    return {
      predictImages: count,
      predictImagesPerSecond: count / seconds,
      predictSeconds: seconds,
      predictLoadSeconds: (loadedAt - start) / 1000,
      predictUnits: units,
      predictBackend: tf.getBackend(),
    };
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}
