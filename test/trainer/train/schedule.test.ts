import { learningRateAt, linearAt, momentumAt } from '../../../trainer/train/schedule';
import { presetConfig } from '../../../trainer/presets';

describe('linear schedules', () => {
  const s = presetConfig('seed').baseline;

  it('starts at the start value and ends at the end value on the last epoch', () => {
    expect(learningRateAt(s, 0)).toBe(0.03);
    expect(learningRateAt(s, s.maxEpochs - 1)).toBeCloseTo(0.001, 12);
    expect(momentumAt(s, 0)).toBe(0.9);
    expect(momentumAt(s, s.maxEpochs - 1)).toBeCloseTo(0.999, 12);
  });

  it('moves by equal steps in between', () => {
    const steps = [1, 2, 3].map((e) => learningRateAt(s, e) - learningRateAt(s, e - 1));
    expect(steps[0]).toBeCloseTo((0.001 - 0.03) / 2999, 12);
    expect(steps[1]).toBeCloseTo(steps[0]!, 12);
    expect(steps[2]).toBeCloseTo(steps[0]!, 12);
    expect(linearAt(0, 10, 5, 11)).toBe(5);
  });

  it('stays at the start with a single epoch', () => {
    expect(linearAt(0.03, 0.001, 0, 1)).toBe(0.03);
  });

  it('rejects an epoch outside the schedule', () => {
    expect(() => linearAt(0, 1, 10, 10)).toThrow('schedule: expected an epoch index in [0, 9], found 10');
    expect(() => linearAt(0, 1, -1, 10)).toThrow('found -1');
  });
});
