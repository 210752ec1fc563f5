import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import seedrandom from 'seedrandom';
import type { RunDeps } from '../../../trainer/run/run-training';
import {
  ALWAYS_LABELLED,
  IMAGE_SIZE,
  KEYPOINTS,
  KEYPOINT_COLUMNS,
  LOOKUP_HEADER,
  PIXELS,
  TEST_HEADER,
  TRAINING_HEADER,
} from '../../../contracts/keypoints';

/** Mean position of each keypoint on real faces (docs/seed.md, "The data"), x then y. */
const MEAN_LAYOUT: Record<string, [number, number]> = {
  left_eye_center: [66.4, 37.7],
  right_eye_center: [30.3, 38.0],
  left_eye_inner_corner: [59.2, 37.9],
  left_eye_outer_corner: [73.3, 37.7],
  right_eye_inner_corner: [36.7, 38.0],
  right_eye_outer_corner: [22.4, 38.0],
  left_eyebrow_inner_end: [56.1, 29.3],
  left_eyebrow_outer_end: [79.5, 29.7],
  right_eyebrow_inner_end: [39.3, 29.5],
  right_eyebrow_outer_end: [15.9, 30.4],
  nose_tip: [48.4, 62.7],
  mouth_left_corner: [63.3, 76.0],
  mouth_right_corner: [32.9, 76.2],
  mouth_center_top_lip: [48.0, 72.9],
  mouth_center_bottom_lip: [48.6, 79.0],
};

/**
 * A face made of bright spots at its keypoints, shifted as a whole by up to `shift` px: a task a small CNN
 * learns in a few epochs, while the mean predictor stays several pixels off.
 */
function face(rng: () => number, shift: number): { pixels: Uint8Array; labels: number[] } {
  const dx = (rng() * 2 - 1) * shift;
  const dy = (rng() * 2 - 1) * shift;
  const labels: number[] = [];
  const pixels = new Uint8Array(PIXELS);
  for (let i = 0; i < PIXELS; i++) pixels[i] = 30 + Math.floor(rng() * 30);
  for (const k of KEYPOINTS) {
    const layout = MEAN_LAYOUT[k];
    if (!layout) throw new Error(`kaggle fixture: expected a mean position for keypoint ${k}, found none`);
    const [mx, my] = layout;
    const x = mx + dx;
    const y = my + dy;
    labels.push(Math.round(x * 100) / 100, Math.round(y * 100) / 100);
    for (let v = -2; v <= 2; v++) {
      for (let u = -2; u <= 2; u++) {
        const px = Math.round(x) + u;
        const py = Math.round(y) + v;
        if (px >= 0 && px < IMAGE_SIZE && py >= 0 && py < IMAGE_SIZE)
          pixels[py * IMAGE_SIZE + px] = Math.abs(u) + Math.abs(v) <= 2 ? 230 : 150;
      }
    }
  }
  return { pixels, labels };
}

/**
 * Kaggle-format training.csv, test.csv and IdLookupTable.csv in `dir`: `rows` training faces (two thirds
 * carry only the four always-labelled keypoints, as in the real file), `testImages` test faces, and a lookup
 * table asking for a few features of each test image.
 */
export async function writeKaggleFixture(
  dir: string,
  rows: number,
  testImages: number,
  seed = 7,
  shift = 10,
): Promise<void> {
  const rng = seedrandom(String(seed));
  await fs.mkdir(dir, { recursive: true });
  const always = new Set(ALWAYS_LABELLED.flatMap((k) => [`${k}_x`, `${k}_y`]));
  const training = [TRAINING_HEADER.join(',')];
  for (let r = 0; r < rows; r++) {
    const f = face(rng, shift);
    const complete = r % 3 === 0;
    const labels = f.labels.map((v, c) =>
      complete || always.has(KEYPOINT_COLUMNS[c] ?? '') ? String(v) : '',
    );
    training.push(`${labels.join(',')},${Array.from(f.pixels).join(' ')}`);
  }
  const test = [TEST_HEADER.join(',')];
  const lookup = [LOOKUP_HEADER.join(',')];
  let rowId = 1;
  for (let i = 1; i <= testImages; i++) {
    test.push(`${i},${Array.from(face(rng, shift).pixels).join(' ')}`);
    const features = i % 2 === 0 ? KEYPOINT_COLUMNS : [...always];
    for (const feature of features) lookup.push(`${rowId++},${i},${feature},`);
  }
  await fs.writeFile(path.join(dir, 'training.csv'), `${training.join('\n')}\n`);
  await fs.writeFile(path.join(dir, 'test.csv'), `${test.join('\n')}\n`);
  await fs.writeFile(path.join(dir, 'IdLookupTable.csv'), `${lookup.join('\n')}\n`);
}

/**
 * `--set` settings that make a run of the quick preset train in seconds: `epochs` per unit, a
 * checkpoint every epoch, a network of a few hundred weights. Results still differ per unit and seed.
 */
export function tinySettings(epochs: number): string[] {
  return [
    `baseline.maxEpochs=${epochs}`,
    `specialists.maxEpochs=${epochs}`,
    'batchSize=32',
    'network.convFilters=2,2,2',
    'network.denseUnits=8,8',
    'checkpointEveryEpochs=1',
  ];
}

/**
 * Run dependencies for a test: logged lines go to `lines`, the progress display to a sink nobody reads, and
 * the machine is not an EC2 instance; `extra` adds or overrides.
 */
export function quietDeps(lines: string[] = [], extra: Partial<RunDeps> = {}): RunDeps {
  const sink = new PassThrough();
  sink.resume();
  return { log: (l) => lines.push(l), progress: { stream: sink, tty: false }, instanceType: null, ...extra };
}
