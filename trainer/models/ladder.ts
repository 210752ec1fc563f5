import * as tf from '@tensorflow/tfjs';
import { IMAGE_SIZE } from '../../contracts/keypoints';
import type { TrainConfig } from '../config';
import { SeededDropout } from './seeded-dropout';
import type { SeedSource } from './seed-source';

/** The trainable networks of the seed's ladder: Model 1 (mlp), Model 2 (cnn), Model 3 (baseline, also each specialist). */
export type NetworkKind = 'mlp' | 'cnn' | 'baseline';
export const NETWORK_KINDS: readonly NetworkKind[] = ['mlp', 'cnn', 'baseline'];

/** What buildNetwork reads from the trainer configuration. */
export type NetworkConfig = Pick<TrainConfig, 'network' | 'mlpHidden' | 'cnnHidden'>;

/** Images enter as [96, 96, 1] floats scaled to [0, 1] (bytes / 255). */
export const INPUT_SHAPE: [number, number, number] = [IMAGE_SIZE, IMAGE_SIZE, 1];

/**
 * Build one network of the ladder with linear outputs for targets (px - 48) / 48 and an MSE loss.
 * Weights start Glorot-uniform (Lasagne's default, as in the seed) or He-normal (`network.initializer`) from
 * seeds drawn from `seeds`, biases at zero; with `network.centerInput` a parameter-free first layer maps the
 * pixels to [-0.5, 0.5], and with `network.inputPool` > 1 an average pooling shrinks the image before the
 * first layer that learns. Dropout layers draw their masks from `seeds` too until the trainer attaches its
 * own generator.
 * The network is not compiled: trainUnit runs its own loop.
 */
export function buildNetwork(
  kind: NetworkKind,
  outputs: number,
  config: NetworkConfig,
  seeds: SeedSource,
): tf.LayersModel {
  if (!Number.isInteger(outputs) || outputs < 1)
    throw new Error(`buildNetwork: expected outputs >= 1, found ${outputs}`);
  const net = config.network;
  const hidden = () =>
    net.initializer === 'he-normal'
      ? tf.initializers.heNormal({ seed: seeds.nextSeed() })
      : tf.initializers.glorotUniform({ seed: seeds.nextSeed() });
  const dense = (units: number, activation: 'relu' | 'linear', name: string) =>
    tf.layers.dense({
      units,
      activation,
      // The linear output layer stays Glorot: He's gain is meant for ReLU units.
      kernelInitializer:
        activation === 'relu' ? hidden() : tf.initializers.glorotUniform({ seed: seeds.nextSeed() }),
      biasInitializer: 'zeros',
      name,
    });
  const layers: tf.layers.Layer[] = [];
  // The first layer declares the input shape; the rest infer theirs.
  const inputShape = () => (layers.length === 0 ? { inputShape: INPUT_SHAPE } : {});
  if (net.centerInput)
    layers.push(tf.layers.rescaling({ scale: 1, offset: -0.5, ...inputShape(), name: 'center' }));
  const pool = net.inputPool ?? 1;
  if (pool > 1)
    layers.push(
      tf.layers.averagePooling2d({
        poolSize: pool,
        strides: pool,
        padding: 'valid',
        ...inputShape(),
        name: 'downsample',
      }),
    );
  const conv = (i: 0 | 1 | 2, withDropout: boolean) => {
    layers.push(
      tf.layers.conv2d({
        filters: net.convFilters[i],
        kernelSize: net.convKernels[i],
        padding: 'valid',
        activation: 'relu',
        kernelInitializer: hidden(),
        biasInitializer: 'zeros',
        name: `conv${i + 1}`,
        ...inputShape(),
      }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'valid', name: `pool${i + 1}` }),
    );
    if (withDropout)
      layers.push(new SeededDropout({ rate: net.convDropout[i], seeds, name: `dropout${i + 1}` }));
  };
  switch (kind) {
    case 'mlp':
      layers.push(
        tf.layers.flatten({ ...inputShape(), name: 'flatten' }),
        dense(config.mlpHidden, 'relu', 'hidden1'),
      );
      break;
    case 'cnn':
      for (const i of [0, 1, 2] as const) conv(i, false);
      layers.push(tf.layers.flatten({ name: 'flatten' }), dense(config.cnnHidden, 'relu', 'hidden4'));
      break;
    case 'baseline':
      for (const i of [0, 1, 2] as const) conv(i, true);
      layers.push(
        tf.layers.flatten({ name: 'flatten' }),
        dense(net.denseUnits[0], 'relu', 'hidden4'),
        new SeededDropout({ rate: net.denseDropout, seeds, name: 'dropout4' }),
        dense(net.denseUnits[1], 'relu', 'hidden5'),
      );
      break;
    default:
      throw new Error(`buildNetwork: expected one of ${NETWORK_KINDS.join(', ')}, found "${kind as string}"`);
  }
  layers.push(dense(outputs, 'linear', 'output'));
  return tf.sequential({ layers, name: kind });
}

/** Trainable and non-trainable parameters, as the seed counts them (16,561,502 for its baseline). */
export function countParams(model: tf.LayersModel): number {
  return model.countParams();
}

/**
 * Initialise `to` from `from` in every layer but the last (the output layer, whose size differs between
 * the baseline and a specialist), as the tutorial starts each specialist from the trained baseline.
 */
export function copyAllButOutput(from: tf.LayersModel, to: tf.LayersModel): void {
  if (from.layers.length !== to.layers.length) {
    throw new Error(
      `copyAllButOutput: expected networks with the same layers, found ${from.layers.length} layers in "${from.name}" and ${to.layers.length} in "${to.name}"`,
    );
  }
  for (const [i, source] of from.layers.slice(0, -1).entries()) {
    // Same length, checked above.
    const target = to.layers[i]!;
    const src = source.getWeights();
    const dst = target.getWeights();
    src.forEach((w, j) => {
      const d = dst[j];
      if (d === undefined || !tf.util.arraysEqual(w.shape, d.shape)) {
        throw new Error(
          `copyAllButOutput: layer ${i} ("${target.name}") weight ${j}: expected shape [${d?.shape ?? 'none'}], found [${w.shape}] in "${source.name}"`,
        );
      }
    });
    if (src.length !== dst.length) {
      throw new Error(
        `copyAllButOutput: layer ${i} ("${target.name}"): expected ${dst.length} weights, found ${src.length}`,
      );
    }
    if (src.length > 0) target.setWeights(src);
  }
}
