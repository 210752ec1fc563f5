import * as tf from '@tensorflow/tfjs';
import type { SeedSource } from './seed-source';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

export interface SeededDropoutArgs extends LayerArgs {
  rate: number;
  /** Where each training call draws its mask seed; may be attached later with `attachSeedSource`. */
  seeds?: SeedSource | null;
}

/**
 * Dropout whose mask comes from the trainer's saved PRNG: tf.layers.dropout with a fixed seed repeats
 * one mask on every call, and without a seed it draws from Math.random, so neither resumes exactly.
 * Each training call draws a fresh seed; inference passes the input through.
 */
export class SeededDropout extends tf.layers.Layer {
  static className = 'SeededDropout';
  readonly rate: number;
  seeds: SeedSource | null;

  constructor({ rate, seeds, ...layerArgs }: SeededDropoutArgs) {
    super(layerArgs);
    if (!(rate >= 0 && rate < 1)) throw new Error(`SeededDropout: expected a rate in [0, 1), found ${rate}`);
    this.rate = rate;
    this.seeds = seeds ?? null;
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!input) throw new Error(`SeededDropout "${this.name}": expected an input tensor, found none`);
    if (kwargs.training !== true || this.rate === 0) return input;
    if (!this.seeds) {
      throw new Error(
        `SeededDropout "${this.name}": training needs a SeedSource; call attachSeedSource(model, seeds) first`,
      );
    }
    const seed = this.seeds.nextSeed();
    return tf.tidy(() => tf.dropout(input, this.rate, undefined, seed));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate };
  }
}
tf.serialization.registerClass(SeededDropout);

/** Make every SeededDropout layer of `model` draw from `seeds` (the trainer's checkpointed generator). */
export function attachSeedSource(model: tf.LayersModel, seeds: SeedSource): void {
  for (const layer of model.layers) {
    if (layer instanceof SeededDropout) layer.seeds = seeds;
  }
}
