import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { ParallelTrainer } from '../backend/parallel-trainer';
import type { BackendName, OptimizerName } from '../config';
import { IMAGE_SIZE, PIXELS } from '../../contracts/keypoints';
import { attachSeedSource } from '../models/seeded-dropout';
import type { SeedSource } from '../models/seed-source';
import { outputCount } from './evaluate';
import { squaredErrorLoss } from './masked-loss';
import { Adam } from './adam';
import { NesterovSgd, type OptimizerState } from './nesterov';

/**
 * Where trainUnit's SGD steps run: in this thread on tensors (GPU and native backends, and small
 * batches), or data-parallel in worker threads (ParallelTrainer) on the wasm backend, whose Node build is
 * single-threaded. Either way the weights end up in `model` for evaluation and saving.
 */
export interface StepEngine {
  /** One step; the batch's mean loss. */
  step(batch: StepBatch): Promise<number>;
  /** Copies of every weight, in model.getWeights() order. */
  readWeights(): Float32Array[];
  /** Replace every weight (model.getWeights() order), in the engine and in the model. */
  setWeights(values: Float32Array[]): void;
  /** Makes the model hold the engine's current weights (before evaluating it). */
  syncModel(): void;
  optimizerState(): Promise<OptimizerState>;
  restoreOptimizer(state: OptimizerState): Promise<void>;
  /** Tensors alive where the steps run (this thread, or the workers together): steady when nothing leaks. */
  liveTensors(): number;
  dispose(): Promise<void>;
}

/** One SGD step's inputs: the first `n` images ([n, 96, 96, 1] floats, already flipped) and targets. */
export interface StepBatch {
  images: Float32Array;
  targets: Float32Array;
  /** 1 where a target is present, 0 where missing (see squaredErrorLoss); absent when every target is present. */
  mask?: Float32Array | null;
  n: number;
  learningRate: number;
  /** Nesterov's momentum; Adam ignores it. */
  momentum: number;
}

/**
 * Gradient workers for a unit: 2 on the wasm backend with at least 2 cores when a batch holds at least
 * PARALLEL_MIN_BATCH images, else 1 (this thread). `requested` > 0 overrides (it must be 1 off wasm/cpu).
 * Measured here: the seed's baseline at batch 128 trains at ~40 img/s in one thread and ~79 in two workers;
 * a narrow network (4/8/16 filters on 96x96 images) at batch 8 at 512 img/s in one thread and 390 in two
 * (its steps are too short for the messages and weight copies to pay); the quick preset's network (8/16/32
 * filters on 48x48) at ~1,070-1,170 img/s either way.
 */
export const PARALLEL_MIN_BATCH = 32;

export function chooseWorkers(
  requested: number,
  backend: BackendName,
  batchSize: number,
  cpus = os.cpus().length,
): number {
  const threaded = backend === 'wasm' || backend === 'cpu';
  if (requested > 0) {
    if (requested > 1 && !threaded) {
      throw new Error(
        `workers: expected 1 on the ${backend} backend (it runs its own threads), found ${requested}; worker threads train on wasm or cpu only`,
      );
    }
    return requested;
  }
  return backend === 'wasm' && cpus >= 2 && batchSize >= PARALLEL_MIN_BATCH ? 2 : 1;
}

export async function createStepEngine(
  model: tf.LayersModel,
  rng: SeedSource,
  workers: number,
  backend: BackendName,
  optimizer: OptimizerName,
): Promise<StepEngine> {
  if (workers <= 1) return new InProcessEngine(model, rng, optimizer);
  if (backend !== 'wasm' && backend !== 'cpu')
    throw new Error(`workers: expected the wasm or cpu backend for ${workers} workers, found ${backend}`);
  return ParallelEngine.create(model, rng, workers, backend, optimizer);
}

/** The optimizer on the model's own variables, in this thread; dropout draws from `rng` through the model. */
class InProcessEngine implements StepEngine {
  private readonly optimizer: NesterovSgd | Adam;
  private readonly variables: tf.Variable[];
  private readonly outputs: number;
  private learningRate = NaN;
  private momentum = NaN;

  constructor(
    private readonly model: tf.LayersModel,
    rng: SeedSource,
    optimizer: OptimizerName,
  ) {
    this.optimizer = optimizer === 'adam' ? new Adam(0.001) : new NesterovSgd(0.01, 0.9);
    attachSeedSource(model, rng);
    this.variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    this.outputs = outputCount(model);
  }

  async step({ images, targets, mask, n, learningRate, momentum }: StepBatch): Promise<number> {
    // The schedules change once per epoch; setMomentum allocates a scalar, so only on change.
    if (learningRate !== this.learningRate) {
      this.learningRate = learningRate;
      this.optimizer.setLearningRate(learningRate);
    }
    if (momentum !== this.momentum && this.optimizer instanceof NesterovSgd) {
      this.momentum = momentum;
      this.optimizer.setMomentum(momentum);
    }
    const cost = tf.tidy(() => {
      const x = tf.tensor4d(images.subarray(0, n * PIXELS), [n, IMAGE_SIZE, IMAGE_SIZE, 1]);
      const y = tf.tensor2d(targets.subarray(0, n * this.outputs), [n, this.outputs]);
      const present = mask ? tf.tensor2d(mask.subarray(0, n * this.outputs), [n, this.outputs]) : null;
      const lossFn = () => squaredErrorLoss(this.model.apply(x, { training: true }) as tf.Tensor, y, present);
      return this.optimizer.minimize(lossFn, this.variables);
    });
    // An empty result reads as NaN, which the training loop reports as divergence.
    const loss = (await cost.data())[0] ?? Number.NaN;
    cost.dispose();
    return loss;
  }

  readWeights(): Float32Array[] {
    return this.model.getWeights().map((w) => (w.dataSync() as Float32Array).slice());
  }

  setWeights(values: Float32Array[]): void {
    setModelWeights(this.model, values);
  }

  syncModel(): void {}

  optimizerState(): Promise<OptimizerState> {
    return this.optimizer.state();
  }

  restoreOptimizer(state: OptimizerState): Promise<void> {
    return this.optimizer.restore(state);
  }

  liveTensors(): number {
    return tf.memory().numTensors;
  }

  async dispose(): Promise<void> {
    this.optimizer.dispose();
  }
}

/** ParallelTrainer: every step's dropout seeds come from one draw of `rng` (shard seeds derive from it). */
class ParallelEngine implements StepEngine {
  private dirty = false;
  private readonly outputs: number;

  private constructor(
    private readonly model: tf.LayersModel,
    private readonly rng: SeedSource,
    private readonly trainer: ParallelTrainer,
  ) {
    this.outputs = outputCount(model);
  }

  static async create(
    model: tf.LayersModel,
    rng: SeedSource,
    workers: number,
    backend: 'wasm' | 'cpu',
    optimizer: OptimizerName,
  ): Promise<ParallelEngine> {
    if (model.nonTrainableWeights.length > 0) {
      throw new Error(
        `workers: expected a network whose weights are all trainable, found ${model.nonTrainableWeights.length} non-trainable`,
      );
    }
    const trainer = await ParallelTrainer.create({
      modelTopology: model.toJSON(null, false) as object,
      weightShapes: model.trainableWeights.map((w) => w.shape as number[]),
      // setWeights below copies these into shared memory.
      initialWeights: model.trainableWeights.map((w) => w.read().dataSync() as Float32Array),
      workers,
      backend,
      optimizer,
    });
    return new ParallelEngine(model, rng, trainer);
  }

  async step({ images, targets, mask, n, learningRate, momentum }: StepBatch): Promise<number> {
    this.dirty = true;
    return this.trainer.step({
      images: images.subarray(0, n * PIXELS),
      targets: targets.subarray(0, n * this.outputs),
      mask: mask ? mask.subarray(0, n * this.outputs) : null,
      count: n,
      learningRate,
      momentum,
      seed: this.rng.nextSeed(),
    });
  }

  readWeights(): Float32Array[] {
    // All weights are trainable (checked at creation), so trainableWeights order is getWeights order.
    return this.trainer.getWeights();
  }

  setWeights(values: Float32Array[]): void {
    this.trainer.setWeights(values);
    setModelWeights(this.model, values);
    this.dirty = false;
  }

  syncModel(): void {
    if (!this.dirty) return;
    setModelWeights(this.model, this.trainer.getWeights());
    this.dirty = false;
  }

  async optimizerState(): Promise<OptimizerState> {
    return this.trainer.getOptimizerState();
  }

  async restoreOptimizer(state: OptimizerState): Promise<void> {
    this.trainer.setOptimizerState(state);
  }

  liveTensors(): number {
    return this.trainer.workerTensorCounts.reduce((a, b) => a + b, 0);
  }

  async dispose(): Promise<void> {
    this.syncModel();
    await this.trainer.dispose();
  }
}

/** Sets every weight of `model` (getWeights order) to copies of `values`. */
export function setModelWeights(model: tf.LayersModel, values: Float32Array[]): void {
  const current = model.getWeights();
  // Copies: on the cpu backend a tensor keeps the array it was made from, and these arrays stay the caller's.
  if (values.length !== current.length)
    throw new Error(`setModelWeights: expected ${current.length} weight arrays, found ${values.length}`);
  const tensors = current.map((w, i) => tf.tensor(values[i]!.slice(), w.shape, 'float32'));
  model.setWeights(tensors);
  tf.dispose(tensors);
}
