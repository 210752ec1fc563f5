import { createHash } from 'node:crypto';
import { promises as fs, readdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runLayout } from '../../../contracts/run-layout';
import { EXIT_INTERRUPTED, RunStatusSchema } from '../../../contracts/run-status';
import { createS3Client } from '../../../common/s3-client';
import { S3Store } from '../../../trainer/storage/s3-store';
import { startCli } from '../../support/cli-process';
import { startS3Server, type LocalS3Server } from '../../support/s3-server';

/**
 * The trainer as a user runs it: `facepoints train` in a child process writing to a real S3 server on
 * loopback, killed, interrupted and cut off from S3 along the way.
 */
// A small CNN with a wide dense layer: epochs take about a second here, and each checkpoint is ~30 MB,
// so uploads take long enough to be caught in the middle.
const TRAIN_ARGS = [
  '--preset',
  'quick',
  '--models',
  'cnn',
  '--seed',
  '7',
  '--set',
  'cnn.maxEpochs=8',
  '--set',
  'checkpointEveryEpochs=1',
  '--set',
  'cnnHidden=2000',
];

describe('resume end to end (facepoints train against a local S3 server)', () => {
  let server: LocalS3Server;
  let tmp: string;
  let dataDir: string;
  const out = () => `s3://${server.bucket}/runs`;
  const store = (runId: string) =>
    new S3Store(`s3://${server.bucket}/runs/${runId}`, {
      client: createS3Client({ ...process.env, ...server.env }),
    });

  const cli = (args: string[]) => startCli(args, server.env);

  async function train(runId: string): Promise<{ code: number | null; output: string }> {
    const run = cli(['train', '--data', dataDir, '--out', out(), '--run', runId, ...TRAIN_ARGS]);
    const code = await run.exit;
    return { code, output: run.output() };
  }

  /** Objects of the run in the bucket (through a fresh client: what an operator would see). */
  async function artifacts(runId: string) {
    const s = store(runId);
    try {
      const keys = (await s.list('')).map((o) => o.key);
      const get = async (key: string) => {
        const body = await s.get(key);
        if (body === null) throw new Error(`expected ${key} in ${s.url}, found none`);
        return body;
      };
      return { keys, get };
    } finally {
      setTimeout(() => s.close(), 60_000).unref();
    }
  }

  /** A checkpoint folder of the run in s3rver's directory that has files but no manifest yet: an upload in progress. */
  function uploadInProgress(runId: string): boolean {
    const base = path.join(server.directory, server.bucket, 'runs', runId, 'checkpoints', 'cnn');
    let seqs: string[];
    try {
      seqs = readdirSync(base);
    } catch {
      return false;
    }
    return seqs.some((seq) => {
      const names = readdirSync(path.join(base, seq));
      return (
        names.some((n) => n.startsWith('weights.bin.')) && !names.some((n) => n.startsWith('manifest.json.'))
      );
    });
  }

  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  /** Timing and identity fields, which differ between any two runs. */
  const TIMING_KEY = /second|At$|^runId$|cost/i;
  function withoutTimings(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(withoutTimings);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value)
          .filter(([k]) => !TIMING_KEY.test(k))
          .map(([k, v]) => [k, withoutTimings(v)]),
      );
    }
    return value;
  }

  /** What must be identical between an interrupted and an uninterrupted run: models and report, without timings. */
  async function results(runId: string) {
    const a = await artifacts(runId);
    const csv = (await a.get(runLayout.metrics('cnn')))
      .toString()
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    const keep = csv[0]!.map((h, i) => (TIMING_KEY.test(h) ? -1 : i)).filter((i) => i >= 0);
    return {
      weights: sha(await a.get('models/cnn/weights.bin')),
      modelJson: sha(await a.get(runLayout.modelJson('cnn'))),
      submission: sha(await a.get(runLayout.submission)),
      metrics: csv.map((row) => keep.map((i) => row[i]).join(',')),
      summary: withoutTimings(JSON.parse((await a.get(runLayout.summary)).toString())),
    };
  }

  beforeAll(async () => {
    server = await startS3Server();
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'facepoints-e2e-'));
    dataDir = path.join(tmp, 'data');
    const sample = cli(['sample', '--out', dataDir, '--rows', '200', '--test-rows', '20']);
    expect({ code: await sample.exit, output: sample.output() }).toEqual({
      code: 0,
      output: expect.any(String),
    });
  }, 120_000);
  afterAll(async () => {
    await server.close();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('a run with --out s3:// completes with every artifact in the bucket, verified against its results manifest', async () => {
    const { code, output } = await train('clean');
    expect({ code, output }).toEqual({ code: 0, output: expect.stringContaining('run clean succeeded') });
    const a = await artifacts('clean');
    const status = RunStatusSchema.parse(JSON.parse((await a.get(runLayout.status)).toString()));
    expect(status.state).toBe('succeeded');
    for (const key of [
      runLayout.config,
      runLayout.metrics('cnn'),
      runLayout.modelJson('cnn'),
      runLayout.unitDone('cnn'),
      runLayout.summary,
      runLayout.reportMarkdown,
      runLayout.submission,
      runLayout.learningCurves,
      runLayout.bestWorst,
      runLayout.resultsManifest,
    ]) {
      expect(a.keys).toContain(key);
    }
    const manifest = JSON.parse((await a.get(runLayout.resultsManifest)).toString()) as {
      artifacts: Array<{ key: string; size: number; sha256: string }>;
    };
    expect(manifest.artifacts.length).toBeGreaterThan(5);
    for (const art of manifest.artifacts) {
      const body = await a.get(art.key);
      expect({ key: art.key, size: body.length, sha256: sha(body) }).toEqual({
        key: art.key,
        size: art.size,
        sha256: art.sha256,
      });
    }
    // At most the last two checkpoints are kept.
    const ckDirs = new Set(
      a.keys.filter((k) => k.startsWith('checkpoints/cnn/')).map((k) => k.split('/')[2]),
    );
    expect(ckDirs.size).toBeGreaterThan(0);
    expect(ckDirs.size).toBeLessThanOrEqual(2);
  }, 300_000);

  it('SIGKILL at several moments, one during a checkpoint upload, then a restart: the same models and report as the uninterrupted run', async () => {
    const kills: string[] = [];
    // Kill 1: in the middle of a checkpoint upload (files there, manifest not yet).
    {
      const run = cli(['train', '--data', dataDir, '--out', out(), '--run', 'killed', ...TRAIN_ARGS]);
      await run.waitFor(/cnn: epoch 1\//);
      const deadline = Date.now() + 60_000;
      while (!uploadInProgress('killed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
      run.child.kill('SIGKILL');
      kills.push(uploadInProgress('killed') ? 'during upload' : 'after waiting for an upload');
      expect(await run.exit).toBeNull();
    }
    // Kills 2 and 3: at random moments after the resumed run has trained a little.
    for (let i = 0; i < 2; i++) {
      const run = cli(['train', '--data', dataDir, '--out', out(), '--run', 'killed', ...TRAIN_ARGS]);
      await run.waitFor(/cnn: epoch \d+\//);
      const delay = 200 + Math.floor(Math.random() * 1500);
      await new Promise((r) => setTimeout(r, delay));
      run.child.kill('SIGKILL');
      const code = await run.exit;
      kills.push(code === null ? `after ${delay} ms` : `finished before the kill (${code})`);
    }
    const last = await train('killed');
    expect({ code: last.code, kills }).toEqual({ code: 0, kills: expect.arrayContaining(['during upload']) });
    expect(last.output).toMatch(/run killed succeeded/);

    const reference = await results('clean');
    expect(await results('killed')).toEqual(reference);
  }, 600_000);

  it('a run whose S3 server stops for 20 s mid-run finishes and has every artifact uploaded', async () => {
    const run = cli(['train', '--data', dataDir, '--out', out(), '--run', 'outage', ...TRAIN_ARGS]);
    await run.waitFor(/cnn: epoch 2\//);
    await server.stop();
    await new Promise((r) => setTimeout(r, 20_000));
    await server.restart();
    expect(await run.exit).toBe(0);
    expect(run.output()).toMatch(/storage: .* failed \(.*\); retrying in the background/);
    expect(await results('outage')).toEqual(await results('clean'));
    const a = await artifacts('outage');
    const status = RunStatusSchema.parse(JSON.parse((await a.get(runLayout.status)).toString()));
    expect(status.state).toBe('succeeded');
  }, 300_000);

  it('SIGTERM mid-epoch: a checkpoint, status interrupted and exit code 75 within a few seconds; the same command then finishes', async () => {
    const run = cli(['train', '--data', dataDir, '--out', out(), '--run', 'term', ...TRAIN_ARGS]);
    await run.waitFor(/cnn: epoch 2\//);
    const sent = Date.now();
    run.child.kill('SIGTERM');
    const code = await run.exit;
    const seconds = (Date.now() - sent) / 1000;
    expect({ code, seconds }).toEqual({ code: EXIT_INTERRUPTED, seconds: expect.any(Number) });
    // docker stop sends SIGKILL 10 s after SIGTERM: the checkpoint must be durable before that.
    expect(seconds).toBeLessThan(10);
    const a = await artifacts('term');
    const status = RunStatusSchema.parse(JSON.parse((await a.get(runLayout.status)).toString()));
    expect({ state: status.state, interruption: status.interruption }).toEqual({
      state: 'interrupted',
      interruption: expect.stringContaining('SIGTERM'),
    });
    expect(a.keys.some((k) => /^checkpoints\/cnn\/\d+\/manifest\.json$/.test(k))).toBe(true);

    const resumed = await train('term');
    expect(resumed.code).toBe(0);
    expect(await results('term')).toEqual(await results('clean'));
  }, 300_000);
});
