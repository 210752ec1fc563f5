import type { Command } from 'commander';
import { OpsError } from './errors';

/** Options every operator command takes. */
export interface CommonOptions {
  json?: boolean;
  bucket?: string;
  run?: string;
  region?: string;
  profile?: string;
  endpointUrl?: string;
}

export function withCommonOptions(cmd: Command): Command {
  return cmd
    .option('--json', 'print JSON for scripts instead of tables', false)
    .option('--bucket <name>', 'bucket holding the runs (default: output BucketName of stack FacepointsData)')
    .option(
      '--run <id>',
      'run id (default: output RunId of stack FacepointsTraining, else the newest run in the bucket)',
    )
    .option('--region <region>', "AWS region of the stacks (default: AWS_REGION, else the profile's region)")
    .option(
      '--profile <name>',
      'AWS named profile from ~/.aws/config (default: AWS_PROFILE or the default credential chain)',
    )
    .option(
      '--endpoint-url <url>',
      'S3-compatible endpoint such as a local S3 server; the stacks are then not consulted',
    );
}

/** Parses a positive integer option; commander hands options over as strings. */
export function positiveInt(flag: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0)
      throw new OpsError(`${flag} expects a positive whole number, got "${value}"`);
    return n;
  };
}

/** `90s`, `15m`, `2h`, `3d` -> seconds. */
export function parseDurationSeconds(flag: string): (value: string) => number {
  return (value: string) => {
    const m = value.trim().match(/^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$/);
    if (!m) throw new OpsError(`${flag} expects a duration such as 90s, 15m, 2h or 3d, got "${value}"`);
    const unit = { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
    return Number(m[1]) * unit;
  };
}
