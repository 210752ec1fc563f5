import * as tf from '@tensorflow/tfjs';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { KEYPOINT_COLUMNS } from '../../../contracts/keypoints';
import { runPredict } from '../../../trainer/cli/predict-command';
import { predictionsCsv } from '../../../trainer/predict/predict-output';
import { saveModel } from '../../../trainer/run/model-io';
import { writeDoneMarker } from '../../../trainer/run/run-files';
import { openStore } from '../../../trainer/storage/open-store';

jest.setTimeout(60_000);

it('predicts a PNG and a JPEG of different sizes in their own pixels and names the unreadable file', async () => {
  await tf.setBackend('cpu');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'predict-'));
  const store = openStore(`file://${dir}/run`);
  const model = tf.sequential({
    layers: [tf.layers.flatten({ inputShape: [96, 96, 1] }), tf.layers.dense({ units: 30 })],
  });
  await saveModel(model, store, 'baseline');
  await writeDoneMarker(store, {
    unit: 'baseline',
    trainRows: 1,
    devRows: 1,
    params: 1,
    maxEpochs: 1,
    epochsRun: 1,
    bestEpoch: 1,
    bestDevRmsePx: 1,
    stoppedEarly: false,
    trainSeconds: 0,
    finishedAt: new Date().toISOString(),
  });
  await store.flush();
  const noise = (w: number, h: number) =>
    sharp(Buffer.from(Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 256)), {
      raw: { width: w, height: h, channels: 3 },
    });
  await noise(200, 120).png().toFile(path.join(dir, 'a.png'));
  await noise(90, 300).jpeg().toFile(path.join(dir, 'b.jpg'));
  await fs.writeFile(path.join(dir, 'broken.png'), 'not an image');
  const { predictions, failures } = await runPredict(
    [path.join(dir, 'a.png'), path.join(dir, 'broken.png'), path.join(dir, 'b.jpg')],
    { run: path.join(dir, 'run'), fit: 'crop', batch: 2, backend: 'cpu', draw: path.join(dir, 'drawn') },
    { log: () => {} },
  );
  expect(failures.map((f) => f.file)).toEqual([path.join(dir, 'broken.png')]);
  const lines = predictionsCsv(predictions).trim().split('\n');
  expect(lines[0]).toBe(['image', 'width', 'height', ...KEYPOINT_COLUMNS].join(','));
  expect(lines).toHaveLength(3);
  for (const p of predictions) {
    for (let k = 0; k < 30; k += 2) {
      expect(p.coordinates[k]).toBeGreaterThanOrEqual(-0.5);
      expect(p.coordinates[k]).toBeLessThanOrEqual(p.width - 0.5);
      expect(p.coordinates[k + 1]).toBeGreaterThanOrEqual(-0.5);
      expect(p.coordinates[k + 1]).toBeLessThanOrEqual(p.height - 0.5);
    }
  }
  expect(predictions.map((p) => [p.width, p.height])).toEqual([
    [200, 120],
    [90, 300],
  ]);
  expect((await sharp(path.join(dir, 'drawn', 'b.png')).metadata()).width).toBe(90);
});
