import { localDataFolders } from '../../common/local-data-folders';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { type FacepointsStacks, createStacks } from '../../lib/create-stacks';
import { type DeployConfig, parseDeployConfig } from '../../contracts/deploy-config';
import { DATA_FILES } from '../../contracts/run-layout';

/** Context of `npx cdk synth -c allowedCidr=203.0.113.7/32 -c alertEmail=me@example.com`, with a fixed run id. */
export const BASE_CONTEXT = {
  allowedCidr: '203.0.113.7/32',
  alertEmail: 'me@example.com',
  runId: 'test-run',
};

export interface BuiltApp extends FacepointsStacks {
  app: App;
  config: DeployConfig;
}

/** Builds the app from context values as `-c` would pass them (strings); nothing is synthesized yet. */
export function buildApp(
  context: Record<string, string>,
  options: { cfnValidation?: boolean } = {},
): BuiltApp {
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), 'facepoints-cdk-')),
    builtinCloudFormationValidation: options.cfnValidation ?? false,
  });
  const config = parseDeployConfig((key) => context[key], localDataFolders);
  return { app, config, ...createStacks(app, config) };
}

/** A folder with empty Kaggle files (and one that must not be uploaded), for dataDir. */
export function fakeDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'facepoints-data-'));
  for (const file of [...Object.values(DATA_FILES), 'notes.txt']) writeFileSync(join(dir, file), '');
  return dir;
}

/**
 * Asset hashes change with every source edit, and the gzipped boot script with the zlib build: the
 * snapshot keeps everything else (the script's content is compared byte for byte by its own test).
 */
export function scrubHashes<T>(template: T): T {
  const json = JSON.stringify(template)
    .replace(/[0-9a-f]{64}/g, '<asset-hash>')
    .replace(
      /(FACEPOINTS_SCRIPT' \| gunzip >[^\\]*\\n)[A-Za-z0-9+/=]+(?:\\n[A-Za-z0-9+/=]+)*(\\nFACEPOINTS_SCRIPT)/,
      '$1<gzipped boot script>$2',
    );
  return JSON.parse(json);
}

/** The text of a Fn::Join / Fn::Base64 value, with every token shown as `<token>`. */
export function joinedText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if ('Fn::Base64' in obj) return joinedText(obj['Fn::Base64']);
    if ('Fn::Sub' in obj && typeof obj['Fn::Sub'] === 'string')
      return obj['Fn::Sub'].replace(/\$\{[^}]+\}/g, '<token>');
    if ('Fn::Join' in obj) {
      const [sep, parts] = obj['Fn::Join'] as [string, unknown[]];
      return parts.map(joinedText).join(sep);
    }
  }
  return '<token>';
}
