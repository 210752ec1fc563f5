import { type CommanderError, InvalidArgumentError } from 'commander';
import { EXIT_USAGE } from '../contracts/run-status';

/**
 * How an option error reads: `expected --rows to be an integer >= 1, found "0"` (the trainer's commands)
 * or `--days expects a positive whole number, got "seven"` (the operator commands).
 */
export type OptionWording = 'expected' | 'expects';

export interface IntegerOptionSettings {
  /** Smallest value accepted. @default 0 */
  min?: number;
  /** @default 'expected' */
  wording?: OptionWording;
}

/**
 * A commander parser for a whole-number option, written in digits only (`1e3`, `0x10` and `7.0` are
 * refused). Commander hands options over as strings and reports the error against the option.
 */
export function integerOption(flag: string, settings: IntegerOptionSettings = {}): (value: string) => number {
  const min = settings.min ?? 0;
  return (value: string) => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (n >= min && Number.isSafeInteger(n)) return n;
    throw new InvalidArgumentError(
      settings.wording === 'expects'
        ? `${flag} expects ${min === 1 ? 'a positive whole number' : `a whole number >= ${min}`}, got "${value}"`
        : `expected ${flag} to be an integer >= ${min}, found "${value}"`,
    );
  };
}

const DURATION_FORM = 'a duration such as 90s, 15m, 2h or 3d';
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** A commander parser for `90s`, `15m`, `2h`, `3d` (bare numbers are seconds) -> seconds. */
export function durationOption(flag: string, wording: OptionWording = 'expected'): (value: string) => number {
  return (value: string) => {
    const m = value.trim().match(/^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$/);
    if (!m) {
      throw new InvalidArgumentError(
        wording === 'expects'
          ? `${flag} expects ${DURATION_FORM}, got "${value}"`
          : `expected ${flag} to be ${DURATION_FORM}, found "${value}"`,
      );
    }
    return Number(m[1]) * UNIT_SECONDS[(m[2] ?? 's') as keyof typeof UNIT_SECONDS];
  };
}

/** Commander's usage errors (unknown option, bad value) exit with EXIT_USAGE: retrying cannot help; --help and --version with 0. */
export function usageExit(err: CommanderError): never {
  process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
}
