import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { writeSampleData } from '../../../trainer/data/sample-faces';
import { resolveTrainConfig } from '../../../trainer/run/resolve-config';
import { runTraining } from '../../../trainer/run/run-training';

/**
 * The product's promise on a laptop: the quick preset, unchanged, on generated faces, takes the six
 * specialists to at most half of Model 0's dev RMSE. Minutes of CPU: the one slow test of the run.
 */
describe('learning with the quick preset', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'facepoints-learn-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it(
    "the six specialists reach at most half of the mean predictor's dev RMSE",
    async () => {
      const data = path.join(root, 'data');
      await writeSampleData(data, { rows: 1200, testRows: 20, seed: 5 });
      const sink = new PassThrough();
      sink.resume();
      const lines: string[] = [];
      const outcome = await runTraining(
        resolveTrainConfig({ data, out: `file://${root}/runs`, run: 'learn', preset: 'quick' }),
        { log: (l) => lines.push(l), progress: { stream: sink, tty: false }, instanceType: null },
      );
      expect(outcome.state).toBe('succeeded');
      const rmse = Object.fromEntries(outcome.summary!.models.map((m) => [m.name, m.devRmsePx]));
      expect(Object.keys(rmse)).toEqual(['mean', 'baseline', 'specialists']);
      expect(rmse.specialists).toBeLessThanOrEqual((rmse.mean ?? 0) / 2);
    },
    30 * 60_000,
  );
});
