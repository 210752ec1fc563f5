import { selectBackend } from '../../../trainer/backend/select-backend';
import type { CheckpointFiles, Checkpointer } from '../../../trainer/storage/checkpointer';
import { PIXELS, IMAGE_SIZE } from '../../../contracts/keypoints';
import type { NetworkConfig } from '../../../trainer/models/ladder';
import type { Schedule } from '../../../trainer/train/schedule';
import seedrandom from 'seedrandom';

/** Keeps every checkpoint in memory, as copies, so a test can inspect and "crash" around them. */
export class MemoryCheckpointer implements Checkpointer {
  readonly saved: Array<{ unit: string; files: CheckpointFiles }> = [];

  async save(unit: string, files: CheckpointFiles): Promise<void> {
    const copy: CheckpointFiles = {};
    for (const [k, v] of Object.entries(files)) copy[k] = v.slice();
    this.saved.push({ unit, files: copy });
  }

  async loadLatest(unit: string): Promise<CheckpointFiles | null> {
    for (let i = this.saved.length - 1; i >= 0; i--) {
      const s = this.saved[i];
      if (s?.unit === unit) return s.files;
    }
    return null;
  }

  async flush(): Promise<void> {}

  /** A checkpointer that has only the first `n` checkpoints of this one (a crash right after the n-th). */
  upTo(n: number): MemoryCheckpointer {
    const c = new MemoryCheckpointer();
    c.saved.push(...this.saved.slice(0, n));
    return c;
  }
}

/**
 * Images of one bright square on a noisy dark background, labelled with the square's centre: a target a
 * tiny network learns in a few epochs on the pure-JS backend.
 */
export function blobRows(
  count: number,
  seed: number,
): { pixels: Uint8Array; labelsPx: Float32Array; count: number } {
  const rng = seedrandom(String(seed));
  const pixels = new Uint8Array(count * PIXELS);
  const labelsPx = new Float32Array(count * 2);
  for (let r = 0; r < count; r++) {
    const cx = 20 + Math.floor(rng() * 56);
    const cy = 20 + Math.floor(rng() * 56);
    labelsPx[r * 2] = cx;
    labelsPx[r * 2 + 1] = cy;
    for (let y = 0; y < IMAGE_SIZE; y++) {
      for (let x = 0; x < IMAGE_SIZE; x++) {
        const inside = Math.abs(x - cx) <= 6 && Math.abs(y - cy) <= 6;
        pixels[r * PIXELS + y * IMAGE_SIZE + x] = inside
          ? 200 + Math.floor(rng() * 55)
          : Math.floor(rng() * 40);
      }
    }
  }
  return { pixels, labelsPx, count };
}

/** A network small enough to train in seconds on the cpu backend. */
export const TINY_NETWORK: NetworkConfig = {
  network: {
    convFilters: [4, 4, 4],
    convKernels: [3, 2, 2],
    convDropout: [0.1, 0.1, 0.1],
    denseUnits: [16, 16],
    denseDropout: 0.2,
  },
  mlpHidden: 16,
  cnnHidden: 16,
};

export function schedule(
  maxEpochs: number,
  patience = maxEpochs,
  optimizer: Schedule['optimizer'] = 'nesterov',
): Schedule {
  return {
    maxEpochs,
    patience,
    learningRateStart: optimizer === 'adam' ? 0.002 : 0.01,
    learningRateEnd: optimizer === 'adam' ? 0.001 : 0.005,
    momentumStart: 0.9,
    momentumEnd: 0.95,
    optimizer,
  };
}

/** Train on wasm with the project's training kernels (pure-JS cpu is ~30x slower), as the trainer does on a laptop. */
export async function useTrainingBackend(): Promise<void> {
  await selectBackend({ backend: 'wasm', requireGpu: false, log: () => undefined });
}
