import type { BackendName } from '../config';
import { PIXELS } from '../keypoints';
import { SeedSource } from '../models/seed-source';
import { buildNetwork, type NetworkConfig, type NetworkKind } from '../models/ladder';
import type { Checkpointer } from '../storage/checkpointer';
import { trainUnit, type UnitRows } from '../train/train-unit';
import type { Schedule } from '../train/schedule';

/** Measures training speed (images per second) of a network on the active backend. */
export type SpeedProbe = (kind: NetworkKind, outputs: number) => Promise<number>;

/** A checkpointer that keeps nothing: the probe's few steps are thrown away. */
const DISCARD: Checkpointer = {
  save: async () => undefined,
  loadLatest: async () => null,
  flush: async () => undefined,
};

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
 * Time real training steps of the network on `sample` rows (labels for `outputs` columns are constant:
 * values do not matter for speed), with the workers the run will use. The probe trains PROBE_EPOCHS epochs
 * of probeBatches() batches and keeps the fastest after the first: the first pays for tfjs's warm-up
 * (kernel setup, weight upload, JIT), which a long run does once. One measurement per network kind:
 * specialists differ only in the output layer, which costs nothing next to the convolutions.
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
    const count = Math.min(sample.count, config.batchSize * probeBatches(config.batchSize));
    const labelsPx = new Float32Array(count * outputs).fill(48);
    const rows: UnitRows = { pixels: sample.pixels.subarray(0, count * PIXELS), labelsPx, count };
    const seeds = new SeedSource(1);
    const model = buildNetwork(kind, outputs, config, seeds);
    const schedule: Schedule = {
      maxEpochs: PROBE_EPOCHS,
      patience: PROBE_EPOCHS,
      learningRateStart: 0.001,
      learningRateEnd: 0.001,
      momentumStart: 0.9,
      momentumEnd: 0.9,
    };
    try {
      const result = await trainUnit({
        unit: `speed-probe/${kind}`,
        model,
        schedule,
        batchSize: config.batchSize,
        flip: null,
        train: rows,
        dev: { pixels: rows.pixels.subarray(0, PIXELS), labelsPx: labelsPx.subarray(0, outputs), count: 1 },
        seed: 1,
        checkpointer: DISCARD,
        checkpointEveryEpochs: 1000,
        checkpointEveryMinutes: 1e6,
        ...engine,
      });
      const ips = Math.max(...result.history.slice(1).map((h) => h.imagesPerSecond));
      cache.set(kind, ips);
      return ips;
    } finally {
      model.dispose();
    }
  };
}
