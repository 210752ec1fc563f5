import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetServiceQuotaCommand } from '@aws-sdk/client-service-quotas';
import { findDockerfile } from '../../../ops/commands/preflight';
import * as runner from '../../../ops/preflight/run-command';
import { PreflightReportSchema } from '../../../ops/preflight/report';
import { ACCOUNT, REGION, dockerReady, mocks, newAccount, readyAccount } from '../preflight/support';
import { runOperatorCommand } from '../support/run-operator';

/**
 * `facepoints preflight` end to end through commander: context from -c and cdk.json, the exit code, and
 * --json. AWS is mocked (test/ops/preflight/support.ts), Docker answers through the injected runner.
 */
let dir: string;
const cwd = process.cwd();

beforeEach(() => {
  readyAccount();
  jest.spyOn(runner, 'runCommand').mockImplementation(dockerReady());
  dir = mkdtempSync(path.join(os.tmpdir(), 'facepoints-preflight-command-'));
  process.chdir(dir);
});
afterEach(() => {
  process.chdir(cwd);
  rmSync(dir, { recursive: true, force: true });
  jest.restoreAllMocks();
  process.exitCode = undefined;
});

async function preflight(...args: string[]): Promise<{ out: string; exitCode: number | undefined }> {
  process.exitCode = undefined;
  const out = await runOperatorCommand('preflight', '--region', REGION, ...args);
  const exitCode = process.exitCode as number | undefined;
  process.exitCode = undefined;
  return { out, exitCode };
}

test('--json: the report matches its schema, and the exit code is set from it', async () => {
  const { out, exitCode } = await preflight('--json', '-c', 'alertEmail=me@example.com');
  const report = PreflightReportSchema.parse(JSON.parse(out));
  expect(report).toMatchObject({ verdict: 'ready', exitCode: 0, account: ACCOUNT, region: REGION });
  expect(exitCode).toBe(0);
});

test('cdk.json context is read as the CDK reads it, and -c overrides it', async () => {
  writeFileSync(
    path.join(dir, 'cdk.json'),
    JSON.stringify({
      app: 'npx tsx bin/app.ts',
      context: { alertEmail: 'me@example.com', spot: true, maxHours: 4 },
    }),
  );
  const spot = PreflightReportSchema.parse(JSON.parse((await preflight('--json')).out));
  expect(spot.estimate).toMatchObject({ market: 'spot', maxHours: 4 });
  expect(mocks.quotas.commandCalls(GetServiceQuotaCommand).at(-1)?.args[0].input.QuotaCode).toBe(
    'L-3819A6DF',
  );
  const onDemand = PreflightReportSchema.parse(
    JSON.parse((await preflight('--json', '-c', 'spot=false')).out),
  );
  expect(onDemand.estimate).toMatchObject({ market: 'on-demand', maxHours: 4 });
});

test('exit 1 when a deploy would fail; warnings alone exit 0, or 2 with --strict', async () => {
  newAccount();
  expect((await preflight('-c', 'alertEmail=me@example.com')).exitCode).toBe(1);
  readyAccount();
  const warned = ['-c', 'alertEmail=me@example.com', '-c', 'budgetScope=project'];
  expect((await preflight(...warned)).exitCode).toBe(0);
  expect((await preflight(...warned, '--strict')).exitCode).toBe(2);
  // Only --cost-tags sends the (billed) Cost Explorer request.
  expect(mocks.ce.calls()).toHaveLength(0);
  expect((await preflight(...warned, '--cost-tags')).exitCode).toBe(0);
  expect(mocks.ce.calls()).toHaveLength(1);
});

test('-c without = is refused as cdk deploy would', async () => {
  await expect(preflight('-c', 'spot')).rejects.toThrow(
    '-c expects key=value, as for cdk deploy (e.g. -c spot=true), got "spot"',
  );
});

test('the Dockerfile is found from the command module upwards', () => {
  expect(findDockerfile()).toBe(path.join(cwd, 'docker', 'Dockerfile'));
  expect(findDockerfile(os.tmpdir())).toBeNull();
});

test('the README shows what the command prints for a new account', async () => {
  newAccount();
  const { out } = await preflight('-c', 'alertEmail=me@example.com', '-c', 'spot=true');
  const readme = readFileSync(path.join(cwd, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Before you deploy'));
  const sample = section.match(/```text\n([\s\S]*?)```/)?.[1];
  expect(sample).toBe(
    `$ npx facepoints preflight --region ${REGION} -c alertEmail=me@example.com -c spot=true\n${out}`,
  );
});
