import uPlot from 'uplot';
import { formatDuration, formatUsd, formatUsdPerHour } from '../../../common/format';
import { MODEL_NAMES } from '../../../contracts/run-layout';
import { formatAgo, formatPx } from '../../format/units';
import type { BatchJobs, RunSnapshot, RunsSnapshot, UnitCurve, Unreachable } from '../api';

/** The page: polls /api/run (and /api/runs while that view is open) and redraws what changed. */

const intervalMs = Number(document.body.dataset.intervalSeconds ?? '15') * 1000;
const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let view: 'run' | 'runs' = 'run';
/** The run chosen in the selector; empty follows the server's default (the newest run). */
let chosenRun = new URLSearchParams(location.search).get('run') ?? '';
const charts = new Map<string, { plot: uPlot; series: number; box: HTMLElement }>();

async function getJson<T>(path: string): Promise<T | Unreachable> {
  try {
    const res = await fetch(path, { cache: 'no-store' });
    if (!res.ok) return unreachable(`${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  } catch (err) {
    return unreachable(`the dashboard server does not answer (${String(err)})`);
  }
}

function unreachable(error: string): Unreachable {
  return { reconnecting: true, error, checkedAt: new Date().toISOString() };
}

/** A failed read keeps the last picture on screen and says so, until a read succeeds again. */
function showConnection(answer: RunSnapshot | RunsSnapshot | Unreachable): void {
  const banner = byId('connection');
  banner.hidden = !answer.reconnecting;
  if (answer.reconnecting)
    banner.textContent = `${answer.waiting ? 'waiting' : 'reconnecting'}: ${answer.error}`;
  else byId('checked').textContent = `read ${new Date(answer.checkedAt).toLocaleTimeString()}`;
}

async function refreshRun(): Promise<void> {
  const query = chosenRun ? `?id=${encodeURIComponent(chosenRun)}` : '';
  const snap = await getJson<RunSnapshot>(`/api/run${query}`);
  showConnection(snap);
  if (snap.reconnecting) return;
  // Stay on this run: finding the newest one again lists the whole store at every read.
  chosenRun ||= snap.runId;
  document.title = `${snap.runId} - facepoints`;
  renderStale(snap.staleWarning);
  renderStatus(snap);
  renderBatch(snap.batch);
  renderCharts(snap.units, snap.meanDevRmsePx);
  renderDone(snap);
}

async function refreshRuns(): Promise<void> {
  const snap = await getJson<RunsSnapshot>('/api/runs');
  showConnection(snap);
  if (snap.reconnecting) return;
  renderRunSelect(snap);
  if (view === 'runs') renderRuns(snap);
}

function renderStale(warning: string | null): void {
  const el = byId('stale');
  el.hidden = warning === null;
  el.textContent = warning ?? '';
}

function renderStatus(snap: RunSnapshot): void {
  const s = snap.status;
  const fields: Array<[string, string]> = [['run', snap.runId]];
  if (!s) fields.push(['state', 'no status.json yet: the trainer has not started writing']);
  else {
    fields.push(
      ['state', s.state + (s.error ? ` (${s.error})` : '') + (s.interruption ? ` (${s.interruption})` : '')],
      ['phase', s.phase],
      ['unit', s.model ?? '-'],
      ['epoch', s.epoch === null ? '-' : `${s.epoch}${s.maxEpochs ? ` / ${s.maxEpochs}` : ''}`],
      ['best dev RMSE', formatPx(s.bestDevRmsePx)],
      ['speed', s.imagesPerSecond === null ? '-' : `${s.imagesPerSecond.toFixed(1)} images/s`],
      ['time left', `phase ${formatDuration(s.etaPhaseSeconds)}, run ${formatDuration(s.etaRunSeconds)}`],
      ['heartbeat', formatAgo(snap.heartbeatAgeSeconds)],
      ['backend', [s.backend, s.gpuName, s.instanceType].filter(Boolean).join(', ') || '-'],
      ['started', s.startedAt],
    );
  }
  const c = snap.cost;
  fields.push([
    'cost so far',
    c
      ? `${formatUsd(c.usd)} (${c.hours === null ? '?' : c.hours.toFixed(2)} h x ${formatUsdPerHour(c.usdPerHour)}, ${c.priceSource})`
      : '-',
  ]);
  fields.push(['store', snap.runUrl]);
  const dl = byId('status-fields');
  dl.replaceChildren(
    ...fields.flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      dd.dataset.field = k;
      return [dt, dd];
    }),
  );
}

const SERIES_STYLE = {
  train: { label: 'train RMSE', stroke: '#3b7dd8', width: 1.5 },
  dev: { label: 'dev RMSE', stroke: '#d8573b', width: 2 },
  mean: { label: 'mean predictor', stroke: '#6b7280', width: 1, dash: [6, 4] },
};

/**
 * y from 0 to just above the curves once past their first epochs: the first epoch's error of a fresh network
 * (often 3-5 times the final one) would otherwise flatten everything a person is watching.
 */
function tailRange(plot: uPlot): uPlot.Range.MinMax {
  let max = 0;
  for (const values of plot.data.slice(1)) {
    const skip = values.length > 3 ? Math.max(1, Math.floor(values.length * 0.05)) : 0;
    for (const v of values.slice(skip)) if (v !== null && v !== undefined && v > max) max = v;
  }
  return [0, max > 0 ? max * 1.15 : 1];
}

function curveData(curve: UnitCurve, mean: number | null): uPlot.AlignedData {
  const data: uPlot.AlignedData = [curve.epochs, curve.trainRmsePx, curve.devRmsePx];
  return mean === null ? data : [...data, curve.epochs.map(() => mean)];
}

/** One chart per unit; a chart grows in place as epochs arrive and is rebuilt only when its series change. */
function renderCharts(units: UnitCurve[], mean: number | null): void {
  const host = byId('charts');
  if (units.length === 0 && host.childElementCount === 0) {
    host.textContent = 'no epochs yet';
    return;
  }
  if (host.firstChild?.nodeType === Node.TEXT_NODE) host.textContent = '';
  for (const curve of units) {
    const data = curveData(curve, mean);
    const series = data.length - 1;
    let chart = charts.get(curve.unit);
    if (chart && chart.series !== series) {
      chart.plot.destroy();
      chart.box.remove();
      charts.delete(curve.unit);
      chart = undefined;
    }
    if (!chart) {
      const box = document.createElement('div');
      box.className = 'chart';
      box.dataset.unit = curve.unit;
      const title = document.createElement('h3');
      title.textContent = curve.unit;
      const plotBox = document.createElement('div');
      const last = document.createElement('p');
      last.className = 'last';
      box.append(title, plotBox, last);
      host.append(box);
      const lines = [SERIES_STYLE.train, SERIES_STYLE.dev, ...(mean === null ? [] : [SERIES_STYLE.mean])];
      const plot = new uPlot(
        {
          width: Math.max(380, plotBox.clientWidth || box.clientWidth - 16),
          height: 220,
          scales: { x: { time: false }, y: { range: tailRange } },
          // Whole epochs only on the x axis: uPlot would otherwise tick 1.5, 2.5 on a short run.
          axes: [
            { label: 'epoch', incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] },
            { label: 'RMSE (px)' },
          ],
          series: [
            { label: 'epoch' },
            ...lines.map((l) => ({ ...l, value: (_: uPlot, v: number | null) => formatPx(v) })),
          ],
        },
        data,
        plotBox,
      );
      chart = { plot, series, box };
      charts.set(curve.unit, chart);
    } else chart.plot.setData(data);
    const n = curve.epochs.length;
    chart.box.dataset.series = String(series);
    chart.box.dataset.epochs = String(n);
    const lastLine = chart.box.querySelector('.last') as HTMLElement;
    lastLine.textContent =
      n === 0
        ? 'no epochs yet'
        : `epoch ${curve.epochs[n - 1]}: train ${formatPx(curve.trainRmsePx[n - 1])}, dev ${formatPx(curve.devRmsePx[n - 1])}`;
  }
}

function table(el: HTMLElement, header: string[], rows: string[][], numeric: (col: number) => boolean): void {
  const head = document.createElement('tr');
  for (const h of header) {
    const th = document.createElement('th');
    th.textContent = h;
    head.append(th);
  }
  el.replaceChildren(
    head,
    ...rows.map((r) => {
      const tr = document.createElement('tr');
      r.forEach((cell, i) => {
        const td = document.createElement('td');
        td.textContent = cell;
        if (numeric(i)) td.className = 'num';
        tr.append(td);
      });
      return tr;
    }),
  );
}

/** An engine=batch run: its execution's state and one row per job, or why they could not be read. */
function renderBatch(batch: BatchJobs | null): void {
  byId('batch').hidden = batch === null;
  if (!batch) return;
  const e = batch.execution;
  byId('batch-execution').textContent = [
    e ? `execution ${e.status}${e.error ? ` (${e.error})` : ''}` : 'no execution',
    batch.executionNote,
    batch.jobsNote,
  ]
    .filter(Boolean)
    .join('; ');
  table(
    byId('batch-jobs'),
    ['unit', 'job', 'attempts', 'reason'],
    batch.jobs.map((j) => [j.unit, j.status, String(j.attempts), j.statusReason ?? '']),
    (i) => i === 2,
  );
}

/** Once the report exists: the per-model table, the per-keypoint errors and the best/worst faces. */
function renderDone(snap: RunSnapshot): void {
  const done = byId('done');
  const summary = snap.summary;
  done.hidden = summary === null;
  if (!summary) return;
  table(
    byId('models'),
    ['model', 'dev RMSE', 'dev labels', 'train time', 'best labels', 'worst labels'],
    summary.models.map((m) => [
      m.name + (m.name === summary.bestModel ? ' (best)' : ''),
      formatPx(m.devRmsePx),
      String(m.devLabels),
      formatDuration(m.trainSeconds),
      m.bestLabels.join(', '),
      m.worstLabels.join(', '),
    ]),
    (i) => i > 0 && i < 4,
  );
  const columns = [...new Set(summary.models.flatMap((m) => Object.keys(m.perKeypointRmsePx)))];
  table(
    byId('keypoints'),
    ['keypoint', ...summary.models.map((m) => m.name)],
    columns.map((c) => [c, ...summary.models.map((m) => formatPx(m.perKeypointRmsePx[c]))]),
    (i) => i > 0,
  );
  const faces = byId('faces');
  if (!snap.images.bestWorst) faces.textContent = 'report/best-worst.png is not in the run';
  else if (!faces.querySelector('img')) {
    const img = document.createElement('img');
    img.alt = `best and worst dev faces of ${summary.bestModel}`;
    img.src = `/api/image?run=${encodeURIComponent(snap.runId)}&name=best-worst`;
    faces.replaceChildren(img);
  }
}

function renderRunSelect(snap: RunsSnapshot): void {
  const select = byId<HTMLSelectElement>('run-select');
  const ids = snap.runs.map((r) => r.runId).reverse();
  const current = [...select.options].map((o) => o.value);
  if (current.join() === ids.join()) return;
  select.replaceChildren(
    ...ids.map((id) => {
      const o = document.createElement('option');
      o.value = id;
      o.textContent = id;
      return o;
    }),
  );
  select.value = chosenRun || (ids[0] ?? '');
}

function renderRuns(snap: RunsSnapshot): void {
  const models = MODEL_NAMES.filter((m) => snap.runs.some((r) => r.bestDevRmsePx[m] !== undefined));
  table(
    byId('runs'),
    ['run', 'state', 'preset', ...models, 'time', 'cost'],
    snap.runs.map((r) => [
      r.runId,
      r.error
        ? `${r.state}: ${r.error}`
        : r.state + (r.phase && r.state === 'running' ? ` (${r.phase})` : ''),
      r.preset ?? '-',
      ...models.map((m) => formatPx(r.bestDevRmsePx[m]) + (r.bestModel === m ? ' *' : '')),
      formatDuration(r.seconds),
      r.costUsd === null ? '-' : formatUsd(r.costUsd),
    ]),
    (i) => i >= 3,
  );
  // Each run id opens that run.
  for (const cell of byId('runs').querySelectorAll('tr > td:first-child')) {
    const id = cell.textContent ?? '';
    const link = document.createElement('a');
    link.href = `?run=${encodeURIComponent(id)}`;
    link.textContent = id;
    cell.replaceChildren(link);
  }
}

function showView(next: 'run' | 'runs'): void {
  view = next;
  byId('run-view').hidden = next !== 'run';
  byId('runs-view').hidden = next !== 'runs';
  byId('show-run').classList.toggle('active', next === 'run');
  byId('show-runs').classList.toggle('active', next === 'runs');
  void tick();
}

/** The run list (for the selector) lists the whole store: outside the runs view it is read every few ticks only. */
const RUNS_EVERY_TICKS = 6;
let ticks = 0;
let timer: number | undefined;
async function tick(): Promise<void> {
  clearTimeout(timer);
  const runsDue = view === 'runs' || ticks++ % RUNS_EVERY_TICKS === 0;
  await Promise.all([
    view === 'run' ? refreshRun() : Promise.resolve(),
    runsDue ? refreshRuns() : Promise.resolve(),
  ]);
  timer = window.setTimeout(() => void tick(), intervalMs);
}

byId('show-run').addEventListener('click', () => showView('run'));
byId('show-runs').addEventListener('click', () => showView('runs'));
byId<HTMLSelectElement>('run-select').addEventListener('change', (e) => {
  chosenRun = (e.target as HTMLSelectElement).value;
  for (const c of charts.values()) c.plot.destroy();
  charts.clear();
  byId('charts').replaceChildren();
  byId('faces').replaceChildren();
  history.replaceState(null, '', `?run=${encodeURIComponent(chosenRun)}`);
  void tick();
});
void tick();
