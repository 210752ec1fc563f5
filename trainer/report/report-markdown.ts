import { type FormatOptions, formatDuration, formatUsd, formatUsdPerHour } from '../../common/format';
import { runLayout } from '../../contracts/run-layout';
import { SEED_DEV_RMSE_PX, SEED_MODEL_TITLES, SEED_TIME_AND_COST } from '../../contracts/seed-reference';
import type { RunSummary } from '../../contracts/run-summary';
import type { TestTimeAugmentation } from '../config';
import { testTimeViews } from '../predict/test-time-views';

/** The report is prose: `1 h 05 min`, `$0.526 per hour`. */
const WORDS: FormatOptions = { style: 'words' };

/** `report/report.md`: the seed's results table for this run, with the seed's own figures beside it. */
export function renderReportMarkdown(summary: RunSummary): string {
  const lines: string[] = [];
  const out = (s = ''): void => {
    lines.push(s);
  };
  out(`# facepoints run ${summary.runId}`);
  out();
  out(
    `- Preset: \`${summary.preset}\`; backend: \`${summary.backend}\`${summary.gpuName ? ` (${summary.gpuName})` : ''}` +
      `${summary.instanceType ? `; instance: ${summary.instanceType}` : '; local machine'}`,
  );
  out(
    `- Started ${summary.startedAt}, finished ${summary.finishedAt} (${formatDuration(summary.totalSeconds, WORDS)} in this attempt)`,
  );
  out(
    `- Data: ${summary.data.trainRows} training rows, ${summary.data.devRows} dev rows, ` +
      `${summary.data.testImages} test images; submission of ${summary.data.submissionRows} rows`,
  );
  const views = summary.testTimeAugmentation ?? 'none';
  if (views !== 'none') {
    out(
      `- Predictions: each unit's averaged over ${testTimeViews(views as TestTimeAugmentation).length} views of every image ` +
        `(\`testTimeAugmentation: ${views}\`); the trained units' best dev RMSE below is in one view, as in training`,
    );
  }
  out();
  out('## Dev RMSE (pixels)');
  out();
  out('| Model | dev RMSE px | seed px | best 4 labels | worst 4 labels | training time |');
  out('|---|---:|---:|---|---|---:|');
  for (const m of summary.models) {
    const seed = SEED_DEV_RMSE_PX[m.name];
    out(
      `| ${SEED_MODEL_TITLES[m.name]} | ${m.devRmsePx.toFixed(2)} | ${seed === undefined ? '' : seed.toFixed(1)} | ` +
        `${m.bestLabels.join(', ')} | ${m.worstLabels.join(', ')} | ${formatDuration(m.trainSeconds, WORDS)} |`,
    );
  }
  out();
  out(
    `The submission and the pictures come from ${SEED_MODEL_TITLES[summary.bestModel]}, the trained model with the lowest dev RMSE.`,
  );
  out();
  out(
    'The seed reported the mean predictor at 3.2 px, the baseline at 1.5 px and the six specialists at 1.4 px ' +
      '(its Model 1 and 2 figures came from a split that leaked rows between train and dev).',
  );
  out();
  out('## Trained units');
  out();
  out(
    '| unit | train rows | dev rows | parameters | epochs run / max | best epoch | best dev RMSE px | time |',
  );
  out('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const u of summary.units) {
    out(
      `| ${u.unit} | ${u.trainRows} | ${u.devRows} | ${u.params.toLocaleString('en-US')} | ${u.epochsRun} / ${u.maxEpochs}` +
        `${u.stoppedEarly ? ' (early stop)' : ''} | ${u.bestEpoch} | ${u.bestDevRmsePx.toFixed(2)} | ${formatDuration(u.trainSeconds, WORDS)} |`,
    );
  }
  out();
  out('## Time and cost');
  out();
  const price = summary.hourlyPriceUsd;
  out(
    price === null
      ? 'Local run: no instance cost.'
      : `Cost at ${formatUsdPerHour(price, WORDS)}${summary.instanceType ? ` (${summary.instanceType})` : ''}.`,
  );
  out();
  out('| phase | time | cost |');
  out('|---|---:|---:|');
  for (const p of summary.phases) {
    out(
      `| ${p.name} | ${formatDuration(p.seconds, WORDS)} | ${price === null ? '-' : formatUsd((p.seconds / 3600) * price)} |`,
    );
  }
  out(
    `| **total** | **${formatDuration(summary.totalSeconds, WORDS)}** | **${formatUsd(summary.costUsd)}** |`,
  );
  out();
  out(`The seed, on a ${SEED_TIME_AND_COST.instanceType} at $${SEED_TIME_AND_COST.hourlyPriceUsd} per hour:`);
  out();
  out('| phase | time | cost |');
  out('|---|---:|---:|');
  for (const p of SEED_TIME_AND_COST.phases) out(`| ${p.name} | ${p.hours} h | $${p.usd} |`);
  out(`| **total** | **${SEED_TIME_AND_COST.total.hours} h** | **$${SEED_TIME_AND_COST.total.usd}** |`);
  out();
  out('## Pictures');
  out();
  out(`Learning curves (train and dev RMSE per epoch of every unit):`);
  out();
  out(`![learning curves](${relative(runLayout.learningCurves)})`);
  out();
  out('The four best and four worst dev images of the best model, true keypoints and predictions drawn:');
  out();
  out(`![best and worst dev images](${relative(runLayout.bestWorst)})`);
  out();
  out(`Kaggle submission: [${relative(runLayout.submission)}](${relative(runLayout.submission)}).`);
  out();
  return lines.join('\n');
}

/** Paths in the markdown are relative to report/, where report.md lives. */
function relative(key: string): string {
  return key.startsWith(`${runLayout.reportDir}/`) ? key.slice(runLayout.reportDir.length + 1) : key;
}
