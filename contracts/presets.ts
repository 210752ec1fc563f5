/**
 * Names of the trainer's settings presets (trainer/presets.ts holds the settings). The CDK app checks its
 * `preset` context against this list before the instance is started.
 */
export const PRESETS = ['seed', 'quick', 'best'] as const;
export type PresetName = (typeof PRESETS)[number];
