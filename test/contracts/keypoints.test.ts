import {
  FLIP_PAIRS,
  KEYPOINT_COLUMNS,
  SPECIALISTS,
  TRAINING_HEADER,
  columnIndex,
} from '../../contracts/keypoints';
import { at } from '../support/checked';

describe('keypoint columns', () => {
  it('has the 30 Kaggle label columns in file order, then Image', () => {
    expect(KEYPOINT_COLUMNS).toHaveLength(30);
    expect(KEYPOINT_COLUMNS[0]).toBe('left_eye_center_x');
    expect(KEYPOINT_COLUMNS[21]).toBe('nose_tip_y');
    expect(KEYPOINT_COLUMNS[29]).toBe('mouth_center_bottom_lip_y');
    expect(TRAINING_HEADER[30]).toBe('Image');
  });

  it('flip pairs swap left and right partners of the same axis', () => {
    for (const [a, b] of FLIP_PAIRS) {
      const [na, nb] = [at(KEYPOINT_COLUMNS, a, 'a flip pair column'), KEYPOINT_COLUMNS[b]];
      expect(na.replace('left', 'right')).toBe(nb);
    }
  });

  it('specialists cover all 30 columns exactly once, with flip pairs that swap left and right', () => {
    const all = SPECIALISTS.flatMap((s) => s.columns);
    expect([...all].sort()).toEqual([...KEYPOINT_COLUMNS].sort());
    for (const s of SPECIALISTS) {
      for (const [a, b] of s.flipPairs) {
        expect(at(s.columns, a, `a ${s.name} flip pair column`).replace('left', 'right')).toBe(s.columns[b]);
      }
    }
    expect(() => columnIndex('chin_x')).toThrow('unknown keypoint column "chin_x"');
  });
});
