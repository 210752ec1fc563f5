import type { ModelName } from './run-layout';

/**
 * The seed's published figures (docs/seed.md, "What the seed reported", in pixels), printed next to each
 * run's own so a reader sees at once how a run compares with the experiment it reproduces.
 */
export const SEED_DEV_RMSE_PX: Partial<Record<ModelName, number>> = {
  mean: 3.2,
  mlp: 2.1,
  cnn: 1.3,
  baseline: 1.5,
  specialists: 1.4,
  'specialists-augmented': 1.6,
};

/** The seed's time and cost table: a g2.2xlarge at $0.65 per hour. */
export const SEED_TIME_AND_COST = {
  instanceType: 'g2.2xlarge',
  hourlyPriceUsd: 0.65,
  phases: [
    { name: 'baseline', hours: 1.6, usd: 1.1 },
    { name: 'specialists', hours: 81, usd: 52 },
  ],
  total: { hours: 82.6, usd: 53.1 },
} as const;

/** Seed model numbers as the seed's report names them (docs/seed.md). */
export const SEED_MODEL_TITLES: Record<ModelName, string> = {
  mean: 'Model 0: training mean',
  mlp: 'Model 1: one hidden layer',
  cnn: 'Model 2: CNN',
  baseline: 'Model 3: baseline CNN + dropout + flips',
  specialists: 'Model 4: six specialists',
  'specialists-augmented': 'Model 5: specialists + augmentation',
};
