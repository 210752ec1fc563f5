import * as tf from '@tensorflow/tfjs';

/** What tfjs's MomentumOptimizer keeps outside its public API (tfjs 4.22). */
interface MomentumInternals {
  m: tf.Scalar;
  c: tf.Scalar;
}

/** The optimizer's saved state: step count and one accumulator per trainable variable, in order. */
export interface OptimizerState {
  iterations: number;
  accumulators: Array<{ shape: number[]; values: Float32Array }>;
}

/**
 * SGD with Nesterov momentum (tf.train.momentum(lr, m, true)) whose learning rate and momentum change
 * every epoch and whose state can be saved and restored exactly.
 */
export class NesterovSgd {
  readonly optimizer: tf.MomentumOptimizer;

  constructor(learningRate: number, momentum: number) {
    this.optimizer = tf.train.momentum(learningRate, momentum, true);
  }

  setLearningRate(lr: number): void {
    this.optimizer.setLearningRate(lr);
  }

  setMomentum(momentum: number): void {
    // tfjs 4.22's setMomentum stores the number but applyGradients keeps using the scalar made by the
    // constructor, so the momentum schedule would silently stay at its start value.
    this.optimizer.setMomentum(momentum);
    const internals = this.optimizer as unknown as MomentumInternals;
    internals.m.dispose();
    internals.m = tf.keep(tf.scalar(momentum));
  }

  /** One step on the gradient of `lossFn` with respect to `variables`; the loss before the step. */
  minimize(lossFn: () => tf.Scalar, variables: tf.Variable[]): tf.Scalar {
    return this.optimizer.minimize(lossFn, true, variables) as tf.Scalar;
  }

  get momentum(): number {
    return tf.tidy(() => (this.optimizer as unknown as MomentumInternals).m.dataSync()[0] ?? Number.NaN);
  }

  async state(): Promise<OptimizerState> {
    const [iter, ...acc] = await this.optimizer.getWeights();
    if (!iter) throw new Error('optimizer state: expected the iteration count first, found no weights');
    const iterations = (await iter.tensor.data())[0] ?? 0;
    iter.tensor.dispose();
    const accumulators = [];
    for (const a of acc)
      accumulators.push({ shape: a.tensor.shape.slice(), values: (await a.tensor.data()) as Float32Array });
    return { iterations, accumulators };
  }

  /** Restore a saved state into a fresh optimizer (before its first step). */
  async restore(state: OptimizerState): Promise<void> {
    const named = [
      { name: 'iter', tensor: tf.scalar(state.iterations, 'int32') },
      ...state.accumulators.map((a, i) => ({
        name: `accumulator${i}/momentum`,
        tensor: tf.tensor(a.values, a.shape, 'float32'),
      })),
    ];
    // setWeights copies each tensor into a new variable; the inputs are ours to dispose.
    await this.optimizer.setWeights(named);
    for (const n of named) n.tensor.dispose();
  }

  dispose(): void {
    // MomentumOptimizer.dispose frees the momentum scalar and accumulators but not the learning-rate scalar.
    this.optimizer.dispose();
    (this.optimizer as unknown as MomentumInternals).c.dispose();
  }
}
