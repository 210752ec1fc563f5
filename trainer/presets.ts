import type { TrainConfig } from './config';
import type { PresetName } from '../contracts/presets';

/** The settings a preset fixes; the run's identity, data, output, backend and model list come from the command line. */
export type PresetSettings = Omit<
  TrainConfig,
  'runId' | 'data' | 'out' | 'dryRun' | 'backend' | 'requireGpu' | 'workers' | 'preset' | 'models'
>;

/**
 * The seed's settings (FACTS.md, "The seed's models"): Nouri's net1/net2 for Models 1 and 2 (constant
 * learning rate 0.01 and momentum 0.9, no early stopping), the net7 schedule for the baseline and the
 * specialists.
 */
const SEED: PresetSettings = {
  seed: 42,
  devFraction: 0.2,
  batchSize: 128,
  flip: true,
  network: {
    convFilters: [32, 64, 128],
    convKernels: [3, 2, 2],
    convDropout: [0.1, 0.2, 0.3],
    denseUnits: [1000, 1000],
    denseDropout: 0.5,
    centerInput: false,
    inputPool: 1,
    initializer: 'glorot-uniform',
  },
  mlpHidden: 100,
  cnnHidden: 500,
  mlp: {
    maxEpochs: 1000,
    patience: 1000,
    learningRateStart: 0.01,
    learningRateEnd: 0.01,
    momentumStart: 0.9,
    momentumEnd: 0.9,
  },
  cnn: {
    maxEpochs: 1000,
    patience: 1000,
    learningRateStart: 0.01,
    learningRateEnd: 0.01,
    momentumStart: 0.9,
    momentumEnd: 0.9,
  },
  baseline: {
    maxEpochs: 3000,
    patience: 200,
    learningRateStart: 0.03,
    learningRateEnd: 0.001,
    momentumStart: 0.9,
    momentumEnd: 0.999,
  },
  // The tutorial's specialists run int(1e7 / rows) epochs (1,462 for 6,839 rows, 5,025 for 1,990); the cap only guards tiny row counts.
  specialists: {
    maxEpochs: 10000,
    patience: 200,
    learningRateStart: 0.03,
    learningRateEnd: 0.001,
    momentumStart: 0.9,
    momentumEnd: 0.999,
  },
  specialistEpochBudget: 10_000_000,
  specialistsFromBaseline: true,
  augmentations: ['contrast-stretch', 'sharpen', 'adaptive-3x3', 'adaptive-9x9'],
  // The seed's longest epochs were 25 s (a specialist on ~6,800 images on a GRID K520): a checkpoint
  // every 4 minutes, checked after every batch, keeps the work lost to a crash under 5 minutes.
  checkpointEveryEpochs: 50,
  checkpointEveryMinutes: 4,
  maxRows: 0,
};

/**
 * Narrow networks on half-resolution images and few epochs, so the whole ladder (mean, mlp, cnn, baseline,
 * 6 specialists and 6 augmented specialists) runs in minutes on 2 CPU cores on ~2000 generated rows, and
 * still learns. Tuned by measurement (see test/trainer/presets.test.ts for what it must reach, and
 * test/trainer/run/learning.test.ts for how well).
 */
const QUICK: PresetSettings = {
  ...SEED,
  // Small batches and a high learning rate: with ~500-1,600 rows per unit, more updates per epoch learn
  // faster per image; batch 16 reached 2.43-2.65 px where batch 8 reached 2.15 in the same epochs.
  batchSize: 8,
  network: {
    // 8/16/32 filters on 48x48 inputs train at ~1,100 img/s in one wasm thread, twice the speed of 4/8/16
    // on 96x96, and learn more per image; 16/32/64 learned a little more (1.81 px) at half the speed, and a
    // third of the resolution (32x32) lost too much (2.22 px). Figures: learning test, 1,200 rows.
    convFilters: [8, 16, 32],
    convKernels: [3, 2, 2],
    // Without dropout the short runs learn faster; early stopping on dev loss guards against overfitting.
    convDropout: [0, 0, 0],
    denseUnits: [64, 64],
    denseDropout: 0,
    // Centred inputs and He weights let SGD leave the mean prediction several times sooner (measured).
    centerInput: true,
    inputPool: 2,
    initializer: 'he-normal',
  },
  mlpHidden: 100,
  cnnHidden: 64,
  mlp: {
    maxEpochs: 8,
    patience: 8,
    learningRateStart: 0.05,
    learningRateEnd: 0.01,
    momentumStart: 0.9,
    momentumEnd: 0.9,
  },
  cnn: {
    maxEpochs: 5,
    patience: 5,
    learningRateStart: 0.1,
    learningRateEnd: 0.03,
    momentumStart: 0.9,
    momentumEnd: 0.9,
  },
  baseline: {
    maxEpochs: 30,
    patience: 10,
    learningRateStart: 0.1,
    learningRateEnd: 0.02,
    momentumStart: 0.9,
    momentumEnd: 0.9,
  },
  // On 1,200 generated rows (seed 5), merged specialists against the mean predictor's 3.85 px dev RMSE:
  // momentum 0.97 and 25,000 images each reach 1.85 px (0.48); momentum 0.9 needed 40,000 images for
  // 1.90 px (0.49), and 0.95 with 25,000 reached 1.89. A 20,000-image budget stopped at 1.95 px (0.51).
  // maxEpochs only caps the budget's epochs for the smallest specialists (25,000 / ~290 rows = 86).
  specialists: {
    maxEpochs: 100,
    patience: 10,
    learningRateStart: 0.15,
    learningRateEnd: 0.02,
    momentumStart: 0.97,
    momentumEnd: 0.97,
  },
  specialistEpochBudget: 25_000,
  augmentations: ['contrast-stretch'],
  checkpointEveryEpochs: 5,
  checkpointEveryMinutes: 1,
};

const PRESET_SETTINGS: Record<PresetName, PresetSettings> = { seed: SEED, quick: QUICK };

/** The settings of a preset, as a fresh deep copy the caller may override field by field. */
export function presetConfig(preset: PresetName): PresetSettings {
  const settings = PRESET_SETTINGS[preset];
  if (!settings)
    throw new Error(`unknown preset "${preset}"; expected one of ${Object.keys(PRESET_SETTINGS).join(', ')}`);
  return structuredClone(settings);
}
