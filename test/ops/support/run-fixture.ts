import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildResultsManifest } from '../../../trainer/report/results-manifest';
import { type ModelName, runLayout, RUNS_PREFIX } from '../../../contracts/run-layout';
import type { RunSummary } from '../../../contracts/run-summary';
import type { RunStatus } from '../../../contracts/run-status';
import { FileStore } from '../../../trainer/storage/file-store';
import type { UnitJob } from '../../../ops/batch-run';
import type { StatusReport } from '../../../ops/commands/status';

/** Deterministic bytes (a seeded xorshift), so that sizes and checksums differ per file but never per run. */
export function pseudoRandomBytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function sha256(body: Buffer | string): string {
  return createHash('sha256').update(body).digest('hex');
}

export function runStatus(runId: string, overrides: Partial<RunStatus> = {}): RunStatus {
  return {
    runId,
    state: 'running',
    phase: 'specialists',
    model: 'specialists/nose-tip',
    epoch: 412,
    maxEpochs: 1462,
    bestDevRmsePx: 1.612,
    imagesPerSecond: 810.5,
    etaPhaseSeconds: 5400,
    etaRunSeconds: 9000,
    backend: 'tensorflow',
    gpuName: 'Tesla T4',
    instanceType: 'g4dn.xlarge',
    startedAt: '2026-11-29T01:00:00.000Z',
    updatedAt: '2026-11-29T03:59:30.000Z',
    lastCheckpointAt: '2026-11-29T03:57:00.000Z',
    finishedAt: null,
    error: null,
    interruption: null,
    ...overrides,
  };
}

/** A report/summary.json shaped like the trainer writes it (contracts/run-summary.ts). */
export function runSummary(runId: string): RunSummary {
  const model = (
    name: ModelName,
    devRmsePx: number,
    best: string[],
    worst: string[],
    trainSeconds: number,
  ) => ({
    name,
    devRmsePx,
    devLabels: 1200,
    perKeypointRmsePx: Object.fromEntries([...best, ...worst].map((c, i) => [c, devRmsePx + (i - 3) * 0.1])),
    bestLabels: best,
    worstLabels: worst,
    trainSeconds,
  });
  const best = [
    'left_eye_inner_corner_x',
    'right_eye_inner_corner_x',
    'left_eye_center_y',
    'right_eye_center_y',
  ];
  const worst = [
    'mouth_center_bottom_lip_y',
    'nose_tip_y',
    'left_eyebrow_outer_end_x',
    'right_eyebrow_outer_end_y',
  ];
  return {
    runId,
    preset: 'quick',
    backend: 'tensorflow',
    gpuName: 'Tesla T4',
    instanceType: 'g4dn.xlarge',
    startedAt: '2026-11-29T01:00:00.000Z',
    finishedAt: '2026-11-29T02:40:00.000Z',
    data: { trainRows: 1600, devRows: 400, testImages: 100, submissionRows: 1500 },
    models: [
      model('mean', 3.214, best, worst, 0),
      model('baseline', 1.734, best, worst, 3600),
      model('specialists', 1.588, best, worst, 2400),
    ],
    bestModel: 'specialists',
    units: [],
    phases: [{ name: 'baseline', seconds: 3600 }],
    totalSeconds: 6000,
    hourlyPriceUsd: 0.526,
    costUsd: 0.88,
  };
}

export interface SeededRun {
  runId: string;
  /** Relative key -> body of every file written. */
  files: Map<string, Buffer>;
  /** Keys listed in the results manifest. */
  artifactKeys: string[];
}

/**
 * Writes a run laid out per runLayout into the bucket. A finished run gets report files, two models of a
 * few hundred KiB (so downloads span many chunks) and the results manifest built by the trainer's own
 * buildResultsManifest; a running one only its status and a checkpoint.
 */
export async function seedRun(
  s3: S3Client,
  bucket: string,
  runId: string,
  opts: { status: RunStatus | null; finished: boolean },
): Promise<SeededRun> {
  const files = new Map<string, Buffer>();
  const put = (key: string, body: Buffer | string) =>
    files.set(key, Buffer.isBuffer(body) ? body : Buffer.from(body));
  if (opts.status) put(runLayout.status, JSON.stringify(opts.status));
  put(runLayout.config, JSON.stringify({ runId, preset: 'quick' }));
  put(`${runLayout.checkpointDir('baseline', 1)}/state.json`, JSON.stringify({ epoch: 5 }));
  put(runLayout.checkpointManifest('baseline', 1), JSON.stringify({ files: [] }));
  const artifactKeys: string[] = [];
  if (opts.finished) {
    const artifacts: Array<[string, Buffer | string]> = [
      [runLayout.summary, JSON.stringify(runSummary(runId), null, 2)],
      [
        runLayout.reportMarkdown,
        '# facepoints run\n\n| model | dev RMSE |\n|---|---|\n| baseline | 1.734 |\n',
      ],
      [runLayout.learningCurves, pseudoRandomBytes(40_000, 1)],
      [runLayout.bestWorst, pseudoRandomBytes(30_000, 2)],
      [runLayout.submission, 'RowId,Location\n1,66.3\n2,37.1\n'],
      [
        runLayout.modelJson('baseline'),
        JSON.stringify({ format: 'layers-model', weightsManifest: [{ paths: ['weights.bin'] }] }),
      ],
      [`${runLayout.modelDir('baseline')}/weights.bin`, pseudoRandomBytes(300_000, 3)],
      [runLayout.modelJson('specialists/nose-tip'), JSON.stringify({ format: 'layers-model' })],
      [`${runLayout.modelDir('specialists/nose-tip')}/weights.bin`, pseudoRandomBytes(200_000, 4)],
    ];
    for (const [k, v] of artifacts) {
      put(k, v);
      artifactKeys.push(k);
    }
    const staging = await fs.mkdtemp(path.join(os.tmpdir(), 'facepoints-run-'));
    try {
      const store = new FileStore(staging);
      for (const k of artifactKeys) await store.put(k, files.get(k)!);
      const manifest = await buildResultsManifest(
        store,
        runId,
        artifactKeys,
        new Date('2026-11-29T02:40:00Z'),
      );
      put(runLayout.resultsManifest, JSON.stringify(manifest, null, 2));
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
    }
  }
  for (const [key, body] of files) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${RUNS_PREFIX}${runId}/${key}`, Body: body }));
  }
  return { runId, files, artifactKeys };
}

export { localS3Client } from '../../support/s3-server';

/** One job row of `facepoints status`'s Batch view (ops/batch-run.ts UnitJob). */
export function batchJob(
  unit: string,
  status: string,
  attempts: number,
  statusReason: string | null,
): UnitJob {
  return { unit, jobId: `job-${unit}`, status, statusReason, attempts, containerInstance: null };
}

/** What `facepoints status` reports of an engine=batch run with no instance of its own, for the dashboard. */
export function batchStatusReport(
  execution: { status: string; error: string | null },
  jobs: UnitJob[],
  running: number,
): StatusReport {
  return {
    staleHeartbeat: null,
    cost: null,
    batch: {
      execution: { executionArn: 'arn:x', startDate: null, stopDate: null, ...execution },
      executionNote: null,
      jobs,
      jobsNote: null,
      cost: { hours: 1.5, usdPerHour: 0.526, usd: 0.789, priceSource: 'list price', running, asOf: 'x' },
    },
  } as Partial<StatusReport> as StatusReport;
}
