import { PARALLEL_MIN_BATCH, chooseWorkers } from '../../../trainer/train/step-engine';

describe('choosing gradient workers', () => {
  it('uses two workers on wasm with two cores and batches worth splitting, else this thread', () => {
    expect(chooseWorkers(0, 'wasm', 128, 2)).toBe(2);
    expect(chooseWorkers(0, 'wasm', PARALLEL_MIN_BATCH - 1, 2)).toBe(1);
    expect(chooseWorkers(0, 'wasm', 128, 1)).toBe(1);
    expect(chooseWorkers(0, 'tensorflow-gpu', 128, 8)).toBe(1);
    expect(chooseWorkers(0, 'cpu', 128, 8)).toBe(1);
  });

  it('takes an explicit count, and refuses worker threads on native backends', () => {
    expect(chooseWorkers(3, 'wasm', 8, 2)).toBe(3);
    expect(chooseWorkers(1, 'wasm', 128, 2)).toBe(1);
    expect(() => chooseWorkers(2, 'tensorflow-gpu', 128, 8)).toThrow(
      'workers: expected 1 on the tensorflow-gpu backend (it runs its own threads), found 2',
    );
  });
});
