import { FONT, escapeXml, svgToPng } from './rasterize';

/** One epoch of one unit, both errors in pixels (train RMSE is measured with dropout and flips on). */
export interface CurvePoint {
  epoch: number;
  trainRmsePx: number;
  devRmsePx: number;
}

export interface UnitCurve {
  unit: string;
  points: CurvePoint[];
  /** Epoch whose weights were kept (early stopping restores the best). */
  bestEpoch?: number;
}

const PANEL_W = 360;
const PANEL_H = 240;
const MARGIN = { left: 52, right: 14, top: 30, bottom: 38 };
const TRAIN_COLOUR = '#1f77b4';
const DEV_COLOUR = '#e8590c';
const MEAN_COLOUR = '#868e96';

/**
 * `report/learning-curves.png`: one small panel per unit, train and dev RMSE (px, log scale) per epoch,
 * with Model 0's dev RMSE as a dashed reference line so each panel shows how far training got below it.
 */
export function learningCurvesSvg(curves: UnitCurve[], meanDevRmsePx: number | null): string {
  const columns = Math.min(3, Math.max(1, curves.length));
  const rows = Math.max(1, Math.ceil(curves.length / columns));
  const header = 56;
  const width = columns * PANEL_W + 20;
  const height = header + rows * PANEL_H + 10;
  const parts: string[] = [
    `<svg xmlns='http://www.w3.org/2000/svg' width='${width}' height='${height}' viewBox='0 0 ${width} ${height}'>`,
    `<rect width='100%' height='100%' fill='white'/>`,
    `<text x='14' y='24' ${FONT} font-size='17' font-weight='bold' fill='#212529'>Learning curves: RMSE in pixels per epoch</text>`,
    legendItem(16, 44, TRAIN_COLOUR, 'train', false),
    legendItem(96, 44, DEV_COLOUR, 'dev', false),
    meanDevRmsePx === null
      ? ''
      : legendItem(166, 44, MEAN_COLOUR, `Model 0 (mean), dev ${meanDevRmsePx.toFixed(2)} px`, true),
  ];
  if (curves.length === 0) {
    parts.push(
      `<text x='14' y='${header + 30}' ${FONT} font-size='13' fill='#495057'>No unit was trained in this run.</text>`,
    );
  }
  curves.forEach((curve, i) => {
    const x0 = 10 + (i % columns) * PANEL_W;
    const y0 = header + Math.floor(i / columns) * PANEL_H;
    parts.push(panel(curve, x0, y0, meanDevRmsePx));
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export async function renderLearningCurves(
  curves: UnitCurve[],
  meanDevRmsePx: number | null,
): Promise<Buffer> {
  return svgToPng(learningCurvesSvg(curves, meanDevRmsePx));
}

function legendItem(x: number, y: number, colour: string, label: string, dashed: boolean): string {
  return (
    `<line x1='${x}' y1='${y - 4}' x2='${x + 22}' y2='${y - 4}' stroke='${colour}' stroke-width='2.5'${dashed ? " stroke-dasharray='5,4'" : ''}/>` +
    `<text x='${x + 28}' y='${y}' ${FONT} font-size='12' fill='#212529'>${escapeXml(label)}</text>`
  );
}

function panel(curve: UnitCurve, x0: number, y0: number, meanDevRmsePx: number | null): string {
  const plotW = PANEL_W - MARGIN.left - MARGIN.right;
  const plotH = PANEL_H - MARGIN.top - MARGIN.bottom;
  const left = x0 + MARGIN.left;
  const top = y0 + MARGIN.top;
  const values = curve.points
    .flatMap((p) => [p.trainRmsePx, p.devRmsePx])
    .filter((v) => Number.isFinite(v) && v > 0);
  if (meanDevRmsePx !== null && meanDevRmsePx > 0) values.push(meanDevRmsePx);
  const out: string[] = [
    `<text x='${left}' y='${y0 + 18}' ${FONT} font-size='${titleSize(curve.unit, PANEL_W - MARGIN.left - 4)}' font-weight='bold' fill='#212529'>${escapeXml(curve.unit)}</text>`,
    `<rect x='${left}' y='${top}' width='${plotW}' height='${plotH}' fill='#f8f9fa' stroke='#ced4da'/>`,
  ];
  if (curve.points.length === 0 || values.length === 0) {
    out.push(
      `<text x='${left + 10}' y='${top + plotH / 2}' ${FONT} font-size='12' fill='#495057'>no epochs recorded</text>`,
    );
    return out.join('\n');
  }
  // Log scale: early epochs sit far above the converged error, and a linear axis flattens the part that matters.
  const lo = Math.log10(Math.min(...values) * 0.9);
  const hi = Math.log10(Math.max(...values) * 1.1);
  const span = Math.max(hi - lo, 1e-6);
  const maxEpoch = Math.max(...curve.points.map((p) => p.epoch));
  const minEpoch = Math.min(...curve.points.map((p) => p.epoch));
  // A unit of one epoch gets a range around it, so its point sits mid-panel rather than on the axis.
  const [from, to] = maxEpoch > minEpoch ? [minEpoch, maxEpoch] : [minEpoch - 1, maxEpoch + 1];
  const sx = (e: number): number => left + ((e - from) / (to - from)) * plotW;
  const sy = (v: number): number => top + plotH - ((Math.log10(v) - lo) / span) * plotH;

  for (const tick of logTicks(10 ** lo, 10 ** hi)) {
    const y = sy(tick).toFixed(1);
    out.push(`<line x1='${left}' y1='${y}' x2='${left + plotW}' y2='${y}' stroke='#dee2e6'/>`);
    out.push(
      `<text x='${left - 6}' y='${Number(y) + 4}' ${FONT} font-size='10' fill='#495057' text-anchor='end'>${formatTick(tick)}</text>`,
    );
  }
  for (const e of epochTicks(minEpoch, maxEpoch)) {
    const x = sx(e).toFixed(1);
    out.push(`<line x1='${x}' y1='${top + plotH}' x2='${x}' y2='${top + plotH + 4}' stroke='#868e96'/>`);
    out.push(
      `<text x='${x}' y='${top + plotH + 16}' ${FONT} font-size='10' fill='#495057' text-anchor='middle'>${e}</text>`,
    );
  }
  out.push(`<text x='${left}' y='${top + plotH + 32}' ${FONT} font-size='11' fill='#495057'>epoch</text>`);
  out.push(
    `<text x='${x0 + 12}' y='${top + plotH / 2}' ${FONT} font-size='11' fill='#495057' text-anchor='middle' ` +
      `transform='rotate(-90 ${x0 + 12} ${top + plotH / 2})'>RMSE px</text>`,
  );
  if (meanDevRmsePx !== null && meanDevRmsePx > 0) {
    const y = sy(meanDevRmsePx).toFixed(1);
    out.push(
      `<line x1='${left}' y1='${y}' x2='${left + plotW}' y2='${y}' stroke='${MEAN_COLOUR}' stroke-width='1.5' stroke-dasharray='5,4'/>`,
    );
  }
  if (curve.bestEpoch !== undefined && curve.bestEpoch >= minEpoch && maxEpoch > minEpoch) {
    const x = sx(curve.bestEpoch).toFixed(1);
    out.push(
      `<line x1='${x}' y1='${top}' x2='${x}' y2='${top + plotH}' stroke='#adb5bd' stroke-dasharray='2,3'/>`,
    );
  }
  out.push(
    polyline(
      curve.points.map((p) => [p.epoch, p.trainRmsePx]),
      sx,
      sy,
      TRAIN_COLOUR,
    ),
  );
  out.push(
    polyline(
      curve.points.map((p) => [p.epoch, p.devRmsePx]),
      sx,
      sy,
      DEV_COLOUR,
    ),
  );
  const epochs = curve.points.at(-1)?.epoch ?? 0;
  const best = Math.min(...curve.points.map((p) => p.devRmsePx).filter(Number.isFinite));
  // Under the axis, right-aligned: inside the plot it would hide the first epochs, which start high.
  out.push(
    `<text x='${left + plotW}' y='${top + plotH + 32}' ${FONT} font-size='11' fill='${DEV_COLOUR}' text-anchor='end'>` +
      `best dev ${best.toFixed(2)} px · ${epochs} epoch${epochs === 1 ? '' : 's'}</text>`,
  );
  return out.join('\n');
}

/** Bold 13 px titles, smaller when a long unit name (specialists-augmented/...) would run into the next panel. */
function titleSize(text: string, width: number): number {
  // DejaVu Sans Bold averages about 0.62 em per character in these names.
  return Math.max(9, Math.min(13, Math.floor(width / (0.62 * text.length))));
}

function polyline(
  points: Array<[number, number]>,
  sx: (e: number) => number,
  sy: (v: number) => number,
  colour: string,
): string {
  const valid = points.filter(([, v]) => Number.isFinite(v) && v > 0);
  const [only] = valid;
  if (valid.length === 1 && only) {
    const [e, v] = only;
    return `<circle cx='${sx(e).toFixed(1)}' cy='${sy(v).toFixed(1)}' r='3' fill='${colour}'/>`;
  }
  const d = valid.map(([e, v]) => `${sx(e).toFixed(1)},${sy(v).toFixed(1)}`).join(' ');
  return `<polyline points='${d}' fill='none' stroke='${colour}' stroke-width='2' stroke-linejoin='round'/>`;
}

/** 1-2-5 ticks between lo and hi (at least two, so a narrow range still has a labelled axis). */
export function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let exp = Math.floor(Math.log10(lo)); exp <= Math.ceil(Math.log10(hi)); exp++) {
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** exp;
      if (t >= lo && t <= hi) ticks.push(t);
    }
  }
  if (ticks.length < 2) {
    for (let exp = Math.floor(Math.log10(lo)); exp <= Math.ceil(Math.log10(hi)); exp++) {
      for (const m of [1.5, 3, 4, 6, 7, 8, 9]) {
        const t = m * 10 ** exp;
        if (t >= lo && t <= hi) ticks.push(t);
      }
    }
    ticks.sort((a, b) => a - b);
  }
  return ticks;
}

function formatTick(v: number): string {
  return v >= 10 ? v.toFixed(0) : v >= 1 ? String(Number(v.toFixed(1))) : String(Number(v.toPrecision(2)));
}

function epochTicks(min: number, max: number): number[] {
  const span = max - min;
  const raw = span / 5;
  const step = Math.max(
    1,
    [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000].find((s) => s >= raw) ?? Math.ceil(raw / 1000) * 1000,
  );
  const ticks: number[] = [];
  for (let e = Math.ceil(min / step) * step; e <= max; e += step) ticks.push(e);
  return ticks;
}
