import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { promises as fs, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import sharp from 'sharp';
import { IMAGE_SIZE, KEYPOINT_COLUMNS, KEYPOINTS, PIXELS, SPECIALISTS } from '../../../contracts/keypoints';
import { runLayout } from '../../../contracts/run-layout';
import { RunSummarySchema } from '../../../contracts/run-summary';
import { registerPredictCommand } from '../../../trainer/cli/predict-command';
import { loadTest } from '../../../trainer/data/kaggle-csv';
import { saveModel } from '../../../trainer/run/model-io';
import { loadNetworkImage } from '../../../trainer/predict/image-transform';
import { resolveTrainConfig } from '../../../trainer/run/resolve-config';
import { runTraining } from '../../../trainer/run/run-training';
import { openStore } from '../../../trainer/storage/open-store';
import { writeKaggleFixture } from '../run/kaggle-fixture';

jest.setTimeout(300_000);

/** A tiny network and one epoch per unit, as test/trainer/run/run-training.test.ts: a real run, quickly. */
const TINY = [
  'baseline.maxEpochs=1',
  'specialists.maxEpochs=1',
  'batchSize=32',
  'network.convFilters=2,2,2',
  'network.denseUnits=8,8',
  'checkpointEveryEpochs=1',
];

interface Cli {
  run(args: string[]): Promise<void>;
  /** Log lines (stderr of the real command). */
  lines: string[];
  /** What the progress wrote. */
  progress(): string;
}

/** A fresh program with the predict command, as `facepoints predict ...` runs it, its stderr captured. */
function cli(): Cli {
  const lines: string[] = [];
  let progressText = '';
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    progressText += chunk.toString();
  });
  const p = new Command('facepoints').exitOverride().configureOutput({ writeErr: () => undefined });
  registerPredictCommand(p, { log: (l) => lines.push(l), progress: { stream, tty: false } });
  for (const c of p.commands) c.exitOverride().configureOutput({ writeErr: () => undefined });
  return {
    run: async (args) => {
      await p.parseAsync(['predict', ...args], { from: 'user' });
    },
    lines,
    progress: () => progressText,
  };
}

type CsvRow = Record<string, string>;
async function readCsvRows(file: string): Promise<CsvRow[]> {
  const [header, ...rows] = (await fs.readFile(file, 'utf8')).trim().split('\n');
  const names = header!.split(',');
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [names[i], v])));
}

const coordinatesOf = (row: CsvRow) => KEYPOINT_COLUMNS.map((c) => Number(row[c]));

describe('facepoints predict with a trained run', () => {
  let root: string;
  let data: string;
  let run: string;
  let faces: string;
  let bestModel: string;

  const out = (name: string) => path.join(root, 'out', name);

  beforeAll(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'facepoints-predict-'));
    data = path.join(root, 'data');
    await writeKaggleFixture(data, 90, 6);
    const sink = new PassThrough();
    sink.resume();
    const config = resolveTrainConfig({
      data,
      out: `file://${root}/runs`,
      run: 't1',
      preset: 'quick',
      set: TINY,
    });
    const outcome = await runTraining(config, {
      log: () => {},
      progress: { stream: sink, tty: false },
      instanceType: null,
      heartbeatMs: 60_000,
    });
    expect(outcome.state).toBe('succeeded');
    run = path.join(root, 'runs', 't1');
    bestModel = RunSummarySchema.parse(
      JSON.parse(await fs.readFile(path.join(run, runLayout.summary), 'utf8')),
    ).bestModel;
    // Faces of the generated test set as image files of different formats.
    const test = await loadTest(path.join(data, 'test.csv'));
    faces = path.join(root, 'faces');
    await fs.mkdir(faces);
    const face = (i: number) =>
      sharp(Buffer.from(test.pixels.subarray(i * PIXELS, (i + 1) * PIXELS)), {
        raw: { width: IMAGE_SIZE, height: IMAGE_SIZE, channels: 1 },
      });
    await face(0).png().toFile(path.join(faces, 'face0.png'));
    await face(1).jpeg({ quality: 95 }).toFile(path.join(faces, 'face1.jpg'));
    await face(2).webp({ lossless: true }).toFile(path.join(faces, 'face2.webp'));
    await fs.writeFile(path.join(faces, 'notes.txt'), 'not an image, and not taken from a folder');
    await fs.writeFile(path.join(faces, '._face0.png'), 'a hidden file beside a picture');
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));
  beforeEach(() => {
    process.exitCode = undefined;
  });
  afterEach(() => {
    process.exitCode = undefined;
  });

  it('predicts a folder of PNG, JPEG and WebP faces: one CSV row each, exit code 0, progress shown', async () => {
    const c = cli();
    await c.run(['--run', run, '--out', out('folder.csv'), faces]);
    expect(process.exitCode).toBeUndefined();
    const rows = await readCsvRows(out('folder.csv'));
    expect(rows.map((r) => path.basename(r.image!))).toEqual(['face0.png', 'face1.jpg', 'face2.webp']);
    for (const r of rows) {
      expect([r.width, r.height]).toEqual(['96', '96']);
      for (const v of coordinatesOf(r)) {
        expect(v).toBeGreaterThanOrEqual(-0.5);
        expect(v).toBeLessThanOrEqual(95.5);
      }
    }
    const specialists = SPECIALISTS.map((s) => `specialists/${s.name}`);
    expect(c.lines).toContain(
      `predicting with ${specialists.join(', ')} (test-time augmentation: flip-shift)`,
    );
    expect(c.progress()).toContain('predict: 3/3 images');
  });

  it('names an unreadable file with the reason, still writes the others, and exits with 1', async () => {
    const broken = path.join(root, 'broken.png');
    await fs.writeFile(broken, 'not an image');
    const notTest = path.join(root, 'not-test.csv');
    await fs.writeFile(notTest, 'Id,Pixels\n1,0 0 0\n');
    const c = cli();
    await c.run([
      '--run',
      run,
      '--out',
      out('some-broken.csv'),
      path.join(faces, 'face0.png'),
      broken,
      path.join(faces, 'face1.jpg'),
      path.join(root, 'no-such-*.png'),
      notTest,
    ]);
    expect(process.exitCode).toBe(1);
    const rows = await readCsvRows(out('some-broken.csv'));
    expect(rows.map((r) => path.basename(r.image!))).toEqual(['face0.png', 'face1.jpg']);
    expect(c.lines.find((l) => l.startsWith(`${broken}: `))).toMatch(/unsupported image format/);
    expect(c.lines).toContain(`${notTest}:1:1: expected header field 1 to be "ImageId", found "Id"`);
    expect(c.lines).toContain(
      `${path.join(root, 'no-such-*.png')}: expected a file, a folder or a pattern, found a pattern that matched nothing`,
    );
  });

  it('expands a quoted pattern itself, sorted and without hidden files, as a shell would', async () => {
    const c = cli();
    await c.run(['--run', run, '--out', out('pattern.csv'), path.join(faces, 'face*.{png,webp}')]);
    expect(process.exitCode).toBeUndefined();
    const rows = await readCsvRows(out('pattern.csv'));
    expect(rows.map((r) => path.basename(r.image!))).toEqual(['face0.png', 'face2.webp']);
  });

  it('writes JSON with the 15 keypoints, x and y, per image', async () => {
    await cli().run(['--run', run, '--json', '--out', out('faces.json'), path.join(faces, 'face0.png')]);
    const json = JSON.parse(await fs.readFile(out('faces.json'), 'utf8')) as Array<{
      image: string;
      width: number;
      height: number;
      keypoints: Record<string, { x: number; y: number }>;
    }>;
    expect(json).toHaveLength(1);
    expect(json[0]).toMatchObject({ image: path.join(faces, 'face0.png'), width: 96, height: 96 });
    expect(Object.keys(json[0]!.keypoints)).toEqual([...KEYPOINTS]);
    for (const p of Object.values(json[0]!.keypoints)) {
      expect(typeof p.x).toBe('number');
      expect(typeof p.y).toBe('number');
    }
  });

  it('reports --box and --fit pad keypoints in the pixels of a bigger, non-square picture', async () => {
    // The face, twice its size, on a 300x200 canvas at (40, 4): --box 40,4,192,192 gives the network the face back.
    const big = path.join(root, 'canvas.png');
    await sharp({ create: { width: 300, height: 200, channels: 3, background: { r: 0, g: 0, b: 0 } } })
      .composite([
        {
          input: await sharp(path.join(faces, 'face0.png')).resize(192, 192).png().toBuffer(),
          left: 40,
          top: 4,
        },
      ])
      .png()
      .toFile(big);
    // The network's input for that box, saved as a 96x96 picture, which predict takes as it is.
    const input = await loadNetworkImage(big, 'box', { x: 40, y: 4, w: 192, h: 192 });
    await sharp(Buffer.from(input.pixels), { raw: { width: IMAGE_SIZE, height: IMAGE_SIZE, channels: 1 } })
      .png()
      .toFile(path.join(root, 'input.png'));
    await cli().run(['--run', run, '--out', out('small.csv'), path.join(root, 'input.png')]);
    await cli().run(['--run', run, '--box', '40,4,192,192', '--out', out('box.csv'), big]);
    const small = coordinatesOf((await readCsvRows(out('small.csv')))[0]!);
    const boxed = (await readCsvRows(out('box.csv')))[0]!;
    expect([boxed.width, boxed.height]).toEqual(['300', '200']);
    // Input pixel u covers original pixels [40 + 2u, 40 + 2u + 2): its centre is at 40 + 2u + 0.5 (the CSV
    // keeps two decimals).
    coordinatesOf(boxed).forEach((v, i) => {
      expect(v).toBeCloseTo((i % 2 === 0 ? 40 : 4) + 2 * small[i]! + 0.5, 1);
    });
    // The face itself, scaled down from the canvas, lands where the network finds it in the original.
    const original = path.join(faces, 'face0.png');
    await cli().run(['--run', run, '--out', out('original.csv'), original]);
    const face = coordinatesOf((await readCsvRows(out('original.csv')))[0]!);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(mean(small) - mean(face))).toBeLessThan(1);

    // --fit pad of a 192x150 picture is the 192x192 square with 21 black rows above and below it.
    const square = path.join(root, 'square.png');
    const strip = path.join(root, 'strip.png');
    const band = await sharp(big).extract({ left: 40, top: 25, width: 192, height: 150 }).png().toBuffer();
    await sharp(band).png().toFile(strip);
    await sharp(band)
      .extend({ top: 21, bottom: 21, background: { r: 0, g: 0, b: 0 } })
      .png()
      .toFile(square);
    await cli().run(['--run', run, '--out', out('square.csv'), square]);
    await cli().run(['--run', run, '--fit', 'pad', '--out', out('pad.csv'), strip]);
    const sq = coordinatesOf((await readCsvRows(out('square.csv')))[0]!);
    const padded = (await readCsvRows(out('pad.csv')))[0]!;
    expect([padded.width, padded.height]).toEqual(['192', '150']);
    coordinatesOf(padded).forEach((v, i) => {
      expect(v).toBeCloseTo(sq[i]! - (i % 2 === 0 ? 0 : 21), 1);
    });
  });

  it('reads a photo by its EXIF orientation, as viewers show it', async () => {
    // canvas.png stored turned a quarter left, tagged "turn right to view" (EXIF orientation 6).
    const turned = path.join(root, 'turned.jpg');
    await sharp(path.join(root, 'canvas.png'))
      .rotate(270)
      .jpeg({ quality: 100 })
      .withMetadata({ orientation: 6 })
      .toFile(turned);
    expect(await sharp(turned).metadata()).toMatchObject({ width: 200, height: 300, orientation: 6 });
    await cli().run(['--run', run, '--box', '40,4,192,192', '--out', out('turned.csv'), turned]);
    const row = (await readCsvRows(out('turned.csv')))[0]!;
    expect([row.width, row.height]).toEqual(['300', '200']);
    const upright = coordinatesOf((await readCsvRows(out('box.csv')))[0]!);
    coordinatesOf(row).forEach((v, i) => {
      expect(Math.abs(v - upright[i]!)).toBeLessThan(1);
    });
  });

  it('takes one model folder as --run and predicts as --model of that unit', async () => {
    await cli().run([
      '--run',
      path.join(run, runLayout.modelDir('baseline')),
      '--out',
      out('folder-model.csv'),
      path.join(faces, 'face1.jpg'),
    ]);
    await cli().run([
      '--run',
      run,
      '--model',
      'baseline',
      '--out',
      out('unit-model.csv'),
      path.join(faces, 'face1.jpg'),
    ]);
    const a = coordinatesOf((await readCsvRows(out('folder-model.csv')))[0]!);
    const b = coordinatesOf((await readCsvRows(out('unit-model.csv')))[0]!);
    expect(a).toEqual(b);
  });

  it("predicts in the run's test-time views (the quick preset's flip-shift) unless told otherwise", async () => {
    const predictWith = async (name: string, extra: string[]) => {
      const c = cli();
      await c.run([
        '--run',
        run,
        '--model',
        'baseline',
        ...extra,
        '--out',
        out(name),
        path.join(faces, 'face1.jpg'),
      ]);
      return { at: coordinatesOf((await readCsvRows(out(name)))[0]!), lines: c.lines };
    };
    const byRun = await predictWith('views-run.csv', []);
    const eight = await predictWith('views-8.csv', ['--test-time-augmentation', 'flip-shift']);
    const one = await predictWith('views-1.csv', ['--test-time-augmentation', 'none']);
    expect(byRun.lines).toContain('predicting with baseline (test-time augmentation: flip-shift)');
    expect(byRun.at).toEqual(eight.at);
    expect(one.at).not.toEqual(eight.at);
  });

  it('draws each picture at its own size', async () => {
    const drawn = path.join(root, 'drawn');
    await fs.copyFile(path.join(root, 'strip.png'), path.join(root, 'face0.png'));
    await cli().run([
      '--run',
      run,
      '--draw',
      drawn,
      '--out',
      out('drawn.csv'),
      path.join(root, 'canvas.png'),
      path.join(faces, 'face0.png'),
      path.join(root, 'face0.png'),
    ]);
    const size = async (name: string) => {
      const meta = await sharp(path.join(drawn, name)).metadata();
      return [meta.width, meta.height];
    };
    expect(await size('canvas.png')).toEqual([300, 200]);
    // Two pictures of one name from two folders are both drawn.
    expect(await size('face0.png')).toEqual([96, 96]);
    expect(await size('face0-2.png')).toEqual([192, 150]);
  });

  it('refuses a model folder of another network, naming the folder and what differs', async () => {
    const other = path.join(root, 'other');
    const store = openStore(`file://${other}`);
    const model = tf.sequential({
      layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }), tf.layers.dense({ units: 10 })],
    });
    await saveModel(model, store, 'baseline');
    await store.flush();
    model.dispose();
    await expect(
      cli().run(['--run', path.join(other, 'models', 'baseline'), path.join(faces, 'face0.png')]),
    ).rejects.toThrow(
      `file://${other}/models/baseline/model.json: expected a network of baseline taking [null,96,96,1] and giving 30 outputs, ` +
        'found input [null,28,28,1] and output [null,10]',
    );
  });

  it('refuses a run without finished models, naming the run', async () => {
    const unfinished = path.join(root, 'runs', 'unfinished');
    await fs.mkdir(unfinished, { recursive: true });
    await fs.copyFile(path.join(run, runLayout.config), path.join(unfinished, runLayout.config));
    await expect(cli().run(['--run', unfinished, path.join(faces, 'face0.png')])).rejects.toThrow(
      `expected finished models in file://${unfinished} (a models/baseline/done.json or all six specialists), found none`,
    );
  });

  it("writes a test.csv's submission as the run's report does, for the lookup table beside it or any other", async () => {
    const model = bestModel === 'baseline' ? ['--model', 'baseline'] : [];
    const c = cli();
    await c.run([
      '--run',
      run,
      ...model,
      '--submission',
      out('submission.csv'),
      '--out',
      out('test-predictions.csv'),
      path.join(data, 'test.csv'),
    ]);
    expect(process.exitCode).toBeUndefined();
    const ours = await readCsvRows(out('submission.csv'));
    const report = await readCsvRows(path.join(run, runLayout.submission));
    expect(ours.map((r) => r.RowId)).toEqual(report.map((r) => r.RowId));
    ours.forEach((r, i) => {
      expect(Number(r.Location)).toBeCloseTo(Number(report[i]!.Location), 2);
    });
    expect(await readCsvRows(out('test-predictions.csv'))).toHaveLength(6);

    // Another table: three rows of image 4, in its own order.
    const lookup = path.join(root, 'lookup.csv');
    await fs.writeFile(
      lookup,
      'RowId,ImageId,FeatureName,Location\n7,4,nose_tip_y,\n3,4,left_eye_center_x,\n9,4,mouth_left_corner_x,\n',
    );
    await cli().run([
      '--run',
      run,
      ...model,
      '--lookup',
      lookup,
      '--submission',
      out('submission-3.csv'),
      '--out',
      out('test-predictions-3.csv'),
      path.join(data, 'test.csv'),
    ]);
    const three = await readCsvRows(out('submission-3.csv'));
    const image4 = (await readCsvRows(out('test-predictions-3.csv'))).find((r) =>
      r.image!.endsWith('#ImageId=4'),
    )!;
    expect(three.map((r) => r.RowId)).toEqual(['7', '3', '9']);
    expect(three.map((r) => Number(r.Location))).toEqual(
      ['nose_tip_y', 'left_eye_center_x', 'mouth_left_corner_x'].map((f) =>
        expect.closeTo(Number(image4[f]), 1),
      ),
    );
  });
});
