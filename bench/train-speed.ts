import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../trainer/config';
import { ParallelTrainer } from '../trainer/backend/parallel-trainer';
import { selectBackend } from '../trainer/backend/select-backend';
import { buildNetwork } from '../trainer/models/ladder';
import { attachSeedSource } from '../trainer/models/seeded-dropout';
import { SeedSource } from '../trainer/models/seed-source';
import { presetConfig } from '../trainer/presets';
import { NesterovSgd } from '../trainer/train/nesterov';
import { chooseWorkers } from '../trainer/train/step-engine';

/** The seed's baseline network has exactly this many parameters (FACTS.md); the bench refuses any other. */
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
 * Images per second of training the seed's baseline network (trainer/models/ladder.ts, seed preset) with
 * the trainer's own optimizer (SGD, Nesterov momentum) and an MSE loss, on synthetic inputs: the speed does
 * not depend on pixel values, and the bench needs no data set.
 */
export async function benchTrainSpeed(opts: TrainSpeedOptions = {}): Promise<TrainSpeedResult> {
  const batch = opts.batch ?? 128;
  const steps = opts.steps ?? 5;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const selected = await selectBackend({ backend: opts.backend, requireGpu: false, log });
  const workers = chooseWorkers(opts.workers ?? 0, selected.name, batch);
  if (workers > 1) return benchParallel({ ...opts, workers, batch, steps, backendName: selected.name });

  const seeds = new SeedSource(1);
  const model = buildNetwork('baseline', OUTPUTS, presetConfig('seed'), seeds);
  attachSeedSource(model, seeds);
  if (model.countParams() !== BASELINE_PARAMS) {
    throw new Error(
      `bench: expected the baseline network to have ${BASELINE_PARAMS} parameters, found ${model.countParams()}`,
    );
  }
  const optimizer = new NesterovSgd(0.03, 0.9);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const images = tf.tidy(() => tf.randomUniform([batch, 96, 96, 1], 0, 1, 'float32', 7));
  const targets = tf.tidy(() => tf.randomUniform([batch, OUTPUTS], -1, 1, 'float32', 8));
  const step = (): void => {
    const loss = tf.tidy(
      () =>
        optimizer.optimizer.minimize(
          () => tf.losses.meanSquaredError(targets, model.apply(images, { training: true }) as tf.Tensor),
          true,
          variables,
        ) as tf.Scalar,
    );
    // Reading the loss waits for the step to finish on asynchronous backends (tfjs-node-gpu).
    loss.dataSync();
    loss.dispose();
  };

  try {
    step();
    const tensorsAfterWarmup = tf.memory().numTensors;
    const rssMBAfterWarmup = rssMB();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const rssTraceMB: number[] = [];
    const every = Math.max(1, Math.round(steps / 10));
    for (let i = 0; i < steps; i++) {
      step();
      if ((i + 1) % every === 0) rssTraceMB.push(rssMB());
    }
    const stepMs = (performance.now() - t0) / steps;
    const cpu = process.cpuUsage(cpu0);
    const stepCpuMs = (cpu.user + cpu.system) / 1000 / steps;
    const tensorsAfterSteps = tf.memory().numTensors;
    const rssMBAfterSteps = rssMB();
    const result: TrainSpeedResult = {
      trainImagesPerSecond: (batch * 1000) / stepMs,
      backend: selected.name,
      workers: 1,
      stepMs,
      stepCpuMs,
      tensorsAfterWarmup,
      tensorsAfterSteps,
      rssMBAfterWarmup,
      rssMBAfterSteps,
      rssTraceMB,
    };
    if (opts.profile ?? true) result.perKernelMs = await profileStep(step);
    return result;
  } finally {
    tf.dispose([images, targets]);
    optimizer.dispose();
    model.dispose();
  }
}

async function benchParallel(
  opts: TrainSpeedOptions & { batch: number; steps: number; backendName: BackendName },
): Promise<TrainSpeedResult> {
  if (opts.backendName !== 'wasm' && opts.backendName !== 'cpu') {
    throw new Error(`bench: --workers needs the wasm or cpu backend, found ${opts.backendName}`);
  }
  const workers = opts.workers ?? 2;
  const model = buildNetwork('baseline', OUTPUTS, presetConfig('seed'), new SeedSource(1));
  const trainer = await ParallelTrainer.create({
    modelTopology: model.toJSON(null, false) as object,
    weightShapes: model.trainableWeights.map((w) => w.shape as number[]),
    initialWeights: model.trainableWeights.map((w) => w.read().dataSync() as Float32Array),
    workers,
    shards: workers,
    backend: opts.backendName,
  });
  model.dispose();
  const seeds = new SeedSource(2);
  const images = Float32Array.from({ length: opts.batch * 96 * 96 }, () => seeds.next());
  const targets = Float32Array.from({ length: opts.batch * OUTPUTS }, () => seeds.next() * 2 - 1);
  const step = (): Promise<number> =>
    trainer.step({
      images,
      targets,
      count: opts.batch,
      learningRate: 0.03,
      momentum: 0.9,
      seed: seeds.nextSeed(),
    });
  try {
    await step();
    const tensorsAfterWarmup = trainer.workerTensorCounts.reduce((a, b) => a + b, 0);
    const rssMBAfterWarmup = rssMB();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const rssTraceMB: number[] = [];
    const every = Math.max(1, Math.round(opts.steps / 10));
    for (let i = 0; i < opts.steps; i++) {
      await step();
      if ((i + 1) % every === 0) rssTraceMB.push(rssMB());
    }
    const stepMs = (performance.now() - t0) / opts.steps;
    const cpu = process.cpuUsage(cpu0);
    return {
      trainImagesPerSecond: (opts.batch * 1000) / stepMs,
      backend: opts.backendName,
      workers,
      stepMs,
      // process.cpuUsage covers every thread of the process, workers included.
      stepCpuMs: (cpu.user + cpu.system) / 1000 / opts.steps,
      tensorsAfterWarmup,
      tensorsAfterSteps: trainer.workerTensorCounts.reduce((a, b) => a + b, 0),
      rssMBAfterWarmup,
      rssMBAfterSteps: rssMB(),
      rssTraceMB,
    };
  } finally {
    await trainer.dispose();
  }
}

async function profileStep(step: () => void): Promise<Record<string, number>> {
  const info = await tf.profile(step);
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
