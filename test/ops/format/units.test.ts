import { formatAgo, formatBytes, formatPx, secondsBetween } from '../../../ops/format/units';

test('ages, sizes and pixel errors read naturally', () => {
  expect(formatAgo(null)).toBe('never');
  expect(formatAgo(200)).toBe('3m 20s ago');
  expect(formatBytes(1536)).toBe('1.5 KiB');
  expect(formatPx(1.23456)).toBe('1.235 px');
  expect(formatPx(null)).toBe('-');
  expect(secondsBetween('2026-11-29T01:00:00Z', new Date('2026-11-29T01:01:30Z'))).toBe(90);
  expect(secondsBetween('not a date', new Date())).toBeNull();
});
