import * as path from 'node:path';
import { presentTargets } from '../train/masked-loss';
import type { OptimizerName } from '../config';
import type { OptimizerState } from '../train/nesterov';
import { type ReplyOf, type RequestOf, startWorker, type WorkerClient } from '../workers/worker-rpc';
import type { GradientProtocol, ShardJob, UpdateJob, WorkerInit } from './parallel-protocol';

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
  /** @default 'nesterov' */
  optimizer?: OptimizerName;
}

export interface ParallelStep {
  /** count x (per-example input size) floats, e.g. 96*96 pixels scaled to [0, 1], already flipped. */
  images: Float32Array;
  /** count x outputs targets. */
  targets: Float32Array;
  /** count x outputs 0/1 flags of the present targets (the loss covers those only); null when all are present. */
  mask?: Float32Array | null;
  count: number;
  learningRate: number;
  momentum: number;
  /** Drawn by the trainer from its saved PRNG; seeds every dropout mask of this step. */
  seed: number;
}

/**
 * Data-parallel training on several cores: each worker thread computes the gradient of its shards of the
 * batch on its own tfjs wasm instance (the wasm backend is single-threaded in Node), the gradients meet in
 * shared memory, and one step of SGD with Nesterov momentum (as tf.train.momentum(lr, m, true)) or of Adam
 * (as trainer/train/adam.ts) updates the one set of weights, also in shared memory, that every worker reads at the start of the next step. The
 * update itself is split too: each worker updates its own range of the parameters.
 * Shards are summed in shard order, so one worker and two give the same weights to float rounding.
 */
export class ParallelTrainer {
  private readonly weights: Float32Array;
  private readonly accumulators: Float32Array;
  /** Adam's second moments; empty for Nesterov. */
  private readonly secondMoments: Float32Array;
  private readonly shardCount: number;
  private iterations = 0;
  /** tf.memory().numTensors in each worker after its last step: constant from step to step when nothing leaks. */
  workerTensorCounts: number[] = [];

  private constructor(
    private readonly workers: Array<WorkerClient<GradientProtocol>>,
    private readonly shapes: number[][],
    weightBuffer: SharedArrayBuffer,
    accumulatorBuffer: SharedArrayBuffer,
    secondMomentBuffer: SharedArrayBuffer,
    shardCount: number,
    private readonly inputSize: number,
    private readonly outputs: number,
  ) {
    this.weights = new Float32Array(weightBuffer);
    this.accumulators = new Float32Array(accumulatorBuffer);
    this.secondMoments = new Float32Array(secondMomentBuffer);
    this.shardCount = shardCount;
  }

  static async create(opts: ParallelTrainerOptions): Promise<ParallelTrainer> {
    const workerCount = opts.workers ?? 2;
    const shards = opts.shards ?? 2;
    if (
      !(
        Number.isInteger(workerCount) &&
        workerCount >= 1 &&
        Number.isInteger(shards) &&
        shards >= workerCount
      )
    ) {
      throw new Error(
        `ParallelTrainer: expected 1 <= workers <= shards (integers), found workers=${workerCount}, shards=${shards}`,
      );
    }
    const total = opts.weightShapes.reduce((sum, s) => sum + size(s), 0);
    const weightBuffer = new SharedArrayBuffer(total * 4);
    const accumulatorBuffer = new SharedArrayBuffer(total * 4);
    const optimizer = opts.optimizer ?? 'nesterov';
    const secondMomentBuffer = new SharedArrayBuffer(optimizer === 'adam' ? total * 4 : 0);
    const gradientBuffers = Array.from({ length: shards }, () => new SharedArrayBuffer(total * 4));
    const { inputSize, outputs } = ioSizes(opts.modelTopology);
    const init: WorkerInit = {
      modelTopology: opts.modelTopology,
      weights: weightBuffer,
      accumulators: accumulatorBuffer,
      secondMoments: secondMomentBuffer,
      optimizer,
      gradients: gradientBuffers,
      shapes: opts.weightShapes,
      backend: opts.backend ?? 'wasm',
    };
    const started = await Promise.allSettled(
      Array.from({ length: workerCount }, () => startGradientWorker(init)),
    );
    const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw failed.reason;
    }
    const trainer = new ParallelTrainer(
      workers,
      opts.weightShapes,
      weightBuffer,
      accumulatorBuffer,
      secondMomentBuffer,
      shards,
      inputSize,
      outputs,
    );
    trainer.setWeights(opts.initialWeights);
    return trainer;
  }

  /**
   * One training step on `count` examples; returns the batch's mean squared error (over its present targets
   * when masked) before the update.
   */
  async step(s: ParallelStep): Promise<number> {
    const shards = this.shardCount;
    const mask = s.mask ?? null;
    // Every shard's masked sum is divided by the whole batch's present targets, so the shards' losses and
    // gradients add up to the batch's masked mean, as in one thread.
    const perTarget = mask ? 1 / Math.max(presentTargets(mask, s.count * this.outputs), 1) : 0;
    const jobs: ShardJob[] = [];
    for (let k = 0; k < shards; k++) {
      const from = Math.floor((k * s.count) / shards);
      const to = Math.floor(((k + 1) * s.count) / shards);
      jobs.push({
        shard: k,
        images: s.images.slice(from * this.inputSize, to * this.inputSize),
        targets: s.targets.slice(from * this.outputs, to * this.outputs),
        ...(mask ? { mask: mask.slice(from * this.outputs, to * this.outputs) } : {}),
        count: to - from,
        weight: mask ? perTarget : (to - from) / s.count,
        // Distinct per (step, shard) and below 2^53; the worker seeds a SeedSource with it.
        seed: s.seed * 64 + k,
      });
    }
    const active = jobs.filter((j) => j.count > 0);
    const results = await Promise.all(
      this.workers.map((worker, w) => {
        const mine = active.filter((_, i) => i % this.workers.length === w);
        return mine.length ? call(worker, 'step', mine) : { losses: [], tensors: -1 };
      }),
    );
    this.workerTensorCounts = results.map((r) => r.tensors);
    const loss = results.flatMap((r) => r.losses).reduce((sum, r) => sum + r.loss, 0);
    await this.update(
      active.map((j) => j.shard),
      s.learningRate,
      s.momentum,
    );
    return loss;
  }

  /** The optimizer's step, each worker on a contiguous range of the flat parameters (a 16.5M-parameter loop is ~0.1-0.2 s). */
  private async update(shards: number[], learningRate: number, momentum: number): Promise<void> {
    const total = this.weights.length;
    const n = this.workers.length;
    await Promise.all(
      this.workers.map((worker, w) => {
        const job: UpdateJob = {
          from: Math.floor((w * total) / n),
          to: Math.floor(((w + 1) * total) / n),
          shards,
          learningRate,
          momentum,
          step: this.iterations + 1,
        };
        return call(worker, 'update', job);
      }),
    );
    this.iterations++;
  }

  /** Copies of the trainable weights, in `model.trainableWeights` order. */
  getWeights(): Float32Array[] {
    return this.split(this.weights).map(({ view }) => view.slice());
  }

  setWeights(weights: Float32Array[]): void {
    for (const { view, values } of this.pair(this.weights, weights, 'setWeights')) view.set(values);
  }

  /**
   * The optimizer state in the in-thread optimizers' checkpoint format: one momentum accumulator per weight
   * (NesterovSgd), or the first moments then the second moments (Adam).
   */
  getOptimizerState(): OptimizerState {
    const arrays = [this.accumulators, ...(this.secondMoments.length ? [this.secondMoments] : [])];
    return {
      iterations: this.iterations,
      accumulators: arrays.flatMap((flat) =>
        this.split(flat).map(({ shape, view }) => ({ shape: shape.slice(), values: view.slice() })),
      ),
    };
  }

  setOptimizerState(state: OptimizerState): void {
    const arrays = state.accumulators.map((a) => a.values);
    const n = this.shapes.length;
    const adam = this.secondMoments.length > 0;
    if (arrays.length !== (adam ? 2 * n : n)) {
      throw new Error(
        `ParallelTrainer.setOptimizerState: expected ${adam ? `${2 * n} arrays (Adam's first and second moments)` : `${n} arrays`}, found ${arrays.length}`,
      );
    }
    for (const { view, values } of this.pair(this.accumulators, arrays.slice(0, n), 'setOptimizerState'))
      view.set(values);
    if (adam)
      for (const { view, values } of this.pair(this.secondMoments, arrays.slice(n), 'setOptimizerState'))
        view.set(values);
    this.iterations = state.iterations;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  /** One view into `flat` per weight, with its shape. */
  private split(flat: Float32Array): Array<{ shape: number[]; view: Float32Array }> {
    let offset = 0;
    return this.shapes.map((shape) => {
      const view = flat.subarray(offset, offset + size(shape));
      offset += size(shape);
      return { shape, view };
    });
  }

  /** Each of `arrays` with its view into `flat`, once they are checked to match the weights' layout. */
  private pair(
    flat: Float32Array,
    arrays: Float32Array[],
    where: string,
  ): Array<{ view: Float32Array; values: Float32Array }> {
    if (arrays.length !== this.shapes.length) {
      throw new Error(
        `ParallelTrainer.${where}: expected ${this.shapes.length} arrays, found ${arrays.length}`,
      );
    }
    const views = this.split(flat);
    return arrays.map((values, i) => {
      const { shape, view } = views[i]!;
      if (values.length !== size(shape)) {
        throw new Error(
          `ParallelTrainer.${where}: array ${i}: expected ${size(shape)} values (shape [${shape}]), found ${values.length}`,
        );
      }
      return { view, values };
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
  const input = layers?.[0]?.config.batch_input_shape as Array<number | null> | undefined;
  const units = layers?.[layers.length - 1]?.config.units as number | undefined;
  if (!input || typeof units !== 'number') {
    throw new Error(
      'ParallelTrainer: expected a Sequential topology whose first layer has batch_input_shape and whose last layer is dense (units)',
    );
  }
  return { inputSize: input.slice(1).reduce<number>((a, b) => a * (b ?? 1), 1), outputs: units };
}

async function startGradientWorker(init: WorkerInit): Promise<WorkerClient<GradientProtocol>> {
  const worker = startWorker<GradientProtocol, WorkerInit>(path.join(__dirname, 'parallel-worker.js'), {
    name: 'gradient',
    workerData: init,
  });
  try {
    await worker.ready;
  } catch (err) {
    await worker.terminate();
    throw new Error(`ParallelTrainer: worker failed to start: ${(err as Error).message}`);
  }
  return worker;
}

/** One request to a gradient worker; a failure names the request. */
async function call<K extends keyof GradientProtocol & string>(
  worker: WorkerClient<GradientProtocol>,
  method: K,
  request: RequestOf<GradientProtocol, K>,
): Promise<ReplyOf<GradientProtocol, K>> {
  try {
    return await worker.call(method, request);
  } catch (err) {
    throw new Error(`ParallelTrainer: worker ${method} failed: ${(err as Error).message}`);
  }
}
