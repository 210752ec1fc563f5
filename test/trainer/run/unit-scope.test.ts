import { existsSync, promises as fs, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { trainedUnitIds, runLayout } from '../../../contracts/run-layout';
import { RunStatusSchema } from '../../../contracts/run-status';
import { RunSummarySchema } from '../../../contracts/run-summary';
import { resolveTrainConfig } from '../../../trainer/run/resolve-config';
import { runTraining, type RunDeps } from '../../../trainer/run/run-training';
import { parseUnitList } from '../../../trainer/run/unit-scope';
import { UsageError } from '../../../trainer/run/usage-error';
import { quietDeps, tinySettings, writeKaggleFixture } from './kaggle-fixture';

const TINY = tinySettings(1);
const SPECIALIST_UNITS = trainedUnitIds(['specialists']);

describe('parseUnitList', () => {
  it('splits, trims and drops repeats', () => {
    expect(parseUnitList(' baseline, specialists/nose-tip,baseline ')).toEqual([
      'baseline',
      'specialists/nose-tip',
    ]);
  });
  it('refuses an empty list', () => {
    expect(() => parseUnitList(' , ')).toThrow(
      new UsageError(
        '--units: expected a comma-separated list of units (e.g. baseline,specialists/eye-centers), found " , "',
      ),
    );
  });
});

describe('runTraining with a scope (train --units, report)', () => {
  let root: string;
  let data: string;
  let lines: string[];
  const deps = (): RunDeps => {
    lines = [];
    return quietDeps(lines, { leaseSettleMs: 20 });
  };
  const out = () => `file://${root}/runs`;
  const config = (run: string) =>
    resolveTrainConfig({ data, out: out(), run, preset: 'quick', set: TINY, workers: '1' });
  const runDir = (run: string) => path.join(root, 'runs', run);
  const readJson = async (run: string, key: string) =>
    JSON.parse(await fs.readFile(path.join(runDir(run), key), 'utf8'));

  beforeAll(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'facepoints-scope-'));
    data = path.join(root, 'data');
    await writeKaggleFixture(data, 90, 6);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('refuses a specialist before the baseline is finished, naming the missing unit, and an unknown unit', async () => {
    const run = config('split');
    await expect(
      runTraining(run, deps(), { kind: 'units', units: ['specialists/eye-centers', 'specialists/eye'] }),
    ).rejects.toThrow(
      new UsageError(
        '--units specialists/eye-centers,specialists/eye:\n' +
          `  unknown unit "specialists/eye"; this run trains baseline, ${SPECIALIST_UNITS.join(', ')}\n` +
          `  specialists/eye-centers starts from the finished baseline, but models/baseline/done.json is not in file://${runDir('split')}; ` +
          'train --units baseline first (or name both: --units baseline,specialists/eye-centers)',
      ),
    );
    expect(existsSync(path.join(runDir('split'), 'models'))).toBe(false);
  });

  it('trains only the named unit, with its own status file and no report, and never marks the run succeeded', async () => {
    const outcome = await runTraining(config('split'), deps(), { kind: 'units', units: ['baseline'] });
    expect([outcome.state, outcome.trained]).toEqual(['trained', ['baseline']]);
    const dir = runDir('split');
    expect(existsSync(path.join(dir, runLayout.unitDone('baseline')))).toBe(true);
    for (const u of SPECIALIST_UNITS) expect(existsSync(path.join(dir, runLayout.unitDone(u)))).toBe(false);
    expect(existsSync(path.join(dir, runLayout.summary))).toBe(false);
    expect(existsSync(path.join(dir, runLayout.status))).toBe(false);
    expect(existsSync(path.join(dir, runLayout.lease('baseline')))).toBe(false);
    const status = RunStatusSchema.parse(await readJson('split', runLayout.unitStatus('baseline')));
    expect([status.state, status.model, status.epoch]).toEqual(['succeeded', 'baseline', 1]);
    expect(status.meanDevRmsePx).toBeGreaterThan(0);
  });

  it('report refuses while units are unfinished, naming them', async () => {
    await expect(runTraining(config('split'), deps(), { kind: 'report' })).rejects.toThrow(
      new UsageError(
        `report: expected every unit of the run finished, found 6 without a done marker in file://${runDir('split')}: ` +
          `${SPECIALIST_UNITS.join(', ')}; train them first (facepoints train ... --units ${SPECIALIST_UNITS.join(',')})`,
      ),
    );
  });

  it('the specialists once the baseline is done, then the report from the stored models: the run succeeds', async () => {
    const trained = await runTraining(config('split'), deps(), { kind: 'units', units: SPECIALIST_UNITS });
    expect(trained.trained).toEqual(SPECIALIST_UNITS);
    expect(lines.join('\n')).not.toMatch(/^baseline: \d+ train images/m);

    const report = await runTraining(config('split'), deps(), { kind: 'report' });
    expect(report.state).toBe('succeeded');
    const summary = RunSummarySchema.parse(await readJson('split', runLayout.summary));
    expect(summary.models.map((m) => m.name)).toEqual(['mean', 'baseline', 'specialists']);
    expect(summary.units.map((u) => u.unit)).toEqual(['baseline', ...SPECIALIST_UNITS]);
    const status = RunStatusSchema.parse(await readJson('split', runLayout.status));
    expect([status.state, status.phase]).toEqual(['succeeded', 'done']);
    // A `--units` job computes the mean predictor's dev RMSE as the report does: the same number.
    const unitStatus = RunStatusSchema.parse(await readJson('split', runLayout.unitStatus('baseline')));
    expect(unitStatus.meanDevRmsePx).toBe(summary.models.find((m) => m.name === 'mean')!.devRmsePx);
  });
});
