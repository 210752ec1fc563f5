import { createHash } from 'node:crypto';
import { existsSync, promises as fs, mkdtempSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { KEYPOINT_COLUMNS, SPECIALISTS } from '../../../contracts/keypoints';
import { RunSummarySchema } from '../../../contracts/run-summary';
import { runLayout } from '../../../contracts/run-layout';
import { loadModel } from '../../../trainer/run/model-io';
import { resolveTrainConfig } from '../../../trainer/run/resolve-config';
import { dryRun, runTraining, type RunDeps } from '../../../trainer/run/run-training';
import { UsageError } from '../../../trainer/run/usage-error';
import { RunStatusSchema } from '../../../contracts/run-status';
import { FileStore } from '../../../trainer/storage/file-store';
import { quietDeps, tinySettings, writeKaggleFixture } from './kaggle-fixture';

/** A tiny network and one epoch per unit: this test checks the run's files, not learning (learning.test.ts does). */
const TINY = tinySettings(1);

const UNITS = ['baseline', ...SPECIALISTS.map((s) => `specialists/${s.name}`)];

/** Every artifact of the results manifest has the size and sha256 of the file in the run directory. */
async function expectManifestMatchesFiles(dir: string): Promise<void> {
  const manifest = JSON.parse(await fs.readFile(path.join(dir, runLayout.resultsManifest), 'utf8')) as {
    artifacts: Array<{ key: string; size: number; sha256: string }>;
  };
  for (const a of manifest.artifacts) {
    const body = await fs.readFile(path.join(dir, a.key));
    expect({
      key: a.key,
      size: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
    }).toEqual(a);
  }
}

describe('runTraining on generated data', () => {
  let root: string;
  let data: string;
  let lines: string[];
  const deps = (): RunDeps => {
    lines = [];
    return quietDeps(lines, { heartbeatMs: 60_000 });
  };
  const config = (run: string, extra: string[] = [], out = `file://${root}/runs`) =>
    resolveTrainConfig({ data, out, run, preset: 'quick', set: [...TINY, ...extra] });
  const runDir = (run: string) => path.join(root, 'runs', run);

  beforeAll(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'facepoints-run-'));
    data = path.join(root, 'data');
    await writeKaggleFixture(data, 90, 6);
    const outcome = await runTraining(config('t1'), deps());
    expect(outcome.state).toBe('succeeded');
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes every file of the run layout', () => {
    const dir = runDir('t1');
    const expected = [
      runLayout.config,
      runLayout.status,
      runLayout.summary,
      runLayout.reportMarkdown,
      runLayout.learningCurves,
      runLayout.bestWorst,
      runLayout.submission,
      runLayout.resultsManifest,
      ...UNITS.flatMap((u) => [
        runLayout.metrics(u),
        runLayout.modelJson(u),
        `${runLayout.modelDir(u)}/weights.bin`,
        runLayout.unitDone(u),
      ]),
    ];
    const missing = expected.filter((key) => !existsSync(path.join(dir, key)));
    expect(missing).toEqual([]);
  });

  it('records a succeeded status and a summary of the documented shape, mean first', async () => {
    const status = RunStatusSchema.parse(
      JSON.parse(await fs.readFile(path.join(runDir('t1'), runLayout.status), 'utf8')),
    );
    expect(status.state).toBe('succeeded');
    expect(status.finishedAt).not.toBeNull();
    expect(status.backend).not.toBeNull();
    const summary = RunSummarySchema.parse(
      JSON.parse(await fs.readFile(path.join(runDir('t1'), runLayout.summary), 'utf8')),
    );
    expect(summary.models.map((m) => m.name)).toEqual(['mean', 'baseline', 'specialists']);
    for (const m of summary.models) {
      expect(m.devRmsePx).toBeGreaterThan(0);
      expect(Object.keys(m.perKeypointRmsePx).sort()).toEqual([...KEYPOINT_COLUMNS].sort());
      expect(m.bestLabels).toHaveLength(4);
      expect(m.worstLabels).toHaveLength(4);
    }
    expect(summary.units.map((u) => u.unit)).toEqual(UNITS);
    const trained = summary.models.filter((m) => m.name !== 'mean');
    expect(summary.bestModel).toBe(trained.reduce((a, b) => (b.devRmsePx < a.devRmsePx ? b : a)).name);
    expect(summary.phases.map((p) => p.name)).toEqual(['loading', 'baseline', 'specialists', 'evaluation']);
  });

  it("records the mean predictor's dev RMSE in the status: the summary's number, known from the start", async () => {
    const status = RunStatusSchema.parse(
      JSON.parse(await fs.readFile(path.join(runDir('t1'), runLayout.status), 'utf8')),
    );
    const summary = RunSummarySchema.parse(
      JSON.parse(await fs.readFile(path.join(runDir('t1'), runLayout.summary), 'utf8')),
    );
    const mean = summary.models.find((m) => m.name === 'mean')!.devRmsePx;
    expect(mean).toBeGreaterThan(0);
    expect(status.meanDevRmsePx).toBe(mean);
  });

  it('writes a submission with every RowId of the lookup table, in [0, 96]', async () => {
    const lookup = (await fs.readFile(path.join(data, 'IdLookupTable.csv'), 'utf8'))
      .trim()
      .split('\n')
      .slice(1);
    const rows = (await fs.readFile(path.join(runDir('t1'), runLayout.submission), 'utf8'))
      .trim()
      .split('\n');
    expect(rows[0]).toBe('RowId,Location');
    expect(rows.slice(1).map((r) => r.split(',')[0])).toEqual(lookup.map((l) => l.split(',')[0]));
    for (const r of rows.slice(1)) {
      const v = Number(r.split(',')[1]);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(96);
    }
  });

  it("saves models that tf.loadLayersModel reads back, with the unit's outputs", async () => {
    const store = new FileStore(runDir('t1'));
    const model = await loadModel(store, 'specialists/eye-corners');
    expect(model.outputs[0]?.shape).toEqual([null, 8]);
    model.dispose();
  });

  it('lists every artifact with its size and sha256 in the results manifest', async () => {
    const dir = runDir('t1');
    const manifest = JSON.parse(await fs.readFile(path.join(dir, runLayout.resultsManifest), 'utf8')) as {
      artifacts: Array<{ key: string; size: number; sha256: string }>;
    };
    const keys = manifest.artifacts.map((a) => a.key);
    expect(keys).toContain(runLayout.submission);
    expect(keys).toContain(runLayout.modelJson('baseline'));
    expect(keys).not.toContain(runLayout.status);
    await expectManifestMatchesFiles(dir);
  });

  it('returns at once when the run already succeeded', async () => {
    const before = statSync(path.join(runDir('t1'), runLayout.summary)).mtimeMs;
    const started = Date.now();
    const outcome = await runTraining(config('t1'), deps());
    expect(outcome.state).toBe('succeeded');
    expect(outcome.summary?.runId).toBe('t1');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(statSync(path.join(runDir('t1'), runLayout.summary)).mtimeMs).toBe(before);
    expect(lines.join('\n')).toContain('run t1 already succeeded');
  });

  it('refuses to resume a run with other settings, naming each difference', async () => {
    await expect(runTraining(config('t1', ['batchSize=16']), deps())).rejects.toThrow(
      new UsageError(
        `run t1 in file://${runDir('t1')} was started with other settings; resume it with the same options or choose another --run:\n` +
          '  batchSize: run has 32, given 16',
      ),
    );
  });

  it('after a crash, retrains only the unit whose done marker is missing', async () => {
    const dir = runDir('t1');
    const unit = 'specialists/nose-tip';
    await fs.rm(path.join(dir, runLayout.unitDone(unit)));
    // A killed process leaves its status at "running".
    const status = JSON.parse(await fs.readFile(path.join(dir, runLayout.status), 'utf8'));
    await fs.writeFile(
      path.join(dir, runLayout.status),
      JSON.stringify({ ...status, state: 'running', finishedAt: null }),
    );
    const mtimes = Object.fromEntries(
      UNITS.map((u) => [u, statSync(path.join(dir, runLayout.modelJson(u))).mtimeMs]),
    );

    const outcome = await runTraining(config('t1'), deps());
    expect(outcome.state).toBe('succeeded');
    for (const u of UNITS) {
      const now = statSync(path.join(dir, runLayout.modelJson(u))).mtimeMs;
      if (u === unit) expect(now).toBeGreaterThan(mtimes[u] ?? Number.POSITIVE_INFINITY);
      else expect(now).toBe(mtimes[u]);
    }
    expect(existsSync(path.join(dir, runLayout.unitDone(unit)))).toBe(true);
    const log = lines.join('\n');
    for (const u of UNITS.filter((x) => x !== unit))
      expect(log).toContain(`${u}: finished earlier, not retrained`);
    expect(log).not.toContain(`${unit}: finished earlier`);
    // Hashed on write for the retrained unit and the report, read back for the units of the first attempt.
    await expectManifestMatchesFiles(dir);
  });

  it('dry run prints the plan and writes nothing', async () => {
    const out = path.join(root, 'dry');
    const plan = await dryRun(config('d1', [], `file://${out}`), deps());
    expect(plan.units.map((u) => u.unit)).toEqual(['mean', ...UNITS]);
    expect(plan.units.every((u) => u.network === null || (u.estimatedSeconds ?? 0) > 0)).toBe(true);
    expect(existsSync(out)).toBe(false);
    const log = lines.join('\n');
    expect(log).toContain('specialists/eye-centers');
    expect(log).toMatch(/estimated training time on \w+/);
  });
});

describe('runTraining interrupted', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'facepoints-stop-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('checkpoints, records the interruption, and the same command resumes to success', async () => {
    const data = path.join(root, 'data');
    await writeKaggleFixture(data, 90, 6);
    const config = resolveTrainConfig({
      data,
      out: `file://${root}/runs`,
      run: 'stop',
      preset: 'quick',
      models: 'baseline',
      set: [
        ...TINY.filter((s) => !s.startsWith('baseline.maxEpochs')),
        'baseline.maxEpochs=3',
        'baseline.patience=3',
      ],
    });
    const controller = new AbortController();
    const progress = new PassThrough();
    // Stop as a SIGTERM would, once the first epoch has been reported.
    progress.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('baseline: epoch 1/3')) controller.abort('SIGTERM');
    });
    const quiet = { log: () => undefined, progress: { stream: progress, tty: false }, instanceType: null };
    const first = await runTraining(config, { ...quiet, signal: controller.signal });
    expect(first.state).toBe('interrupted');
    const dir = path.join(root, 'runs', 'stop');
    const status = RunStatusSchema.parse(
      JSON.parse(await fs.readFile(path.join(dir, runLayout.status), 'utf8')),
    );
    expect([status.state, status.interruption, status.epoch]).toEqual(['interrupted', 'SIGTERM', 1]);
    // Known before any report: the dashboard draws the mean predictor's line while the run trains.
    expect(status.meanDevRmsePx).toBeGreaterThan(0);
    expect(existsSync(path.join(dir, runLayout.summary))).toBe(false);
    expect(existsSync(path.join(dir, runLayout.unitDone('baseline')))).toBe(false);
    expect(existsSync(path.join(dir, runLayout.checkpointsDir('baseline')))).toBe(true);

    const resumedProgress = new PassThrough();
    const epochs: string[] = [];
    resumedProgress.on('data', (chunk: Buffer) =>
      epochs.push(...(chunk.toString().match(/epoch \d\/3/g) ?? [])),
    );
    const second = await runTraining(config, { ...quiet, progress: { stream: resumedProgress, tty: false } });
    expect(second.state).toBe('succeeded');
    // Epoch 1 is not trained again: the run continues from its checkpoint.
    expect(epochs).toEqual(['epoch 2/3', 'epoch 3/3']);
    const csv = (await fs.readFile(path.join(dir, runLayout.metrics('baseline')), 'utf8')).trim().split('\n');
    expect(csv.map((l) => l.split(',')[0])).toEqual(['epoch', '1', '2', '3']);
  });
});
