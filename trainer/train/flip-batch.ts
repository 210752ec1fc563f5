/** Choose floor(n / 2) distinct rows of a batch of n to flip, as the tutorial's FlipBatchIterator (docs/seed.md). */
export function chooseHalf(n: number, next: () => number, out: Uint8Array = new Uint8Array(n)): Uint8Array {
  out.fill(0, 0, n);
  let left = Math.floor(n / 2);
  // Selection sampling (Knuth's algorithm S): each row is taken with probability left / remaining.
  for (let i = 0; i < n && left > 0; i++) {
    if (next() * (n - i) < left) {
      out[i] = 1;
      left--;
    }
  }
  return out;
}
