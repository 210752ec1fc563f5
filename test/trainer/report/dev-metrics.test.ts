import { COORDINATES, KEYPOINT_COLUMNS } from '../../../contracts/keypoints';
import {
  bestAndWorstImages,
  bestAndWorstLabels,
  devErrors,
  perImageRmsePx,
} from '../../../trainer/report/dev-metrics';

/** Two rows; row 1 misses every column but the first four. Errors are chosen so each figure is known by hand. */
function example(): { truth: Float32Array; pred: Float32Array } {
  const truth = new Float32Array(2 * COORDINATES).fill(50);
  const pred = new Float32Array(2 * COORDINATES).fill(50);
  for (let c = 4; c < COORDINATES; c++) truth[COORDINATES + c] = Number.NaN;
  pred[0] = 53; // row 0, left_eye_center_x off by 3
  pred[COORDINATES + 0] = 46; // row 1, left_eye_center_x off by 4
  pred[29] = 40; // row 0, mouth_center_bottom_lip_y off by 10
  pred[COORDINATES + 29] = 0; // row 1, missing truth: must not count
  return { truth, pred };
}

describe('dev error figures', () => {
  it('counts only present labels, overall and per column', () => {
    const { truth, pred } = example();
    const e = devErrors(truth, pred, 2);
    expect(e.labelCount).toBe(30 + 4);
    expect(e.rmsePx).toBeCloseTo(Math.sqrt((9 + 16 + 100) / 34), 6);
    expect(e.perColumnRmsePx.left_eye_center_x).toBeCloseTo(Math.sqrt((9 + 16) / 2), 6);
    expect(e.perColumnRmsePx.mouth_center_bottom_lip_y).toBeCloseTo(10, 6);
    expect(Object.keys(e.perColumnRmsePx)).toEqual([...KEYPOINT_COLUMNS]);
  });

  it('ranks labels and images by RMSE', () => {
    const { truth, pred } = example();
    const e = devErrors(truth, pred, 2);
    const { best, worst } = bestAndWorstLabels(e.perColumnRmsePx, 4);
    expect(worst[0]).toBe('mouth_center_bottom_lip_y');
    expect(worst[1]).toBe('left_eye_center_x');
    expect(best).toHaveLength(4);
    expect(best).not.toContain('left_eye_center_x');
    const perImage = perImageRmsePx(truth, pred, 2);
    expect(perImage[0]).toBeCloseTo(Math.sqrt((9 + 100) / 30), 6);
    expect(perImage[1]).toBeCloseTo(Math.sqrt(16 / 4), 6);
    expect(bestAndWorstImages(perImage, 4)).toEqual({ best: [0, 1], worst: [] });
    expect(bestAndWorstImages(Float64Array.from([3, 1, 2, 5, 4, 0.5, 9, 7, 8]), 4)).toEqual({
      best: [5, 1, 2, 0],
      worst: [6, 8, 7, 3],
    });
  });

  it('names both sizes when predictions and labels disagree', () => {
    expect(() => devErrors(new Float32Array(60), new Float32Array(30), 2)).toThrow(
      'dev errors: expected 2 rows x 30 coordinates (60 values), found 60 true and 30 predicted values',
    );
  });
});
