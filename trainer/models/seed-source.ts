import seedrandom from 'seedrandom';

/** The exported state of a SeedSource; plain JSON, stored in checkpoints. */
export type SeedSourceState = seedrandom.State.Alea;

/**
 * The trainer's one source of randomness (initializer seeds, shuffling, flips, dropout masks). Its state
 * is saved in every checkpoint, so a resumed run draws exactly the numbers an uninterrupted run would.
 * tfjs itself would otherwise fall back to Math.random, which cannot be saved.
 */
export class SeedSource {
  private readonly rng: seedrandom.StatefulPRNG<SeedSourceState>;

  /** A generator seeded with `seed`, or continuing from `state` when given. */
  constructor(seed: number, state?: SeedSourceState) {
    this.rng = state
      ? seedrandom.alea('', { state: { ...state } })
      : seedrandom.alea(String(seed), { state: true });
  }

  static fromState(state: SeedSourceState): SeedSource {
    return new SeedSource(0, state);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.rng();
  }

  /** A seed for a tfjs initializer or random op: an integer in [0, 2^31). */
  nextSeed(): number {
    return this.rng.int32() >>> 1;
  }

  /** Uniform integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.rng() * n);
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T extends { length: number; [i: number]: number }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
    return a;
  }

  state(): SeedSourceState {
    return this.rng.state();
  }
}
