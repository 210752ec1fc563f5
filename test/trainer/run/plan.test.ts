import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadKaggleDir } from '../../../trainer/data/kaggle-csv';
import { splitTrainDev } from '../../../trainer/data/split';
import type { FaceSet } from '../../../trainer/data/dataset';
import { KEYPOINT_COLUMNS, SPECIALISTS } from '../../../contracts/keypoints';
import { formatPlan, planRun, type TrainedUnit } from '../../../trainer/run/plan';
import { resolveTrainConfig } from '../../../trainer/run/resolve-config';
import { writeKaggleFixture } from './kaggle-fixture';

describe('planRun', () => {
  let root: string;
  let training: FaceSet;
  let split: { train: Int32Array; dev: Int32Array };
  const notDone = async () => false;
  const config = (models: string, set: string[] = []) =>
    resolveTrainConfig({
      data: 'unused',
      out: 'file:///unused',
      preset: 'quick',
      models,
      set: ['network.convFilters=2,2,2', 'network.denseUnits=8,8', ...set],
    });

  beforeAll(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'facepoints-plan-'));
    // 90 rows, one in three complete: 72 train rows (24 complete), 18 dev rows (6 complete).
    await writeKaggleFixture(root, 90, 2);
    training = (await loadKaggleDir(root)).training;
    split = splitTrainDev(training, 0.2, 42);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('puts mean first and the requested models in ladder order, whatever order they were asked in', async () => {
    const plan = await planRun({
      config: config('specialists-augmented,cnn,baseline,mlp,specialists'),
      training,
      split,
      isDone: notDone,
    });
    expect(plan.units.map((u) => u.unit)).toEqual([
      'mean',
      'mlp',
      'cnn',
      'baseline',
      ...SPECIALISTS.map((s) => `specialists/${s.name}`),
      ...SPECIALISTS.map((s) => `specialists-augmented/${s.name}`),
    ]);
    const mean = plan.units[0]!;
    expect(mean.network).toBeNull();
    expect(mean.trainRows.length).toBe(split.train.length);
    expect(mean.devRows.length).toBe(split.dev.length);
  });

  it('gives each unit its columns, the rows where all of them are present, and its parameters', async () => {
    const plan = await planRun({ config: config('baseline,specialists'), training, split, isDone: notDone });
    const baseline = plan.units.find((u) => u.unit === 'baseline')!;
    expect(baseline.columns).toEqual(KEYPOINT_COLUMNS);
    expect([baseline.trainRows.length, baseline.devRows.length]).toEqual([24, 6]);
    const eyes = plan.units.find((u) => u.unit === 'specialists/eye-centers')!;
    expect(eyes.columns).toEqual(SPECIALISTS[0]?.columns);
    expect([eyes.trainRows.length, eyes.devRows.length]).toEqual([72, 18]);
    const brows = plan.units.find((u) => u.unit === 'specialists/eyebrows')!;
    expect([brows.trainRows.length, brows.devRows.length]).toEqual([24, 6]);
    expect(brows.initFromBaseline).toBe(true);
    // The networks differ only in the output layer: (hidden 8 + 1 bias) per output.
    expect(brows.params - eyes.params).toBe(9 * (8 - 4));
  });

  it('with missing: mask, trains and judges each unit on the rows with at least one of its columns', async () => {
    const plan = await planRun({
      config: config('baseline,specialists', ['baseline.missing=mask', 'specialists.missing=mask']),
      training,
      split,
      isDone: notDone,
    });
    const baseline = plan.units.find((u) => u.unit === 'baseline') as TrainedUnit;
    expect(baseline.missing).toBe('mask');
    // Every fixture row carries the four keypoints of the incomplete rows.
    expect([baseline.trainRows.length, baseline.devRows.length]).toEqual([72, 18]);
    const brows = plan.units.find((u) => u.unit === 'specialists/eyebrows')!;
    const anyBrow = (rows: Int32Array) =>
      Array.from(rows).filter((r) =>
        SPECIALISTS[5]!.columns.some(
          (c) => !Number.isNaN(training.labels[r * 30 + KEYPOINT_COLUMNS.indexOf(c)]!),
        ),
      ).length;
    expect([brows.trainRows.length, brows.devRows.length]).toEqual([
      anyBrow(split.train),
      anyBrow(split.dev),
    ]);
    const drop = await planRun({ config: config('baseline'), training, split, isDone: notDone });
    expect((drop.units.find((u) => u.unit === 'baseline') as TrainedUnit).missing).toBe('drop');
  });

  it('caps specialist epochs by the epoch budget over their training images', async () => {
    const c = config('baseline,specialists,specialists-augmented', [
      'specialistEpochBudget=720',
      'specialists.maxEpochs=20',
      'augmentations=sharpen',
    ]);
    const plan = await planRun({ config: c, training, split, isDone: notDone });
    const epochs = (unit: string) => plan.units.find((u) => u.unit === unit)!.maxEpochs;
    expect(epochs('baseline')).toBe(c.baseline.maxEpochs);
    expect(epochs('specialists/eye-centers')).toBe(10); // 720 / 72 rows
    expect(epochs('specialists/eyebrows')).toBe(20); // 720 / 24 = 30, capped at 20
    expect(epochs('specialists-augmented/eye-centers')).toBe(5); // 720 / (72 x 2 images)
    expect(plan.units.find((u) => u.unit === 'specialists-augmented/eye-centers')!.trainImages).toBe(144);
  });

  it('estimates time from the measured speed, epochs and images, dev evaluation included', async () => {
    const probed: string[] = [];
    const plan = await planRun({
      config: config('baseline'),
      training,
      split,
      isDone: notDone,
      probe: async (kind) => {
        probed.push(kind);
        return 100;
      },
    });
    const b = plan.units[1]!;
    expect(b.estimatedSeconds).toBeCloseTo((b.maxEpochs * (24 + 6 / 3)) / 100, 6);
    expect(probed).toEqual(['baseline']);
    expect(formatPlan(plan, 'wasm')).toContain(`baseline  baseline`);
  });

  it('refuses specialists that start from a baseline the run does not have', async () => {
    await expect(
      planRun({ config: config('specialists'), training, split, isDone: notDone }),
    ).rejects.toThrow(
      '--models specialists: the specialists start from the trained baseline, but this run has none ' +
        '(baseline is not requested and models/baseline/done.json is not in the run); ' +
        'add baseline to --models, resume a run whose baseline is done, or --set specialistsFromBaseline=false',
    );
    const resumed = await planRun({
      config: config('specialists'),
      training,
      split,
      isDone: async (u) => u === 'baseline',
    });
    expect(resumed.units.map((u) => u.unit)).toContain('specialists/nose-tip');
    const fresh = await planRun({
      config: config('specialists', ['specialistsFromBaseline=false']),
      training,
      split,
      isDone: notDone,
    });
    expect(fresh.units.every((u) => !u.initFromBaseline)).toBe(true);
  });

  it('marks units finished by an earlier attempt', async () => {
    const plan = await planRun({
      config: config('baseline,specialists'),
      training,
      split,
      isDone: async (u) => u === 'specialists/nose-tip',
    });
    expect(plan.units.filter((u) => u.done).map((u) => u.unit)).toEqual(['specialists/nose-tip']);
  });
});
