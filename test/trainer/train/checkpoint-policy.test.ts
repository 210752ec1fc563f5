import { checkpointDue, type CheckpointFacts } from '../../../trainer/train/checkpoint-policy';

const policy = { everyEpochs: 5, everyMinutes: 4 };
const quiet: CheckpointFacts = {
  at: 'epoch',
  moreToCome: true,
  interrupted: false,
  newBest: false,
  epochsSinceCheckpoint: 1,
  msSinceCheckpoint: 1000,
};

describe('checkpointDue', () => {
  it('is not due while nothing calls for it', () => {
    expect(checkpointDue(policy, quiet)).toBe(false);
    expect(checkpointDue(policy, { ...quiet, at: 'batch' })).toBe(false);
  });

  it('is due on an interruption or after the minutes, after a batch as at an epoch end', () => {
    for (const at of ['batch', 'epoch'] as const) {
      expect(checkpointDue(policy, { ...quiet, at, interrupted: true })).toBe(true);
      expect(checkpointDue(policy, { ...quiet, at, msSinceCheckpoint: 4 * 60_000 })).toBe(true);
      expect(checkpointDue(policy, { ...quiet, at, msSinceCheckpoint: 4 * 60_000 - 1 })).toBe(false);
    }
  });

  it('is due at an epoch end after a new best or every `everyEpochs` epochs, never after a batch for those', () => {
    expect(checkpointDue(policy, { ...quiet, newBest: true })).toBe(true);
    expect(checkpointDue(policy, { ...quiet, epochsSinceCheckpoint: 5 })).toBe(true);
    expect(checkpointDue(policy, { ...quiet, epochsSinceCheckpoint: 4 })).toBe(false);
    expect(checkpointDue(policy, { ...quiet, at: 'batch', newBest: true, epochsSinceCheckpoint: 5 })).toBe(
      false,
    );
  });

  it('is never due when no work remains: the final checkpoint covers the end', () => {
    expect(
      checkpointDue(policy, {
        ...quiet,
        moreToCome: false,
        interrupted: true,
        newBest: true,
        msSinceCheckpoint: 1e9,
      }),
    ).toBe(false);
    expect(checkpointDue(policy, { ...quiet, at: 'batch', moreToCome: false, interrupted: true })).toBe(
      false,
    );
  });
});
