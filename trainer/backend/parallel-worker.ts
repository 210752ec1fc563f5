import * as tf from '@tensorflow/tfjs';
import { SeedSource } from '../models/seed-source';
import { maskedSquaredSum } from '../train/masked-loss';
import { attachSeedSource } from '../models/seeded-dropout';
import { type Handlers, serve } from '../workers/worker-rpc';
import type { GradientProtocol, ShardJob, WorkerInit } from './parallel-protocol';
import { adamStepSize } from '../train/adam';
import { adamUpdate } from './adam-update';
import { nesterovUpdate } from './nesterov-update';
import { selectBackend } from './select-backend';
import type { WasmHeapBackend } from './kernels/compose';

/**
 * A gradient worker of ParallelTrainer: holds its own copy of the network on its own tfjs backend (each
 * worker thread has its own wasm instance, so two workers use two cores), and for each shard of a batch
 * reads the current weights from shared memory, computes the gradient of the shard's weighted mean squared
 * error (or masked squared sum), and writes it into that shard's shared gradient region; asked to, it applies
 * the optimizer's step (Nesterov or Adam) to its range of the shared weights.
 */
async function start(init: WorkerInit): Promise<Handlers<GradientProtocol>> {
  await selectBackend({ backend: init.backend, requireGpu: false, log: () => undefined });
  const model = await tf.models.modelFromJSON(init.modelTopology as tf.serialization.ConfigDict);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const weightViews = views(init.weights, init.shapes);
  const flatWeights = new Float32Array(init.weights);
  const flatAccumulators = new Float32Array(init.accumulators);
  const flatSecondMoments = new Float32Array(init.secondMoments);
  const flatGradients = init.gradients.map((g) => new Float32Array(g));
  const gradientViews = init.gradients.map((g) => views(g, init.shapes));
  const [input] = model.inputs;
  const [output] = model.outputs;
  if (!input || !output) throw new Error('parallel-worker: expected a model with one input and one output');
  const inputShape = (input.shape as Array<number | null>).slice(1) as number[];
  const outputs = output.shape[1] as number;

  const loadWeights = (): void => {
    // Copy the shared weights into this worker's variables (the wasm heap cannot alias a SharedArrayBuffer).
    variables.forEach((v, i) => {
      tf.tidy(() => v.assign(tf.tensor(at(weightViews, i, 'weight'), v.shape)));
    });
  };

  const runShard = (job: ShardJob): number => {
    attachSeedSource(model, new SeedSource(job.seed));
    const { value, grads } = tf.tidy(() => {
      const x = tf.tensor(job.images, [job.count, ...inputShape]);
      const y = tf.tensor2d(job.targets, [job.count, outputs]);
      const mask = job.mask ? tf.tensor2d(job.mask, [job.count, outputs]) : null;
      return tf.variableGrads(() => {
        const pred = model.apply(x, { training: true }) as tf.Tensor;
        const loss = mask ? maskedSquaredSum(pred, y, mask) : tf.mean(tf.squaredDifference(pred, y));
        return loss.mul(job.weight) as tf.Scalar;
      }, variables);
    });
    const out = at(gradientViews, job.shard, 'shard');
    variables.forEach((v, i) => {
      const grad = grads[v.name];
      if (!grad) throw new Error(`parallel-worker: expected a gradient of ${v.name}, found none`);
      at(out, i, 'weight').set(gradientValues(grad));
    });
    const loss = value.arraySync() as number;
    tf.dispose([value, ...Object.values(grads)]);
    return loss;
  };

  return {
    step(jobs) {
      loadWeights();
      const losses = jobs.map((job) => ({ shard: job.shard, loss: runShard(job) }));
      return { losses, tensors: tf.memory().numTensors };
    },
    update({ from, to, shards, learningRate, momentum, step }) {
      const gradients = shards.map((k) => at(flatGradients, k, 'shard'));
      if (init.optimizer === 'adam') {
        const stepSize = adamStepSize(learningRate, step);
        adamUpdate(flatWeights, flatAccumulators, flatSecondMoments, gradients, from, to, stepSize);
      } else {
        nesterovUpdate(flatWeights, flatAccumulators, gradients, from, to, learningRate, momentum);
      }
    },
  };
}

/**
 * A gradient's values without an intermediate copy on wasm (a view of the wasm heap, copied once into
 * shared memory by the caller; dataSync would copy 66 MB of baseline gradients twice per step).
 */
function gradientValues(t: tf.Tensor): Float32Array {
  const backend = tf.backend() as Partial<WasmHeapBackend>;
  if (typeof backend.typedArrayFromHeap === 'function') return backend.typedArrayFromHeap(t) as Float32Array;
  return t.dataSync() as Float32Array;
}

/** `list[i]`, or an error naming what was asked for (a shard or weight index outside the shared layout). */
function at<T>(list: readonly T[], i: number, what: string): T {
  const item = list[i];
  if (item === undefined)
    throw new Error(`parallel-worker: expected a ${what} index below ${list.length}, found ${i}`);
  return item;
}

function views(buffer: SharedArrayBuffer, shapes: number[][]): Float32Array[] {
  let offset = 0;
  return shapes.map((shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const view = new Float32Array(buffer, offset * 4, size);
    offset += size;
    return view;
  });
}

serve<GradientProtocol, WorkerInit>(start);
