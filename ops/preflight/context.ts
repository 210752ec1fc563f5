import { existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEPLOY_CONTEXT_KEYS } from '../../contracts/deploy-config';
import { OpsError } from '../errors';

/** Values as the CDK CLI hands them to the app: strings from `-c`, any JSON value from the files. */
export type ContextValues = Record<string, unknown>;

/** `-c key=value` (repeatable, as for `cdk deploy`): the value is everything after the first `=`. */
export function parseContextFlag(value: string, previous: string[] = []): string[] {
  if (!/^[^=]+=/.test(value))
    throw new OpsError(`-c expects key=value, as for cdk deploy (e.g. -c spot=true), got "${value}"`);
  return [...previous, value];
}

/** `wrapped`: the values sit under a "context" key (cdk.json, ~/.cdk.json); cdk.context.json is flat. */
function readContextFile(file: string, wrapped = true): ContextValues {
  if (!existsSync(file)) return {};
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new OpsError(`${file}: expected JSON, found a parse error (${(err as Error).message})`);
  }
  const context = wrapped ? (json as { context?: unknown } | null)?.context : json;
  if (context === undefined) return {};
  if (typeof context !== 'object' || context === null || Array.isArray(context))
    throw new OpsError(`${file}: expected "context" to be an object, found ${JSON.stringify(context)}`);
  return context as ContextValues;
}

export interface ContextSources {
  /** `-c key=value` flags in order; a later flag for the same key wins. */
  flags: string[];
  /** Folder holding cdk.json (the CDK CLI reads it from the folder it runs in). @default process.cwd() */
  projectDir?: string;
  /** @default os.homedir() */
  homeDir?: string;
}

/**
 * The context the CDK CLI gives the app, merged with its precedence: `-c` flags over cdk.json's "context"
 * over cdk.context.json over ~/.cdk.json's "context".
 */
export function loadContext(src: ContextSources): ContextValues {
  const projectDir = src.projectDir ?? process.cwd();
  const flags: ContextValues = {};
  for (const f of src.flags) {
    const at = f.indexOf('=');
    flags[f.slice(0, at).trim()] = f.slice(at + 1);
  }
  return {
    ...readContextFile(path.join(src.homeDir ?? os.homedir(), '.cdk.json')),
    ...readContextFile(path.join(projectDir, 'cdk.context.json'), false),
    ...readContextFile(path.join(projectDir, 'cdk.json')),
    ...flags,
  };
}

/** `-c` keys the app does not read (a typo such as `instancetype` is silently ignored by the CDK). */
export function unknownContextKeys(flags: string[]): string[] {
  const known = new Set<string>(DEPLOY_CONTEXT_KEYS);
  const keys = flags.map((f) => f.slice(0, f.indexOf('=')).trim());
  return [...new Set(keys.filter((k) => !known.has(k) && !k.startsWith('@') && !k.startsWith('aws:')))];
}
