import { formatDuration, formatUsd, formatUsdPerHour, renderFields, renderTable } from '../../common/format';

test('durations read naturally at every scale', () => {
  expect(formatDuration(42)).toBe('42s');
  expect(formatDuration(200)).toBe('3m 20s');
  expect(formatDuration(3900)).toBe('1h 05m');
  expect(formatDuration(90000)).toBe('1d 1h');
  expect(formatDuration(null)).toBe('-');
});

test('money keeps cents, hourly prices keep the quoted precision', () => {
  expect(formatUsd(53.1)).toBe('$53.10');
  expect(formatUsd(0.0123)).toBe('$0.0123');
  expect(formatUsdPerHour(0.526)).toBe('$0.526/h');
  expect(formatUsdPerHour(0.2197)).toBe('$0.2197/h');
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

test('report durations are written out, with tenths below ten seconds', () => {
  expect(formatDuration(59.7, { style: 'words' })).toBe('1 min 00 s');
  expect(formatDuration(3599.8, { style: 'words' })).toBe('1 h 00 min');
  expect(formatDuration(4.25, { style: 'words' })).toBe('4.3 s');
  expect(formatDuration(0, { style: 'words' })).toBe('0.0 s');
  expect(formatDuration(90000, { style: 'words' })).toBe('1 d 1 h');
});

test('both styles round once at the precision shown and never show 60 of a unit', () => {
  expect(formatDuration(59.7)).toBe('1m 00s');
  expect(formatDuration(3599.8)).toBe('1h 00m');
  expect(formatDuration(3659)).toBe('1h 01m');
  expect(formatDuration(86399)).toBe('1d 0h');
  expect(formatDuration(4.25)).toBe('4s');
  expect(formatDuration(-3)).toBe('0s');
  expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('-');
  expect(formatDuration(undefined, { style: 'words' })).toBe('-');
});

test('money and hourly prices show unknown as a dash; prose says per hour', () => {
  expect(formatUsd(0)).toBe('$0.00');
  expect(formatUsd(1.052)).toBe('$1.05');
  expect(formatUsd(null)).toBe('-');
  expect(formatUsdPerHour(0.526, { style: 'words' })).toBe('$0.526 per hour');
  expect(formatUsdPerHour(undefined)).toBe('-');
});

test('fields line up their values', () => {
  expect(
    renderFields([
      ['run', 'r1'],
      ['heartbeat', '30s ago'],
    ]),
  ).toBe(['run:       r1', 'heartbeat: 30s ago'].join('\n'));
});
