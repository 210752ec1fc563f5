/** What ParallelTrainer (main thread) and its gradient workers (parallel-worker.ts) exchange. */
import type { OptimizerName } from '../config';

export interface WorkerInit {
  /** model.toJSON(null, false): the architecture; weights arrive through `weights`. */
  modelTopology: object;
  /** Trainable weights, in model.trainableWeights order, as views over one SharedArrayBuffer. */
  weights: SharedArrayBuffer;
  /**
   * Momentum accumulators (Adam: first moments), same layout as `weights`, shared: each worker updates its
   * own range.
   */
  accumulators: SharedArrayBuffer;
  /** Adam's second moments, same layout; empty for Nesterov. */
  secondMoments: SharedArrayBuffer;
  optimizer: OptimizerName;
  /** One gradient region per shard (same layout as `weights`), also shared. */
  gradients: SharedArrayBuffer[];
  shapes: number[][];
  backend: 'wasm' | 'cpu';
}

export interface ShardJob {
  shard: number;
  /** count x inputSize image floats and count x outputs targets for this shard. */
  images: Float32Array;
  targets: Float32Array;
  /** count x outputs 0/1 flags of the present targets; absent when every target is present. */
  mask?: Float32Array;
  count: number;
  /**
   * The shard's share of the batch loss: count / batch count times the shard's mean squared error, or with
   * a mask 1 / (present targets in the whole batch) times the shard's masked squared sum.
   */
  weight: number;
  /** Seeds this shard's dropout masks; derived from the step seed and the shard index. */
  seed: number;
}

/** Apply the optimizer's step to the flat parameter range [from, to) with the gradients of `shards` (in that order). */
export interface UpdateJob {
  from: number;
  to: number;
  shards: number[];
  learningRate: number;
  momentum: number;
  /** 1-based count of this update (Adam's bias correction). */
  step: number;
}

/** The gradient worker's requests (served by parallel-worker.ts over worker-rpc). */
export interface GradientProtocol {
  /** Gradients of these shards into their shared regions; their weighted losses and the worker's tensor count. */
  step(jobs: ShardJob[]): { losses: Array<{ shard: number; loss: number }>; tensors: number };
  update(job: UpdateJob): void;
}
