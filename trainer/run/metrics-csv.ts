import { EpochMetricsSchema, lossToRmsePx, type EpochMetrics } from '../train/metrics';

/** Columns of `metrics/<unit>.csv`; RMSE columns are in pixels, losses are MSE on the [-1, 1] target scale. */
export const METRICS_HEADER = [
  'epoch',
  'trainLoss',
  'devLoss',
  'trainRmsePx',
  'devRmsePx',
  'learningRate',
  'momentum',
  'seconds',
  'imagesPerSecond',
] as const;

export function formatMetricsCsv(history: readonly EpochMetrics[]): string {
  const lines = [METRICS_HEADER.join(',')];
  for (const m of history) {
    lines.push(
      [
        m.epoch,
        m.trainLoss,
        m.devLoss,
        lossToRmsePx(m.trainLoss),
        m.devRmsePx,
        m.learningRate,
        m.momentum,
        m.seconds,
        m.imagesPerSecond,
      ]
        .map((v) => (Number.isInteger(v) ? String(v) : Number(v).toPrecision(7)))
        .join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Parse a metrics CSV written by formatMetricsCsv; `where` names the file in errors. */
export function parseMetricsCsv(text: string, where: string): EpochMetrics[] {
  const lines = text.split(/\r?\n/).filter((l) => l !== '');
  if (lines.length === 0 || lines[0] !== METRICS_HEADER.join(',')) {
    throw new Error(
      `${where}:1: expected the header "${METRICS_HEADER.join(',')}", found "${lines[0] ?? ''}"`,
    );
  }
  return lines.slice(1).map((line, i) => {
    const v = line.split(',').map(Number);
    if (v.length !== METRICS_HEADER.length || v.some((x) => Number.isNaN(x))) {
      throw new Error(`${where}:${i + 2}: expected ${METRICS_HEADER.length} numbers, found "${line}"`);
    }
    const field = (name: (typeof METRICS_HEADER)[number]) => v[METRICS_HEADER.indexOf(name)] ?? Number.NaN;
    const row = EpochMetricsSchema.safeParse({
      epoch: field('epoch'),
      trainLoss: field('trainLoss'),
      devLoss: field('devLoss'),
      devRmsePx: field('devRmsePx'),
      learningRate: field('learningRate'),
      momentum: field('momentum'),
      seconds: field('seconds'),
      imagesPerSecond: field('imagesPerSecond'),
    });
    if (!row.success) {
      const issue = row.error.issues[0];
      throw new Error(`${where}:${i + 2}: ${issue?.path.join('.')}: ${issue?.message}, found "${line}"`);
    }
    return row.data;
  });
}

/** Add an epoch to the history, replacing epochs at or after it (a resumed unit repeats epochs after its checkpoint). */
export function appendEpoch(history: EpochMetrics[], m: EpochMetrics): EpochMetrics[] {
  return [...history.filter((h) => h.epoch < m.epoch), m];
}
