import type { z } from 'zod';
import type { ScheduleSchema } from '../config';

/** Epochs, patience and the linear learning-rate and momentum ramps of one unit. */
export type Schedule = z.infer<typeof ScheduleSchema>;

/** `start` at epoch index 0, `end` at index maxEpochs - 1, linear in between (numpy.linspace, as the tutorial's AdjustVariable; docs/seed.md). */
export function linearAt(start: number, end: number, epochIndex: number, maxEpochs: number): number {
  if (!Number.isInteger(epochIndex) || epochIndex < 0 || epochIndex >= maxEpochs) {
    throw new Error(`schedule: expected an epoch index in [0, ${maxEpochs - 1}], found ${epochIndex}`);
  }
  if (maxEpochs === 1) return start;
  return start + ((end - start) * epochIndex) / (maxEpochs - 1);
}

export function learningRateAt(s: Schedule, epochIndex: number): number {
  return linearAt(s.learningRateStart, s.learningRateEnd, epochIndex, s.maxEpochs);
}

export function momentumAt(s: Schedule, epochIndex: number): number {
  return linearAt(s.momentumStart, s.momentumEnd, epochIndex, s.maxEpochs);
}
