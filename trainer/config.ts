import { z } from 'zod';
import { IMAGE_SIZE } from '../contracts/keypoints';
import { PRESETS } from '../contracts/presets';
import { MODEL_NAMES, RUN_ID_PATTERN } from '../contracts/run-layout';

/**
 * The trainer's options: one schema that validates every source (presets, command-line flags, a resumed
 * run's config.json) and yields the types. Everything is checked before any data is read or model built.
 */

export const BACKENDS = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export const AUGMENTATIONS = ['contrast-stretch', 'sharpen', 'adaptive-3x3', 'adaptive-9x9'] as const;
export type AugmentationName = (typeof AUGMENTATIONS)[number];

/** What the baseline and the specialists do with rows lacking some of their keypoints (see UnitScheduleSchema). */
export const MISSING_MODES = ['drop', 'mask'] as const;
export type MissingMode = (typeof MISSING_MODES)[number];

/**
 * How a unit's steps move its weights: SGD with Nesterov momentum (the seed's; trainer/train/nesterov.ts) or
 * Adam (trainer/train/adam.ts), which follows the learning-rate ramp and ignores the momentum ramp.
 */
export const OPTIMIZERS = ['nesterov', 'adam'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** The views each unit predicts an image in, averaged: trainer/predict/test-time-views.ts. */
export const TEST_TIME_AUGMENTATIONS = ['none', 'flip', 'flip-shift'] as const;
export type TestTimeAugmentation = (typeof TEST_TIME_AUGMENTATIONS)[number];

export const INITIALIZERS = ['glorot-uniform', 'he-normal'] as const;
export type InitializerName = (typeof INITIALIZERS)[number];

const positiveInt = z.number().int().positive();
const fraction = z.number().gt(0).lt(1);

export const NetworkSchema = z
  .object({
    /** Filters of the three convolutions. @default [32, 64, 128] */
    convFilters: z.tuple([positiveInt, positiveInt, positiveInt]),
    /** Kernel sizes of the three convolutions. @default [3, 2, 2] */
    convKernels: z.tuple([positiveInt, positiveInt, positiveInt]),
    /** Dropout after each conv block. @default [0.1, 0.2, 0.3] */
    convDropout: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1), z.number().min(0).lt(1)]),
    /** Units of the two hidden dense layers. @default [1000, 1000] */
    denseUnits: z.tuple([positiveInt, positiveInt]),
    /** Dropout between the dense layers. @default 0.5 */
    denseDropout: z.number().min(0).lt(1),
    /**
     * Subtract 0.5 from the [0, 1] pixels inside the network (a layer without parameters): centred inputs
     * let SGD leave the mean prediction several times sooner. @default false (the seed fed pixels / 255)
     */
    centerInput: z.boolean().optional(),
    /**
     * Average-pool the 96x96 input by this factor before the first layer (a layer without parameters): 2 feeds
     * the network 48x48 images, a quarter of the convolution work. @default 1 (the seed's full resolution)
     */
    inputPool: z.number().int().min(1).max(8).optional(),
    /** Initialiser of the convolution and hidden-layer weights. @default 'glorot-uniform' (Lasagne's default, the seed) */
    initializer: z.enum(INITIALIZERS).optional(),
  })
  .superRefine((network, ctx) => {
    // Checked here so a network that cannot be built is a usage error before any data is read, not a
    // failure of the first layer of a run.
    const sides = featureMapSides(network);
    if (sides.at(-1)!.side < 1) {
      ctx.addIssue({
        code: 'custom',
        path: [(network.inputPool ?? 1) > 1 ? 'inputPool' : 'convKernels'],
        message: `expected the ${IMAGE_SIZE}x${IMAGE_SIZE} image to keep at least 1x1 pixels through the three convolutions and pools, found ${sides.map((s) => `${s.layer} ${s.side}`).join(' -> ')}`,
      });
    }
  });

/**
 * Side of the square feature map after each layer that changes it, from the 96x96 image: the input pooling
 * (`inputPool`, floor), then per block a 'valid' convolution (side - kernel + 1) and a 2x2 max-pool (floor),
 * as trainer/models/ladder.ts builds them. Stops at the first side below 1.
 */
export function featureMapSides(network: {
  convKernels: readonly number[];
  inputPool?: number;
}): Array<{ layer: string; side: number }> {
  const pool = network.inputPool ?? 1;
  const sides = [{ layer: 'input', side: IMAGE_SIZE }];
  let side = Math.floor(IMAGE_SIZE / pool);
  if (pool > 1) sides.push({ layer: `inputPool ${pool}`, side });
  for (const [i, kernel] of network.convKernels.entries()) {
    if (side < 1) break;
    side = side - kernel + 1;
    sides.push({ layer: `conv${i + 1} ${kernel}x${kernel}`, side });
    if (side < 1) break;
    side = Math.floor(side / 2);
    sides.push({ layer: `pool${i + 1}`, side });
  }
  return sides;
}

export const ScheduleSchema = z.object({
  /** Maximum epochs; the learning-rate and momentum schedules span them. */
  maxEpochs: positiveInt,
  /** Early-stopping patience in epochs on dev loss, restoring the best weights. */
  patience: positiveInt,
  learningRateStart: z.number().positive(),
  learningRateEnd: z.number().positive(),
  momentumStart: z.number().min(0).lt(1),
  momentumEnd: z.number().min(0).lt(1),
  /** @default 'nesterov' (runs started before the setting existed read as 'nesterov') */
  optimizer: z.enum(OPTIMIZERS).default('nesterov'),
});

/**
 * The schedule of the baseline or the specialists, and what they do with rows that lack some of their
 * keypoints: 'drop' trains on complete rows only (the seed), 'mask' on every row with at least one, the
 * missing labels left out of the loss and the dev loss (trainer/train/masked-loss.ts).
 */
export const UnitScheduleSchema = ScheduleSchema.extend({
  /** @default 'drop' (runs started before the setting existed read as 'drop') */
  missing: z.enum(MISSING_MODES).default('drop'),
});

export const TrainConfigSchema = z.object({
  runId: z.string().regex(RUN_ID_PATTERN, 'a run id is 1-64 letters, digits, dot, dash or underscore'),
  preset: z.enum(PRESETS),
  /** Folder or s3:// prefix holding training.csv, test.csv and IdLookupTable.csv. */
  data: z.string().min(1),
  /** file://DIR or s3://BUCKET/PREFIX; the run lives in `<out>/<runId>/`. */
  out: z.string().regex(/^(file|s3):\/\/.+/, 'expected file://DIR or s3://BUCKET/PREFIX'),
  /** Models of the ladder to train; `mean` is always computed as the reference line. */
  models: z.array(z.enum(MODEL_NAMES)).min(1),
  backend: z.enum(BACKENDS).optional(),
  requireGpu: z.boolean(),
  /**
   * Gradient worker threads on the wasm (or cpu) backend; 0 picks: 2 on wasm with 2+ cores for batches of
   * 32 or more, else 1 (see trainer/train/step-engine.ts). @default 0
   */
  workers: z.number().int().min(0).max(16).default(0),
  seed: z.number().int().nonnegative(),
  /** Share of rows held out for dev, stratified by missing-keypoint pattern. */
  devFraction: fraction,
  batchSize: positiveInt,
  /** Flip half of each batch horizontally with the left/right swap. */
  flip: z.boolean(),
  /**
   * Move each training image by up to this many whole pixels in x and in y (drawn per image and batch, edges
   * repeated), its labels with it. @default 0 (the seed; runs started before the setting existed read as 0)
   */
  shift: z.number().int().min(0).max(8).default(0),
  /**
   * Views of each image the trained units predict in, averaged, for the report, the submission and
   * `facepoints predict` (training and its dev RMSE per epoch use one view). @default 'none' (runs started
   * before the setting existed read as 'none')
   */
  testTimeAugmentation: z.enum(TEST_TIME_AUGMENTATIONS).default('none'),
  network: NetworkSchema,
  /** Hidden units of Model 1 (mlp) and of Model 2's dense layer (cnn). */
  mlpHidden: positiveInt,
  cnnHidden: positiveInt,
  mlp: ScheduleSchema,
  cnn: ScheduleSchema,
  baseline: UnitScheduleSchema,
  /** Specialists: max epochs = round(specialistEpochBudget / rows), capped by `specialists.maxEpochs`. */
  specialists: UnitScheduleSchema,
  specialistEpochBudget: positiveInt,
  /** Initialise each specialist from the trained baseline (all layers but the output). */
  specialistsFromBaseline: z.boolean(),
  augmentations: z.array(z.enum(AUGMENTATIONS)),
  /** Checkpoint at least every this many epochs and minutes, and at every new best. */
  checkpointEveryEpochs: positiveInt,
  checkpointEveryMinutes: z.number().positive(),
  /** Limit rows read from training.csv (0 = all), for experiments. */
  maxRows: z.number().int().nonnegative(),
  dryRun: z.boolean(),
});
export type TrainConfig = z.infer<typeof TrainConfigSchema>;
