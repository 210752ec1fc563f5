import seedrandom from 'seedrandom';
import { chooseHalf } from '../../../trainer/train/flip-batch';

describe('choosing the rows to flip', () => {
  it('flips exactly half of each batch (rounded down), different rows each time', () => {
    const rng = seedrandom('half');
    const picks = [128, 127, 5, 1].map((n) => chooseHalf(n, rng));
    expect(picks.map((p) => p.reduce((a, b) => a + b, 0))).toEqual([64, 63, 2, 0]);
    const again = chooseHalf(128, rng);
    expect(Array.from(again)).not.toEqual(Array.from(picks[0] ?? []));
  });
});
