import { renderReportMarkdown } from '../../../trainer/report/report-markdown';
import { RunSummarySchema, type RunSummary } from '../../../contracts/run-summary';

const summary: RunSummary = RunSummarySchema.parse({
  runId: 'r1',
  preset: 'quick',
  backend: 'tensorflow-gpu',
  gpuName: 'Tesla T4',
  instanceType: 'g4dn.xlarge',
  startedAt: '2026-11-29T04:00:00.000Z',
  finishedAt: '2026-11-29T06:00:00.000Z',
  data: { trainRows: 5639, devRows: 1410, testImages: 1783, submissionRows: 27124 },
  models: [
    {
      name: 'mean',
      devRmsePx: 3.19,
      devLabels: 100,
      perKeypointRmsePx: {},
      bestLabels: ['a', 'b', 'c', 'd'],
      worstLabels: ['w', 'x', 'y', 'z'],
      trainSeconds: 0,
    },
    {
      name: 'baseline',
      devRmsePx: 1.62,
      devLabels: 100,
      perKeypointRmsePx: {},
      bestLabels: ['left_eye_inner_corner_x'],
      worstLabels: ['mouth_center_bottom_lip_y'],
      trainSeconds: 5400,
    },
  ],
  bestModel: 'baseline',
  units: [
    {
      unit: 'baseline',
      trainRows: 1712,
      devRows: 428,
      params: 16561502,
      maxEpochs: 3000,
      epochsRun: 812,
      bestEpoch: 612,
      bestDevRmsePx: 1.6,
      stoppedEarly: true,
      trainSeconds: 5400,
    },
  ],
  phases: [
    { name: 'loading', seconds: 12 },
    { name: 'baseline', seconds: 5400 },
  ],
  totalSeconds: 7200,
  hourlyPriceUsd: 0.526,
  costUsd: 1.052,
});

describe('report.md', () => {
  const md = renderReportMarkdown(summary);

  it('puts each model next to the seed figure for the same model', () => {
    expect(md).toContain('| Model 0: training mean | 3.19 | 3.2 | a, b, c, d | w, x, y, z | 0.0 s |');
    expect(md).toContain(
      '| Model 3: baseline CNN + dropout + flips | 1.62 | 1.5 | left_eye_inner_corner_x | mouth_center_bottom_lip_y | 1 h 30 min |',
    );
    expect(md).toContain('specialists at 1.4 px');
    expect(md).toContain('The submission and the pictures come from Model 3: baseline CNN + dropout + flips');
  });

  it('prices each phase at the instance rate and shows the seed time and cost table', () => {
    expect(md).toContain('Cost at $0.526 per hour (g4dn.xlarge).');
    expect(md).toContain('| baseline | 1 h 30 min | $0.79 |');
    expect(md).toContain('| **total** | **2 h 00 min** | **$1.05** |');
    expect(md).toContain('| specialists | 81 h | $52 |');
    expect(md).toContain('| **total** | **82.6 h** | **$53.1** |');
    expect(md).toContain(
      '| baseline | 1712 | 428 | 16,561,502 | 812 / 3000 (early stop) | 612 | 1.60 | 1 h 30 min |',
    );
  });

  it('says over how many views the predictions were averaged, and not for a run in one view', () => {
    expect(renderReportMarkdown({ ...summary, testTimeAugmentation: 'flip-shift' })).toContain(
      "- Predictions: each unit's averaged over 8 views of every image (`testTimeAugmentation: flip-shift`)",
    );
    expect(renderReportMarkdown({ ...summary, testTimeAugmentation: 'none' })).not.toContain(
      '- Predictions:',
    );
    expect(md).not.toContain('- Predictions:');
  });

  it('links the pictures and the submission relative to report/', () => {
    expect(md).toContain('![learning curves](learning-curves.png)');
    expect(md).toContain('![best and worst dev images](best-worst.png)');
    expect(md).toContain('[submission.csv](submission.csv)');
  });
});
