import { lossToRmsePx, meanSquaredError } from '../../../trainer/train/metrics';

describe('meanSquaredError', () => {
  it('compares target-scale predictions with pixel labels through toTarget (48 px is 0, 96 px is 1)', () => {
    expect(meanSquaredError(Float32Array.of(0, 1), Float32Array.of(48, 96))).toEqual({ mse: 0, targets: 2 });
    expect(meanSquaredError(Float32Array.of(0, 0), Float32Array.of(24, 72)).mse).toBeCloseTo(0.25);
    expect(lossToRmsePx(0.25)).toBe(24);
  });

  it('averages over the present labels only and counts them', () => {
    // The missing label's prediction (5) is far off: it must not count.
    expect(meanSquaredError(Float32Array.of(0, 5, 0), Float32Array.of(24, Number.NaN, 72))).toEqual({
      mse: 0.25,
      targets: 2,
    });
    expect(meanSquaredError(Float32Array.of(1), Float32Array.of(Number.NaN))).toEqual({
      mse: Number.NaN,
      targets: 0,
    });
  });

  it('refuses predictions and labels of different lengths', () => {
    expect(() => meanSquaredError(Float32Array.of(0), Float32Array.of(48, 48))).toThrow(
      'meanSquaredError: expected as many predictions as labels, found 1 and 2',
    );
  });
});
