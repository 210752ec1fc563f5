import {
  formatAgo,
  formatBytes,
  formatDuration,
  formatUsd,
  formatUsdPerHour,
} from '../../../ops/format/units';
import { renderTable } from '../../../ops/format/table';

test('durations read naturally at every scale', () => {
  expect(formatDuration(42)).toBe('42s');
  expect(formatDuration(200)).toBe('3m 20s');
  expect(formatDuration(3900)).toBe('1h 05m');
  expect(formatDuration(90000)).toBe('1d 1h');
  expect(formatDuration(null)).toBe('-');
  expect(formatAgo(null)).toBe('never');
});

test('money keeps cents, hourly prices keep the quoted precision', () => {
  expect(formatUsd(53.1)).toBe('$53.10');
  expect(formatUsd(0.0123)).toBe('$0.0123');
  expect(formatUsdPerHour(0.526)).toBe('$0.526/h');
  expect(formatUsdPerHour(0.2197)).toBe('$0.2197/h');
  expect(formatBytes(1536)).toBe('1.5 KiB');
});

test('tables pad columns and right-align numbers', () => {
  expect(
    renderTable(
      [{ header: 'A' }, { header: 'NUM', right: true }],
      [
        ['long name', '1.5'],
        ['x', '10.25'],
      ],
    ),
  ).toBe(['A            NUM', '---------  -----', 'long name    1.5', 'x          10.25'].join('\n'));
});
