import * as tf from '@tensorflow/tfjs';
import type { OptimizerState } from './nesterov';

/**
 * Adam's fixed settings (Kingma and Ba's, and Keras's defaults); only the learning rate follows a schedule.
 * Both implementations, this file's tensors and the workers' loops (trainer/backend/adam-update.ts), read
 * them from here.
 */
export const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } as const;

/**
 * The bias-corrected step size of Adam's `step`-th update (1-based): lr * sqrt(1 - beta2^t) / (1 - beta1^t),
 * the form of the paper's section 2 and of TensorFlow's AdamOptimizer. Computed in doubles from the step
 * count, not accumulated, so a restored optimizer continues with exactly the step sizes it would have used.
 */
export function adamStepSize(learningRate: number, step: number): number {
  return (learningRate * Math.sqrt(1 - ADAM.beta2 ** step)) / (1 - ADAM.beta1 ** step);
}

/**
 * Adam on a model's variables, in this thread: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
 * w -= stepSize * m / (sqrt(v) + epsilon). Written out rather than tf.train.adam because tfjs's
 * AdamOptimizer restores its bias-correction powers with pow() after accumulating them by products, so a
 * resumed run would not continue bit for bit. State: the step count, then the first moments, then the second
 * moments (checkpointed like NesterovSgd's accumulators).
 */
export class Adam {
  private iterations = 0;
  private learningRate: number;
  private firstMoments: tf.Variable[] = [];
  private secondMoments: tf.Variable[] = [];

  constructor(learningRate: number) {
    this.learningRate = learningRate;
  }

  setLearningRate(lr: number): void {
    this.learningRate = lr;
  }

  /** One step on the gradient of `lossFn` with respect to `variables`; the loss before the step. */
  minimize(lossFn: () => tf.Scalar, variables: tf.Variable[]): tf.Scalar {
    if (this.firstMoments.length === 0) {
      // tidy frees the zeros each variable is made from (a variable shares their data, not their count).
      this.firstMoments = variables.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
      this.secondMoments = variables.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
    }
    if (this.firstMoments.length !== variables.length) {
      throw new Error(
        `Adam: expected the ${this.firstMoments.length} variables of its state, found ${variables.length}`,
      );
    }
    const stepSize = adamStepSize(this.learningRate, this.iterations + 1);
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(lossFn, variables);
      variables.forEach((w, i) => {
        const g = grads[w.name];
        if (!g) throw new Error(`Adam: expected a gradient of ${w.name}, found none`);
        const m = this.firstMoments[i]!;
        const v = this.secondMoments[i]!;
        const m1 = m.mul(ADAM.beta1).add(g.mul(1 - ADAM.beta1));
        const v1 = v.mul(ADAM.beta2).add(g.square().mul(1 - ADAM.beta2));
        m.assign(m1);
        v.assign(v1);
        w.assign(w.sub(m1.div(v1.sqrt().add(ADAM.epsilon)).mul(stepSize)));
      });
      return value;
    });
    this.iterations++;
    return loss;
  }

  async state(): Promise<OptimizerState> {
    const accumulators = [];
    for (const a of [...this.firstMoments, ...this.secondMoments])
      accumulators.push({ shape: a.shape.slice(), values: (await a.data()) as Float32Array });
    return { iterations: this.iterations, accumulators };
  }

  /** Restore a saved state (step count, first moments, second moments) before the first step. */
  async restore(state: OptimizerState): Promise<void> {
    if (state.accumulators.length % 2 !== 0) {
      throw new Error(
        `Adam: expected first and second moments (an even number of arrays), found ${state.accumulators.length}`,
      );
    }
    this.dispose();
    const half = state.accumulators.length / 2;
    const made = state.accumulators.map((a) =>
      tf.tidy(() => tf.variable(tf.tensor(a.values, a.shape, 'float32'), false)),
    );
    this.firstMoments = made.slice(0, half);
    this.secondMoments = made.slice(half);
    this.iterations = state.iterations;
  }

  dispose(): void {
    tf.dispose([...this.firstMoments, ...this.secondMoments]);
    this.firstMoments = [];
    this.secondMoments = [];
  }
}
