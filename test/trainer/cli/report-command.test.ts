import { spawn } from 'node:child_process';
import { Command } from 'commander';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { trainedUnitIds, runLayout } from '../../../contracts/run-layout';
import { EXIT_USAGE, RunStatusSchema } from '../../../contracts/run-status';
import { RunSummarySchema, type RunSummary } from '../../../contracts/run-summary';
import { createS3Client } from '../../../common/s3-client';
import { registerReportCommand } from '../../../trainer/cli/report-command';
import { resolveTrainConfig } from '../../../trainer/run/resolve-config';
import { runTraining } from '../../../trainer/run/run-training';
import { S3Store } from '../../../trainer/storage/s3-store';
import { startS3Server, type LocalS3Server } from '../../support/s3-server';
import { quietDeps, tinySettings, writeKaggleFixture } from '../run/kaggle-fixture';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'cli/main.ts');
const TINY = tinySettings(2);
const SETTINGS = ['--preset', 'quick', '--workers', '1', ...TINY.flatMap((s) => ['--set', s])];
const SPECIALIST_UNITS = trainedUnitIds(['specialists']);

/** `facepoints ARGS` in a child process (node --import tsx, so signals reach the trainer itself). */
function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, FACEPOINTS_ON_EC2: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

/** The figures a split must not change: every model's dev RMSE, per keypoint too, and every unit's best epoch. */
function results(s: RunSummary) {
  return {
    models: s.models.map((m) => ({ name: m.name, devRmsePx: m.devRmsePx, perKeypoint: m.perKeypointRmsePx })),
    units: s.units.map((u) => ({ unit: u.unit, bestEpoch: u.bestEpoch, bestDevRmsePx: u.bestDevRmsePx })),
  };
}

describe('facepoints report', () => {
  let tmp: string;
  let data: string;
  let server: LocalS3Server;

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'facepoints-report-'));
    data = path.join(tmp, 'data');
    await writeKaggleFixture(data, 90, 6);
    server = await startS3Server();
  });
  afterAll(async () => {
    await server?.close();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('refuses a run that has no config.json, with exit code 64', async () => {
    process.exitCode = undefined;
    const program = new Command('facepoints').exitOverride();
    registerReportCommand(program, { log: () => undefined });
    try {
      await expect(
        program.parseAsync(['report', '--out', `file://${tmp}/runs`, '--run', 'nothing'], { from: 'user' }),
      ).rejects.toThrow(
        `report: expected file://${tmp}/runs/nothing/config.json, found nothing; check --out and --run (the run's first train writes it)`,
      );
      expect(process.exitCode).toBe(EXIT_USAGE);
    } finally {
      process.exitCode = undefined;
    }
  });

  it('a run split into the baseline, then six concurrent --units processes on S3, then report, has the summary of one sequential run', async () => {
    const sequential = await runTraining(
      resolveTrainConfig({
        data,
        out: `file://${tmp}/runs`,
        run: 'sequential',
        preset: 'quick',
        workers: '1',
        set: TINY,
      }),
      quietDeps(),
    );
    expect(sequential.state).toBe('succeeded');

    const out = `s3://${server.bucket}/runs`;
    const train = (units: string) =>
      cli(
        ['train', '--data', data, '--out', out, '--run', 'split', ...SETTINGS, '--units', units],
        server.env,
      );
    const baseline = await train('baseline');
    expect(baseline).toEqual({ code: 0, output: expect.stringContaining('trained: baseline') });
    const specialists = await Promise.all(SPECIALIST_UNITS.map((u) => train(u)));
    expect(specialists).toEqual(
      SPECIALIST_UNITS.map((u) => ({ code: 0, output: expect.stringContaining(`trained: ${u}`) })),
    );
    const report = await cli(['report', '--out', out, '--run', 'split'], server.env);
    expect(report).toEqual({ code: 0, output: expect.stringContaining('run split succeeded') });

    const store = new S3Store(`${out}/split`, { client: createS3Client({ ...process.env, ...server.env }) });
    try {
      const read = async (key: string) => JSON.parse((await store.get(key))?.toString('utf8') ?? 'null');
      const split = RunSummarySchema.parse(await read(runLayout.summary));
      expect(results(split)).toEqual(results(sequential.summary as RunSummary));
      expect(split.units.map((u) => u.unit)).toEqual(['baseline', ...SPECIALIST_UNITS]);
      expect(RunStatusSchema.parse(await read(runLayout.status)).state).toBe('succeeded');
      expect((await store.list(runLayout.leasesRoot)).map((o) => o.key)).toEqual([]);
    } finally {
      store.close();
    }
  }, 600_000);
});
