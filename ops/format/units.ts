/** `1h 05m`, `3m 20s`, `42s`; `-` for unknown. Seconds are dropped above an hour: nobody needs them there. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '-';
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

export function formatAgo(seconds: number | null | undefined): string {
  return seconds === null || seconds === undefined ? 'never' : `${formatDuration(seconds)} ago`;
}

/** US dollars with cents, or with four decimals below ten cents (hourly spot prices). */
export function formatUsd(amount: number | null | undefined): string {
  if (amount === null || amount === undefined || !Number.isFinite(amount)) return '-';
  return Math.abs(amount) < 0.1 && amount !== 0 ? `$${amount.toFixed(4)}` : `$${amount.toFixed(2)}`;
}

export function formatPx(value: number | null | undefined): string {
  return value === null || value === undefined ? '-' : `${value.toFixed(3)} px`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

export function secondsBetween(from: Date | string | null | undefined, to: Date): number | null {
  if (!from) return null;
  const t = typeof from === 'string' ? Date.parse(from) : from.getTime();
  return Number.isNaN(t) ? null : (to.getTime() - t) / 1000;
}

/** Hourly prices keep the precision AWS quotes them with: $0.526/h on demand, $0.2197/h spot. */
export function formatUsdPerHour(amount: number | null | undefined): string {
  return amount === null || amount === undefined || !Number.isFinite(amount)
    ? '-'
    : `$${amount.toFixed(4).replace(/0$/, '')}/h`;
}
