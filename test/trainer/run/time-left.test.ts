import type { PlannedUnit, TrainedUnit } from '../../../trainer/run/plan';
import { timeLeft } from '../../../trainer/run/time-left';

const trained = (
  unit: string,
  model: TrainedUnit['model'],
  estimatedSeconds: number,
  done = false,
): TrainedUnit => ({
  kind: 'trained',
  unit,
  model,
  network: 'baseline',
  columns: [],
  flipPairs: [],
  trainRows: new Int32Array(0),
  devRows: new Int32Array(0),
  trainImages: 0,
  missing: 'drop',
  schedule: {
    maxEpochs: 10,
    patience: 10,
    learningRateStart: 0.1,
    learningRateEnd: 0.1,
    momentumStart: 0.9,
    momentumEnd: 0.9,
    optimizer: 'nesterov',
  },
  maxEpochs: 10,
  params: 0,
  initFromBaseline: false,
  done,
  estimatedSeconds,
});

describe('timeLeft', () => {
  const baseline = trained('baseline', 'baseline', 100);
  const a = trained('specialists/a', 'specialists', 50);
  const b = trained('specialists/b', 'specialists', 50, true);
  const c = trained('specialists-augmented/a', 'specialists-augmented', 80);
  const units: PlannedUnit[] = [baseline, a, b, c];

  it('takes this unit from its own epochs and scales the later ones by how far off the plan was', () => {
    // Planned 10 s per epoch, measured 20 s: later units take twice their estimates; done units nothing.
    expect(timeLeft(units, a, 4, [20, 20]).unit).toBe(6 * 20);
    const fromBaseline = timeLeft(units, baseline, 4, [20, 20, 20, 20]);
    expect(fromBaseline).toEqual({ unit: 120, phase: 120, run: 120 + 2 * 50 + 2 * 80 });
    const fromA = timeLeft(units, a, 5, [10]);
    // a: planned 5 s per epoch, measured 10 s.
    expect(fromA).toEqual({ unit: 50, phase: 50, run: 50 + 2 * 80 });
  });
});
