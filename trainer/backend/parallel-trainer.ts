import { existsSync } from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import type * as tf from '@tensorflow/tfjs';
import type { OptimizerState } from '../train/nesterov';
import type { FromWorker, ShardJob, ToWorker, WorkerInit } from './parallel-protocol';

export interface ParallelTrainerOptions {
  /** The network's architecture, `model.toJSON(null, false)`; custom layers must be registered by modules the worker imports (SeededDropout is). */
  modelTopology: object;
  /** Shapes of the trainable weights, in `model.trainableWeights` order. */
  weightShapes: number[][];
  /** Initial trainable weights, same order (e.g. `model.getWeights()` read out). */
  initialWeights: Float32Array[];
  /** Gradient worker threads. @default 2 */
  workers?: number;
  /**
   * Fixed pieces each batch is cut into, independent of `workers`, so the result does not depend on how
   * many workers run (each shard has its own dropout seed). @default 2
   */
  shards?: number;
  /** tfjs backend inside the workers. @default 'wasm' */
  backend?: 'wasm' | 'cpu';
}

export interface ParallelStep {
  /** count x (per-example input size) floats, e.g. 96*96 pixels scaled to [0, 1], already flipped. */
  images: Float32Array;
  /** count x outputs targets. */
  targets: Float32Array;
  count: number;
  learningRate: number;
  momentum: number;
  /** Drawn by the trainer from its saved PRNG; seeds every dropout mask of this step. */
  seed: number;
}

/**
 * Data-parallel training on several cores: each worker thread computes the gradient of its shards of the
 * batch on its own tfjs wasm instance (the wasm backend is single-threaded in Node), the gradients meet in
 * shared memory, and one SGD step with Nesterov momentum (as tf.train.momentum(lr, m, true)) updates the
 * one set of weights, also in shared memory, that every worker reads at the start of the next step.
 * Shards are summed in shard order, so one worker and two give the same weights to float rounding.
 */
export class ParallelTrainer {
  private readonly weights: Float32Array;
  private readonly accumulators: Float32Array;
  private readonly gradients: Float32Array[];
  private iterations = 0;
  /** tf.memory().numTensors in each worker after its last step: constant from step to step when nothing leaks. */
  workerTensorCounts: number[] = [];

  private constructor(
    private readonly workers: Worker[],
    private readonly shapes: number[][],
    weightBuffer: SharedArrayBuffer,
    gradientBuffers: SharedArrayBuffer[],
    private readonly inputSize: number,
    private readonly outputs: number,
  ) {
    this.weights = new Float32Array(weightBuffer);
    this.accumulators = new Float32Array(this.weights.length);
    this.gradients = gradientBuffers.map((b) => new Float32Array(b));
  }

  static async create(opts: ParallelTrainerOptions): Promise<ParallelTrainer> {
    const workerCount = opts.workers ?? 2;
    const shards = opts.shards ?? 2;
    if (!(Number.isInteger(workerCount) && workerCount >= 1 && Number.isInteger(shards) && shards >= workerCount)) {
      throw new Error(`ParallelTrainer: expected 1 <= workers <= shards (integers), found workers=${workerCount}, shards=${shards}`);
    }
    const total = opts.weightShapes.reduce((sum, s) => sum + size(s), 0);
    const weightBuffer = new SharedArrayBuffer(total * 4);
    const gradientBuffers = Array.from({ length: shards }, () => new SharedArrayBuffer(total * 4));
    const { inputSize, outputs } = ioSizes(opts.modelTopology);
    const init: WorkerInit = {
      modelTopology: opts.modelTopology,
      weights: weightBuffer,
      gradients: gradientBuffers,
      shapes: opts.weightShapes,
      backend: opts.backend ?? 'wasm',
    };
    const workers = await Promise.all(Array.from({ length: workerCount }, () => startWorker(init)));
    const trainer = new ParallelTrainer(workers, opts.weightShapes, weightBuffer, gradientBuffers, inputSize, outputs);
    trainer.setWeights(opts.initialWeights);
    return trainer;
  }

  /** One training step on `count` examples; returns the batch's mean squared error before the update. */
  async step(s: ParallelStep): Promise<number> {
    const shards = this.gradients.length;
    const jobs: ShardJob[] = [];
    for (let k = 0; k < shards; k++) {
      const from = Math.floor((k * s.count) / shards);
      const to = Math.floor(((k + 1) * s.count) / shards);
      jobs.push({
        shard: k,
        images: s.images.slice(from * this.inputSize, to * this.inputSize),
        targets: s.targets.slice(from * this.outputs, to * this.outputs),
        count: to - from,
        weight: (to - from) / s.count,
        // Distinct per (step, shard) and below 2^53; the worker seeds a SeedSource with it.
        seed: s.seed * 64 + k,
      });
    }
    const active = jobs.filter((j) => j.count > 0);
    const perWorker = this.workers.map((_, w) => active.filter((_, i) => i % this.workers.length === w));
    const results = await Promise.all(
      this.workers.map((worker, w) => (perWorker[w].length ? request(worker, perWorker[w]) : { losses: [], tensors: -1 })),
    );
    this.workerTensorCounts = results.map((r) => r.tensors);
    const loss = results.flatMap((r) => r.losses).reduce((sum, r) => sum + r.loss, 0);
    this.applyNesterov(active.map((j) => this.gradients[j.shard]), s.learningRate, s.momentum);
    return loss;
  }

  private applyNesterov(grads: Float32Array[], learningRate: number, momentum: number): void {
    // Shards are summed first, in shard order, so the result does not depend on the number of workers.
    // Plain loops: 16.5M parameters take ~30-60 ms here (a few % of a step) and need no tensors; the
    // two-shard case has its own loop because a loop over shards per parameter is 2-3x slower.
    let g = grads[0];
    if (grads.length === 2) {
      g = this.sumScratch();
      const [a, b] = grads;
      for (let i = 0; i < g.length; i++) g[i] = a[i] + b[i];
    } else if (grads.length > 2) {
      g = this.sumScratch();
      g.set(grads[0]);
      for (const more of grads.slice(1)) for (let i = 0; i < g.length; i++) g[i] += more[i];
    }
    const w = this.weights;
    const acc = this.accumulators;
    // As tf.train.momentum(lr, m, useNesterov = true): a = m * a + g; w -= lr * (g + m * a).
    for (let i = 0; i < w.length; i++) {
      const a = Math.fround(momentum * acc[i] + g[i]);
      acc[i] = a;
      w[i] = w[i] - learningRate * (g[i] + momentum * a);
    }
    this.iterations++;
  }

  private scratch: Float32Array | null = null;

  private sumScratch(): Float32Array {
    this.scratch ??= new Float32Array(this.weights.length);
    return this.scratch;
  }

  /** Copies of the trainable weights, in `model.trainableWeights` order. */
  getWeights(): Float32Array[] {
    return this.split(this.weights).map((v) => v.slice());
  }

  setWeights(weights: Float32Array[]): void {
    this.checkLayout(weights, 'setWeights');
    this.split(this.weights).forEach((view, i) => view.set(weights[i]));
  }

  /** The optimizer state in NesterovSgd's checkpoint format (one momentum accumulator per weight). */
  getOptimizerState(): OptimizerState {
    return {
      iterations: this.iterations,
      accumulators: this.split(this.accumulators).map((v, i) => ({ shape: this.shapes[i].slice(), values: v.slice() })),
    };
  }

  setOptimizerState(state: OptimizerState): void {
    this.checkLayout(
      state.accumulators.map((a) => a.values),
      'setOptimizerState',
    );
    this.split(this.accumulators).forEach((view, i) => view.set(state.accumulators[i].values));
    this.iterations = state.iterations;
  }

  /** Writes the current weights into a model of the same architecture (for evaluation and saving). */
  copyInto(model: tf.LayersModel, tfjs: typeof tf): void {
    const weights = this.getWeights();
    const tensors = model.trainableWeights.map((w, i) => tfjs.tensor(weights[i], w.shape as number[]));
    tfjs.tidy(() => model.trainableWeights.forEach((w, i) => w.write(tensors[i])));
    tfjs.dispose(tensors);
  }

  async dispose(): Promise<void> {
    await Promise.all(
      this.workers.map(async (worker) => {
        worker.postMessage({ type: 'close' } satisfies ToWorker);
        await worker.terminate();
      }),
    );
  }

  private split(flat: Float32Array): Float32Array[] {
    let offset = 0;
    return this.shapes.map((shape) => {
      const view = flat.subarray(offset, offset + size(shape));
      offset += size(shape);
      return view;
    });
  }

  private checkLayout(arrays: Float32Array[], where: string): void {
    if (arrays.length !== this.shapes.length) {
      throw new Error(`ParallelTrainer.${where}: expected ${this.shapes.length} arrays, found ${arrays.length}`);
    }
    arrays.forEach((a, i) => {
      if (a.length !== size(this.shapes[i])) {
        throw new Error(`ParallelTrainer.${where}: array ${i}: expected ${size(this.shapes[i])} values (shape [${this.shapes[i]}]), found ${a.length}`);
      }
    });
  }
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Per-example input size and output count, read from the Sequential topology's first and last layers. */
function ioSizes(topology: object): { inputSize: number; outputs: number } {
  const config = (topology as { config?: { layers?: Array<{ config: Record<string, unknown> }> } }).config;
  const layers = config?.layers;
  const input = layers?.[0]?.config['batch_input_shape'] as Array<number | null> | undefined;
  const units = layers?.[layers.length - 1]?.config['units'] as number | undefined;
  if (!input || typeof units !== 'number') {
    throw new Error('ParallelTrainer: expected a Sequential topology whose first layer has batch_input_shape and whose last layer is dense (units)');
  }
  return { inputSize: input.slice(1).reduce<number>((a, b) => a * (b ?? 1), 1), outputs: units };
}

/** The worker's compiled file next to this one (dist), or its TypeScript source run through tsx (tests, tsx). */
function workerEntry(): { file: string; execArgv: string[] } {
  const js = path.join(__dirname, 'parallel-worker.js');
  if (existsSync(js)) return { file: js, execArgv: [] };
  return { file: path.join(__dirname, 'parallel-worker.ts'), execArgv: ['--require', require.resolve('tsx/cjs')] };
}

function startWorker(init: WorkerInit): Promise<Worker> {
  const { file, execArgv } = workerEntry();
  const worker = new Worker(file, { workerData: init, execArgv });
  return new Promise((resolve, reject) => {
    const onMessage = (msg: FromWorker): void => {
      worker.off('error', reject);
      if (msg.type === 'ready') resolve(worker);
      else reject(new Error(`ParallelTrainer: worker failed to start: ${msg.type === 'error' ? msg.message : msg.type}`));
    };
    worker.once('message', onMessage);
    worker.once('error', reject);
  });
}

function request(worker: Worker, jobs: ShardJob[]): Promise<{ losses: Array<{ shard: number; loss: number }>; tensors: number }> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    worker.once('error', onError);
    worker.once('message', (msg: FromWorker) => {
      worker.off('error', onError);
      if (msg.type === 'done') resolve({ losses: msg.losses, tensors: msg.tensors });
      else reject(new Error(`ParallelTrainer: worker step failed: ${msg.type === 'error' ? msg.message : msg.type}`));
    });
    worker.postMessage({ type: 'step', jobs } satisfies ToWorker);
  });
}
