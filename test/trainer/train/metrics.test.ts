import { lossToRmsePx, meanSquaredError } from '../../../trainer/train/metrics';

describe('meanSquaredError', () => {
  it('compares target-scale predictions with pixel labels through toTarget (48 px is 0, 96 px is 1)', () => {
    expect(meanSquaredError(Float32Array.of(0, 1), Float32Array.of(48, 96))).toBe(0);
    expect(meanSquaredError(Float32Array.of(0, 0), Float32Array.of(24, 72))).toBeCloseTo(0.25);
    expect(lossToRmsePx(0.25)).toBe(24);
  });
});
