/** A plain-text table: columns padded to their widest cell, numbers right-aligned. */
export interface Column {
  header: string;
  /** Right-align (numbers, money). @default false */
  right?: boolean;
}

export function renderTable(columns: Column[], rows: string[][]): string {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => {
        const width = widths[i] ?? 0;
        return columns[i]?.right ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [
    line(columns.map((c) => c.header)),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(columns.map((_, i) => r[i] ?? ''))),
  ].join('\n');
}

/** Label/value lines, labels padded so that values line up. */
export function renderFields(fields: Array<[string, string]>): string {
  const width = Math.max(0, ...fields.map(([k]) => k.length));
  return fields.map(([k, v]) => `${(`${k}:`).padEnd(width + 1)} ${v}`).join('\n');
}

/**
 * How a figure reads: `compact` for terminal tables and status lines (`1h 05m`, `$0.526/h`), `words` for
 * prose and the run report (`1 h 05 min`, `$0.526 per hour`).
 */
export type FormatStyle = 'compact' | 'words';

export interface FormatOptions {
  /** @default 'compact' */
  style?: FormatStyle;
}

const DURATION_UNITS: Record<FormatStyle, { d: string; h: string; m: string; s: string }> = {
  compact: { d: 'd', h: 'h', m: 'm', s: 's' },
  words: { d: ' d', h: ' h', m: ' min', s: ' s' },
};

/**
 * `42s`, `3m 20s`, `1h 05m`, `1d 1h` (compact) or `4.3 s`, `1 min 00 s`, `1 h 05 min` (words, with tenths
 * below ten seconds); `-` for unknown. Each figure is rounded once at the precision shown, so 59.7 s reads
 * one minute rather than "60 s", and seconds are dropped above an hour: nobody needs them there.
 */
export function formatDuration(seconds: number | null | undefined, opts: FormatOptions = {}): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '-';
  const style = opts.style ?? 'compact';
  const u = DURATION_UNITS[style];
  const t = Math.max(0, seconds);
  if (style === 'words' && t < 10) return `${t.toFixed(1)}${u.s}`;
  const s = Math.round(t);
  if (s < 60) return `${s}${u.s}`;
  if (s < 3600) return `${Math.floor(s / 60)}${u.m} ${two(s % 60)}${u.s}`;
  const m = Math.round(s / 60);
  if (m < 24 * 60) return `${Math.floor(m / 60)}${u.h} ${two(m % 60)}${u.m}`;
  const h = Math.round(m / 60);
  return `${Math.floor(h / 24)}${u.d} ${h % 24}${u.h}`;
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** US dollars with cents, or with four decimals below ten cents (hourly spot prices); `-` for unknown. */
export function formatUsd(amount: number | null | undefined): string {
  if (amount === null || amount === undefined || !Number.isFinite(amount)) return '-';
  return Math.abs(amount) < 0.1 && amount !== 0 ? `$${amount.toFixed(4)}` : `$${amount.toFixed(2)}`;
}

/**
 * Hourly prices keep the precision AWS quotes them with: `$0.526/h` on demand, `$0.2197/h` spot (compact),
 * or `$0.526 per hour` (words); `-` for unknown.
 */
export function formatUsdPerHour(amount: number | null | undefined, opts: FormatOptions = {}): string {
  if (amount === null || amount === undefined || !Number.isFinite(amount)) return '-';
  return `$${amount.toFixed(4).replace(/0$/, '')}${opts.style === 'words' ? ' per hour' : '/h'}`;
}
