import { z } from 'zod';
import type { CheckpointFiles } from '../storage/checkpointer';
import { EpochMetricsSchema } from './metrics';

export const CHECKPOINT_FORMAT = 1;

const count = z.number().int().nonnegative();

/** Shapes of the arrays packed one after the other into a .bin file of float32 values. */
const PackedShapesSchema = z.array(z.array(count));
export type PackedShapes = z.infer<typeof PackedShapesSchema>;

/** state.json: everything but the big arrays, which go to weights.bin, optimizer.bin and best.bin. */
export const TrainStateSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  unit: z.string(),
  /** True once the unit has finished: weights.bin then holds the final (best) weights and nothing resumes. */
  finished: z.boolean(),
  stoppedEarly: z.boolean(),
  /** Index (0-based) of the epoch in progress or next to start. */
  epochIndex: count,
  /** Batches of that epoch already trained; 0 at an epoch boundary. */
  batchInEpoch: count,
  /** The shuffled row order of the epoch in progress (only when batchInEpoch > 0). */
  epochOrder: z.array(count).nullable(),
  epochLossSum: z.number(),
  epochSeconds: z.number(),
  /** The SeedSource's alea state. */
  rng: z.object({ c: z.number(), s0: z.number(), s1: z.number(), s2: z.number() }),
  /** Dev loss (MSE on the target scale) and 1-based epoch of the best weights so far. */
  best: z.object({ devLoss: z.number(), epoch: z.number().int().positive() }).nullable(),
  /** best.bin is absent when the current weights are the best ones (saved right after a new best). */
  bestIsCurrent: z.boolean(),
  history: z.array(EpochMetricsSchema),
  iterations: count,
  weightShapes: PackedShapesSchema,
  optimizerShapes: PackedShapesSchema,
});
export type TrainState = z.infer<typeof TrainStateSchema>;

export interface DecodedCheckpoint {
  state: TrainState;
  weights: Float32Array[];
  accumulators: Float32Array[];
  /** Null when bestIsCurrent or no best yet. */
  best: Float32Array[] | null;
}

export const CHECKPOINT_FILE = {
  state: 'state.json',
  weights: 'weights.bin',
  optimizer: 'optimizer.bin',
  best: 'best.bin',
} as const;

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * The arrays end to end, as bytes. The buffer is shared memory so that the checkpointer's hashing thread
 * reads it in place: copying 198 MB of baseline checkpoint to a worker cost ~0.9 s of the training thread
 * per save here, hashing it on the training thread ~0.8 s.
 */
export function pack(arrays: Float32Array[]): Uint8Array {
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const out = new Float32Array(new SharedArrayBuffer(total * 4));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return new Uint8Array(out.buffer);
}

export function unpack(bytes: Uint8Array, shapes: PackedShapes, where: string): Float32Array[] {
  const expected = shapes.reduce((n, s) => n + size(s), 0) * 4;
  if (bytes.byteLength !== expected) {
    throw new Error(
      `checkpoint ${where}: expected ${expected} bytes for shapes ${JSON.stringify(shapes)}, found ${bytes.byteLength}`,
    );
  }
  // A Node Buffer may start at any offset of its pool; Float32Array needs 4-byte alignment, so copy.
  const all = new Float32Array(bytes.slice().buffer);
  const out: Float32Array[] = [];
  let at = 0;
  for (const s of shapes) {
    out.push(all.subarray(at, at + size(s)));
    at += size(s);
  }
  return out;
}

export function encodeCheckpoint(c: DecodedCheckpoint): CheckpointFiles {
  const files: CheckpointFiles = {
    [CHECKPOINT_FILE.state]: new TextEncoder().encode(JSON.stringify(c.state)),
    [CHECKPOINT_FILE.weights]: pack(c.weights),
    [CHECKPOINT_FILE.optimizer]: pack(c.accumulators),
  };
  if (c.best) files[CHECKPOINT_FILE.best] = pack(c.best);
  return files;
}

/** Parse a checkpoint of `unit`, checking that it is complete and of this format. */
export function decodeCheckpoint(files: CheckpointFiles, unit: string): DecodedCheckpoint {
  const need = (name: string) => {
    const f = files[name];
    if (!f)
      throw new Error(
        `checkpoint of "${unit}": expected file ${name}, found only ${Object.keys(files).join(', ') || 'none'}`,
      );
    return f;
  };
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(need(CHECKPOINT_FILE.state)));
  } catch (e) {
    throw new Error(
      `checkpoint of "${unit}": ${CHECKPOINT_FILE.state} is not JSON (${(e as Error).message})`,
    );
  }
  const format = (json as { format?: unknown } | null)?.format;
  if (format !== CHECKPOINT_FORMAT) {
    throw new Error(
      `checkpoint of "${unit}": ${CHECKPOINT_FILE.state} key "format": expected ${CHECKPOINT_FORMAT}, found ${JSON.stringify(format)}`,
    );
  }
  const parsed = TrainStateSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `checkpoint of "${unit}": ${CHECKPOINT_FILE.state} key "${issue?.path.join('.') ?? ''}": ${issue?.message ?? 'invalid'}`,
    );
  }
  const state = parsed.data;
  if (state.unit !== unit) {
    throw new Error(
      `checkpoint of "${unit}": ${CHECKPOINT_FILE.state} key "unit": expected "${unit}", found ${JSON.stringify(state.unit)}`,
    );
  }
  const weights = unpack(
    need(CHECKPOINT_FILE.weights),
    state.weightShapes,
    `of "${unit}" ${CHECKPOINT_FILE.weights}`,
  );
  const accumulators = unpack(
    need(CHECKPOINT_FILE.optimizer),
    state.optimizerShapes,
    `of "${unit}" ${CHECKPOINT_FILE.optimizer}`,
  );
  const best =
    state.best && !state.bestIsCurrent
      ? unpack(need(CHECKPOINT_FILE.best), state.weightShapes, `of "${unit}" ${CHECKPOINT_FILE.best}`)
      : null;
  return { state, weights, accumulators, best };
}
