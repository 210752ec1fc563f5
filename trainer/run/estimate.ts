import type { BackendName } from '../config';
import { PIXELS, toTarget } from '../../contracts/keypoints';
import { buildNetwork, type NetworkConfig, type NetworkKind } from '../models/ladder';
import { SeedSource } from '../models/seed-source';
import { fillImages } from '../train/batches';
import { createStepEngine } from '../train/step-engine';
import { timeSteps } from '../train/time-steps';
import type { UnitRows } from '../train/train-unit';

/** Measures training speed (images per second) of a network on the active backend. */
export type SpeedProbe = (kind: NetworkKind, outputs: number) => Promise<number>;

/** Epochs the probe trains; all but the first are timed. */
const PROBE_EPOCHS = 4;

/**
 * Batches per probe epoch: ~256 images, at least 2 and at most 8 batches. A single small batch timed
 * alone overstated the per-image cost (the estimates were ~2x the measured epochs).
 */
export function probeBatches(batchSize: number): number {
  return Math.min(8, Math.max(2, Math.ceil(256 / batchSize)));
}

/**
 * Time real training steps of the network on `sample` rows (targets are constant: values do not matter for
 * speed) in the step engine the run will use. The probe trains PROBE_EPOCHS epochs of probeBatches()
 * batches and keeps the fastest after the first: the first pays for tfjs's warm-up (kernel setup, weight
 * upload, JIT), which a long run does once. One measurement per network kind: specialists differ only in
 * the output layer, which costs nothing next to the convolutions.
 */
export function speedProbe(
  config: NetworkConfig & { batchSize: number },
  sample: UnitRows,
  engine: { workers: number; backend: BackendName } = { workers: 1, backend: 'wasm' },
): SpeedProbe {
  const cache = new Map<NetworkKind, number>();
  return async (kind, outputs) => {
    const cached = cache.get(kind);
    if (cached !== undefined) return cached;
    const { batchSize } = config;
    const count = Math.min(sample.count, batchSize * probeBatches(batchSize));
    const batches = Math.ceil(count / batchSize);
    const images = new Float32Array(batchSize * PIXELS);
    const targets = new Float32Array(batchSize * outputs).fill(toTarget(48));
    const model = buildNetwork(kind, outputs, config, new SeedSource(1));
    // Nesterov for every unit: Adam's extra elementwise work did not show in the quick preset's unit times
    // (baseline 19 s with Adam, 20 s with Nesterov, on 1,200 generated rows).
    const steps = await createStepEngine(
      model,
      new SeedSource(1),
      engine.workers,
      engine.backend,
      'nesterov',
    );
    try {
      const times = await timeSteps(
        async (i) => {
          const start = (i % batches) * batchSize;
          const n = Math.min(batchSize, count - start);
          fillImages(images, sample.pixels, null, start, n);
          return steps.step({ images, targets, n, learningRate: 0.001, momentum: 0.9 });
        },
        { warmup: batches, steps: (PROBE_EPOCHS - 1) * batches },
      );
      const epochMs = Array.from({ length: PROBE_EPOCHS - 1 }, (_, e) =>
        times.wallMs.slice(e * batches, (e + 1) * batches).reduce((a, b) => a + b, 0),
      );
      const ips = Math.max(...epochMs.map((ms) => (count * 1000) / ms));
      cache.set(kind, ips);
      return ips;
    } finally {
      await steps.dispose();
      model.dispose();
    }
  };
}
