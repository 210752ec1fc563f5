import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../trainer/backend/select-backend';
import type { BackendName } from '../trainer/config';
import { PIXELS } from '../contracts/keypoints';
import { buildNetwork } from '../trainer/models/ladder';
import { SeedSource } from '../trainer/models/seed-source';
import { presetConfig } from '../trainer/presets';
import { chooseWorkers, createStepEngine, type StepBatch } from '../trainer/train/step-engine';
import { timeSteps } from '../trainer/train/time-steps';

/** The seed's baseline network has exactly this many parameters (docs/seed.md, "The models"); the bench refuses any other. */
export const BASELINE_PARAMS = 16_561_502;
const OUTPUTS = 30;

export interface TrainSpeedOptions {
  /** Force a backend; default: the best that loads here (selectBackend's order). */
  backend?: BackendName;
  /** @default 128 */
  batch?: number;
  /** Timed steps after one warm-up step. @default 5 */
  steps?: number;
  /** Also time one extra step kernel by kernel (tf.profile). @default true */
  profile?: boolean;
  /**
   * Gradient worker threads, as the trainer's --workers: 0 picks as the trainer does (chooseWorkers: two
   * on wasm with 2 cores at batch 128), 1 trains in this thread (and profiles kernels). @default 0
   */
  workers?: number;
  log?: (line: string) => void;
}

export interface TrainSpeedResult {
  trainImagesPerSecond: number;
  backend: string;
  /** Worker threads that trained (1: in-process). */
  workers: number;
  /** Milliseconds per tfjs kernel name in one profiled step, largest first (in-process only). */
  perKernelMs?: Record<string, number>;
  /** Mean wall time of one timed step. */
  stepMs: number;
  /** Mean CPU time (user + system, all threads) of one timed step: steadier than wall time on a shared machine. */
  stepCpuMs: number;
  /** tf.memory().numTensors after the warm-up step and after the last timed step: equal when nothing leaks. */
  tensorsAfterWarmup: number;
  tensorsAfterSteps: number;
  /** Process RSS after the warm-up step and after the last timed step. */
  rssMBAfterWarmup: number;
  rssMBAfterSteps: number;
  /** RSS sampled every tenth of the timed steps: a leak climbs steadily, the wasm heap's high-water mark levels off. */
  rssTraceMB: number[];
}

/**
 * Images per second of training the seed's baseline network (trainer/models/ladder.ts, seed preset) in the
 * trainer's own step engine (createStepEngine: SGD with Nesterov momentum and an MSE loss, in this thread
 * or in gradient workers), timed by the same helper as the run's speed probe, on synthetic inputs: the
 * speed does not depend on pixel values, and the bench needs no data set.
 */
export async function benchTrainSpeed(opts: TrainSpeedOptions = {}): Promise<TrainSpeedResult> {
  const batch = opts.batch ?? 128;
  const steps = opts.steps ?? 5;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const selected = await selectBackend({ backend: opts.backend, requireGpu: false, log });
  const workers = chooseWorkers(opts.workers ?? 0, selected.name, batch);

  const seeds = new SeedSource(1);
  const model = buildNetwork('baseline', OUTPUTS, presetConfig('seed'), seeds);
  if (model.countParams() !== BASELINE_PARAMS) {
    model.dispose();
    throw new Error(
      `bench: expected the baseline network to have ${BASELINE_PARAMS} parameters, found ${model.countParams()}`,
    );
  }
  const engine = await createStepEngine(model, seeds, workers, selected.name, 'nesterov');
  const inputs = new SeedSource(2);
  const batchInput: StepBatch = {
    images: Float32Array.from({ length: batch * PIXELS }, () => inputs.next()),
    targets: Float32Array.from({ length: batch * OUTPUTS }, () => inputs.next() * 2 - 1),
    n: batch,
    learningRate: 0.03,
    momentum: 0.9,
  };
  const step = () => engine.step(batchInput);
  try {
    let tensorsAfterWarmup = 0;
    let rssMBAfterWarmup = 0;
    const rssTraceMB: number[] = [];
    const every = Math.max(1, Math.round(steps / 10));
    const times = await timeSteps(step, {
      warmup: 1,
      steps,
      afterWarmup: () => {
        tensorsAfterWarmup = engine.liveTensors();
        rssMBAfterWarmup = rssMB();
      },
      afterStep: (i) => {
        if ((i + 1) % every === 0) rssTraceMB.push(rssMB());
      },
    });
    const stepMs = times.wallMs.reduce((a, b) => a + b, 0) / steps;
    const result: TrainSpeedResult = {
      trainImagesPerSecond: (batch * 1000) / stepMs,
      backend: selected.name,
      workers,
      stepMs,
      stepCpuMs: times.cpuMs / steps,
      tensorsAfterWarmup,
      tensorsAfterSteps: engine.liveTensors(),
      rssMBAfterWarmup,
      rssMBAfterSteps: rssMB(),
      rssTraceMB,
    };
    // Kernel times exist only for the kernels of this thread.
    if (workers === 1 && (opts.profile ?? true)) result.perKernelMs = await profileStep(step);
    return result;
  } finally {
    await engine.dispose();
    model.dispose();
  }
}

async function profileStep(step: () => Promise<number>): Promise<Record<string, number>> {
  const info = await tf.profile(async () => {
    await step();
  });
  const totals = new Map<string, number>();
  for (const k of info.kernels) {
    const ms = Number(await k.kernelTimeMs);
    totals.set(k.name, (totals.get(k.name) ?? 0) + (Number.isFinite(ms) ? ms : 0));
  }
  return Object.fromEntries([...totals].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round(v)]));
}

function rssMB(): number {
  return Math.round(process.memoryUsage().rss / 2 ** 20);
}

export interface PyTorchReferenceResult {
  /** PyTorch on all cores (torch's default thread count here). */
  pytorchImagesPerSecond: number;
  pytorchImagesPerSecond1Thread: number;
  pytorchThreads: number;
  /** CPU milliseconds (all threads) per step, 2 threads and 1 thread: compare with TrainSpeedResult.stepCpuMs. */
  pytorchStepCpuMs: number;
  pytorchStepCpuMs1Thread: number;
  pytorchVersion: string;
  /** trainImagesPerSecond / pytorchImagesPerSecond, when the tfjs figure was passed in. */
  vsPyTorch?: number;
}

const DEBIAN_PYTHON = '/usr/bin/python3';
// Next to this file when run from source (tsx), two levels up from dist/bench when built.
const REFERENCE_SCRIPT = [
  path.join(__dirname, 'pytorch_reference.py'),
  path.resolve(__dirname, '..', '..', 'bench', 'pytorch_reference.py'),
].find((p) => existsSync(p));

/**
 * The same network and step in PyTorch (bench/pytorch_reference.py), on 2 threads and on 1, when Debian's
 * python3-torch is installed; null otherwise. PyTorch is a reference for the benchmark only.
 */
export async function benchPyTorchReference(opts: {
  batch?: number;
  steps?: number;
  trainImagesPerSecond?: number;
  threads?: number;
}): Promise<PyTorchReferenceResult | null> {
  if (!torchInstalled() || !REFERENCE_SCRIPT) return null;
  const batch = opts.batch ?? 128;
  const steps = opts.steps ?? 5;
  const threads = opts.threads ?? 2;
  const all = runReference(REFERENCE_SCRIPT, batch, steps, threads);
  const one = runReference(REFERENCE_SCRIPT, batch, steps, 1);
  const result: PyTorchReferenceResult = {
    pytorchImagesPerSecond: all.imagesPerSecond,
    pytorchImagesPerSecond1Thread: one.imagesPerSecond,
    pytorchThreads: threads,
    pytorchStepCpuMs: all.stepCpuMs,
    pytorchStepCpuMs1Thread: one.stepCpuMs,
    pytorchVersion: all.torch,
  };
  if (opts.trainImagesPerSecond !== undefined)
    result.vsPyTorch = opts.trainImagesPerSecond / all.imagesPerSecond;
  return result;
}

function torchInstalled(): boolean {
  try {
    execFileSync(DEBIAN_PYTHON, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

interface ReferenceRun {
  imagesPerSecond: number;
  stepCpuMs: number;
  torch: string;
  params: number;
}

function runReference(script: string, batch: number, steps: number, threads: number): ReferenceRun {
  const args = [script, '--batch', String(batch), '--steps', String(steps), '--threads', String(threads)];
  const run = spawnSync(DEBIAN_PYTHON, args, { encoding: 'utf8', timeout: 30 * 60_000 });
  if (run.status !== 0) {
    throw new Error(
      `bench: ${DEBIAN_PYTHON} ${args.join(' ')} exited ${run.status}: ${run.stderr.trim().split('\n').pop()}`,
    );
  }
  const parsed = JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as ReferenceRun;
  if (parsed.params !== BASELINE_PARAMS) {
    throw new Error(
      `bench: expected the PyTorch reference network to have ${BASELINE_PARAMS} parameters, found ${parsed.params}`,
    );
  }
  return parsed;
}
