/**
 * What the seed's whole experiment cost on a g2.2xlarge at $0.65/h (slide deck, "time and cost"): the
 * figure every cost view is compared against.
 */
export const SEED_EXPERIMENT = {
  usd: 53.1,
  hours: 82.6,
  instanceType: 'g2.2xlarge',
  usdPerHour: 0.65,
} as const;

export function seedComparisonLine(): string {
  return `seed experiment for comparison: $${SEED_EXPERIMENT.usd.toFixed(2)} over ${SEED_EXPERIMENT.hours} hours on a ${SEED_EXPERIMENT.instanceType} at $${SEED_EXPERIMENT.usdPerHour}/h`;
}
