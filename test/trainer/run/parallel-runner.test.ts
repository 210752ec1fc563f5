import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { trainedUnitIds, runLayout } from '../../../contracts/run-layout';
import { RunStatusSchema } from '../../../contracts/run-status';
import type { RunSummary } from '../../../contracts/run-summary';
import { runParallel, unitProcessArgs } from '../../../trainer/run/parallel-runner';
import { resolveTrainConfig } from '../../../trainer/run/resolve-config';
import { runTraining } from '../../../trainer/run/run-training';
import { quietDeps, tinySettings, writeKaggleFixture } from './kaggle-fixture';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'cli/main.ts');
const TINY = tinySettings(2);
const SPECIALIST_UNITS = trainedUnitIds(['specialists']);

function results(s: RunSummary) {
  return {
    models: s.models.map((m) => ({ name: m.name, devRmsePx: m.devRmsePx })),
    units: s.units.map((u) => ({ unit: u.unit, bestDevRmsePx: u.bestDevRmsePx })),
  };
}

describe('runParallel (train --parallel N)', () => {
  let tmp: string;
  let data: string;
  const config = (run: string) =>
    resolveTrainConfig({ data, out: `file://${tmp}/runs`, run, preset: 'quick', workers: '1', set: TINY });

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'facepoints-parallel-'));
    data = path.join(tmp, 'data');
    await writeKaggleFixture(data, 90, 6);
  });
  afterAll(() => fs.rm(tmp, { recursive: true, force: true }));

  it('trains every unit in its own process, two at a time, with prefixed lines, and reports what a sequential run reports', async () => {
    const quiet = quietDeps();
    const sequential = await runTraining(config('sequential'), quiet);

    const lines: string[] = [];
    const parallelConfig = config('parallel');
    const outcome = await runParallel(
      parallelConfig,
      unitProcessArgs(parallelConfig, TINY, path.join(tmp, 'scratch')),
      2,
      {
        ...quiet,
        log: (l) => lines.push(l),
        cliEntry: { command: process.execPath, args: ['--import', 'tsx', CLI] },
      },
    );
    expect(outcome.state).toBe('succeeded');
    expect(results(outcome.summary as RunSummary)).toEqual(results(sequential.summary as RunSummary));
    for (const unit of ['baseline', ...SPECIALIST_UNITS]) {
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^\\[${unit}\\] ${unit}: epoch 2/2 `)));
      expect(lines).toContainEqual(`[${unit}] trained: ${unit}`);
    }
    // The specialists start once the baseline is finished.
    const baselineDone = lines.indexOf('[baseline] trained: baseline');
    const firstSpecialist = lines.findIndex((l) => l.startsWith('[specialists/'));
    expect(baselineDone).toBeGreaterThanOrEqual(0);
    expect(firstSpecialist).toBeGreaterThan(baselineDone);
    const status = RunStatusSchema.parse(
      JSON.parse(await fs.readFile(path.join(tmp, 'runs', 'parallel', runLayout.status), 'utf8')),
    );
    expect(status.state).toBe('succeeded');
  }, 600_000);
});
