/**
 * Checked reads for tests: an index or key that may be absent fails the test with a message naming
 * what was missing, instead of a TypeError a few property reads later.
 */

/** `value`, or an error that names `what` when it is undefined. */
export function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`expected ${what}, found none`);
  return value;
}

/** `items.at(index)` (negative counts from the end), or an error naming `what` and how many there were. */
export function at<T>(
  items: { readonly length: number; at(index: number): T | undefined },
  index: number,
  what: string,
): T {
  if (index >= items.length || index < -items.length)
    throw new Error(`expected ${what} at index ${index}, found ${items.length} item(s)`);
  return items.at(index) as T;
}

/** The text between the first `start` and the next `end` after it, or an error naming `what`. */
export function between(text: string, start: string, end: string, what: string): string {
  const from = text.indexOf(start);
  if (from < 0) throw new Error(`expected ${what}, found no ${JSON.stringify(start)}`);
  const rest = text.slice(from + start.length);
  const to = rest.indexOf(end);
  if (to < 0) throw new Error(`expected ${what} to end with ${JSON.stringify(end)}, found no end`);
  return rest.slice(0, to);
}
