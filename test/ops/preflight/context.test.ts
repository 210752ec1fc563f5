import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadContext, parseContextFlag, unknownContextKeys } from '../../../ops/preflight/context';

let dir: string;
let home: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'facepoints-preflight-context-'));
  home = mkdtempSync(path.join(os.tmpdir(), 'facepoints-preflight-home-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

test('-c flags override cdk.json, which overrides cdk.context.json and ~/.cdk.json, as in the CDK CLI', () => {
  writeFileSync(
    path.join(home, '.cdk.json'),
    JSON.stringify({ context: { alertEmail: 'home@example.com', maxHours: 2 } }),
  );
  writeFileSync(path.join(dir, 'cdk.context.json'), JSON.stringify({ maxHours: 3, preset: 'quick' }));
  writeFileSync(
    path.join(dir, 'cdk.json'),
    JSON.stringify({ app: 'npx tsx bin/app.ts', context: { spot: true, maxHours: 4 } }),
  );
  const flags = ['spot=false', 'allowedCidr=203.0.113.7/32', 'runId=a=b'];
  expect(loadContext({ flags, projectDir: dir, homeDir: home })).toEqual({
    alertEmail: 'home@example.com',
    maxHours: 4,
    preset: 'quick',
    spot: 'false',
    allowedCidr: '203.0.113.7/32',
    runId: 'a=b',
  });
});

test('no files: only the flags; a cdk.json that is not JSON is reported with its path', () => {
  expect(loadContext({ flags: ['spot=true'], projectDir: dir, homeDir: home })).toEqual({ spot: 'true' });
  writeFileSync(path.join(dir, 'cdk.json'), '{ "context": ');
  expect(() => loadContext({ flags: [], projectDir: dir, homeDir: home })).toThrow(
    `${path.join(dir, 'cdk.json')}: expected JSON, found a parse error`,
  );
});

test('-c needs key=value; keys the app does not read are pointed out, CDK feature flags are not', () => {
  expect(() => parseContextFlag('spot')).toThrow(
    '-c expects key=value, as for cdk deploy (e.g. -c spot=true), got "spot"',
  );
  expect(parseContextFlag('spot=true', ['preset=quick'])).toEqual(['preset=quick', 'spot=true']);
  expect(
    unknownContextKeys(['instancetype=g5.xlarge', 'spot=true', '@aws-cdk/core:newStyleStackSynthesis=true']),
  ).toEqual(['instancetype']);
});
