import { formatDuration } from '../../common/format';

export function formatAgo(seconds: number | null | undefined): string {
  return seconds === null || seconds === undefined ? 'never' : `${formatDuration(seconds)} ago`;
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
