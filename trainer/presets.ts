import type { PresetName, TrainConfig } from './config';

/** The settings a preset fixes; the run's identity, data, output, backend and model list come from the command line. */
export type PresetSettings = Omit<TrainConfig, 'runId' | 'data' | 'out' | 'dryRun' | 'backend' | 'requireGpu' | 'workers' | 'preset' | 'models'>;

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
    initializer: 'glorot-uniform',
  },
  mlpHidden: 100,
  cnnHidden: 500,
  mlp: { maxEpochs: 1000, patience: 1000, learningRateStart: 0.01, learningRateEnd: 0.01, momentumStart: 0.9, momentumEnd: 0.9 },
  cnn: { maxEpochs: 1000, patience: 1000, learningRateStart: 0.01, learningRateEnd: 0.01, momentumStart: 0.9, momentumEnd: 0.9 },
  baseline: { maxEpochs: 3000, patience: 200, learningRateStart: 0.03, learningRateEnd: 0.001, momentumStart: 0.9, momentumEnd: 0.999 },
  // The tutorial's specialists run int(1e7 / rows) epochs (1,462 for 6,839 rows, 5,025 for 1,990); the cap only guards tiny row counts.
  specialists: { maxEpochs: 10000, patience: 200, learningRateStart: 0.03, learningRateEnd: 0.001, momentumStart: 0.9, momentumEnd: 0.999 },
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
 * Narrow networks and few epochs so the whole ladder (mean, mlp, cnn, baseline, 6 specialists and 6
 * augmented specialists) runs in minutes on 2 CPU cores on ~2000 generated rows, and still learns.
 * Tuned by measurement (see test/trainer/presets.test.ts for what it must reach).
 */
const QUICK: PresetSettings = {
  ...SEED,
  // Small batches and a high learning rate: with ~500-1,600 rows per unit, more updates per epoch learn
  // faster per image, and batch 8 trains as many images per second as batch 32 on wasm.
  batchSize: 8,
  network: {
    convFilters: [4, 8, 16],
    convKernels: [3, 2, 2],
    convDropout: [0, 0, 0.1],
    denseUnits: [64, 64],
    denseDropout: 0.1,
    // Centred inputs and He weights let SGD leave the mean prediction several times sooner (measured).
    centerInput: true,
    initializer: 'he-normal',
  },
  mlpHidden: 100,
  cnnHidden: 64,
  mlp: { maxEpochs: 8, patience: 8, learningRateStart: 0.05, learningRateEnd: 0.01, momentumStart: 0.9, momentumEnd: 0.9 },
  cnn: { maxEpochs: 5, patience: 5, learningRateStart: 0.1, learningRateEnd: 0.03, momentumStart: 0.9, momentumEnd: 0.9 },
  baseline: { maxEpochs: 30, patience: 10, learningRateStart: 0.1, learningRateEnd: 0.02, momentumStart: 0.9, momentumEnd: 0.9 },
  // On 1,200 generated rows (seed 5): merged specialists 1.90 px dev RMSE against the mean predictor's
  // 3.85 px (0.49), 12 min on one wasm thread of a busy machine; with 24 epochs and a 19,200-image budget
  // they stopped at 0.57. A start rate of 0.2 left three specialists at the mean prediction.
  specialists: { maxEpochs: 40, patience: 10, learningRateStart: 0.15, learningRateEnd: 0.02, momentumStart: 0.9, momentumEnd: 0.9 },
  specialistEpochBudget: 40_000,
  augmentations: ['contrast-stretch'],
  checkpointEveryEpochs: 5,
  checkpointEveryMinutes: 1,
};

const PRESET_SETTINGS: Record<PresetName, PresetSettings> = { seed: SEED, quick: QUICK };

/** The settings of a preset, as a fresh deep copy the caller may override field by field. */
export function presetConfig(preset: PresetName): PresetSettings {
  const settings = PRESET_SETTINGS[preset];
  if (!settings) throw new Error(`unknown preset "${preset}"; expected one of ${Object.keys(PRESET_SETTINGS).join(', ')}`);
  return structuredClone(settings);
}
