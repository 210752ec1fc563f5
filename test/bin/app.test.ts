import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STACK_NAMES } from '../../contracts/deployment-names';

const ROOT = join(__dirname, '../..');

/**
 * Runs the real CDK CLI on cdk.json's app, offline, as a user types it: `npx cdk COMMAND -c key=value ...`.
 * `cdk ls` and `cdk destroy` select stacks without validating them; `synth`, `diff` and `deploy` refuse a
 * stack that carries an error.
 */
function cdk(command: string, context: Record<string, string>, extra: string[] = []) {
  const outdir = mkdtempSync(join(tmpdir(), 'facepoints-app-'));
  const flags = Object.entries(context).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
  const result = spawnSync(
    join(ROOT, 'node_modules/.bin/cdk'),
    [command, '--no-notices', '--output', outdir, ...flags, ...extra],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env: {
        ...process.env,
        CDK_DISABLE_CLI_TELEMETRY: 'true',
        CDK_DEFAULT_ACCOUNT: '',
        CDK_DEFAULT_REGION: '',
      },
    },
  );
  return { ...result, outdir };
}

describe('bin/app.ts through the cdk CLI', () => {
  it('synthesizes both stacks offline from only allowedCidr and alertEmail', () => {
    const result = cdk('synth', { allowedCidr: '203.0.113.7/32', alertEmail: 'me@example.com' }, ['--quiet']);
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.status).toBe(0);
    for (const stack of Object.values(STACK_NAMES))
      expect(existsSync(join(result.outdir, `${stack}.template.json`))).toBe(true);
  });

  it('refuses to synthesize (and so to deploy) with every configuration problem at once', () => {
    const result = cdk('synth', { allowedCidr: '0.0.0.0/0', instanceType: 'g6.xlarge', maxHours: 'lots' }, [
      '--quiet',
    ]);
    expect(result.status).not.toBe(0);
    const output = result.stdout + result.stderr;
    expect(output).toContain('Invalid deploy configuration (4 problems;');
    expect(output).toContain('  - allowedCidr: 0.0.0.0/0 opens SSH and Jupyter to the whole internet');
    expect(output).toContain('  - instanceType: expected one of g4dn.xlarge,');
    expect(output).toContain('  - maxHours: expected a number of hours from 0.25 to 168, found "lots"');
    expect(output).toContain('  - alertEmail: required when budgetUsd is above 0 (budgetUsd=50)');
  });

  it('lists the stacks with no -c flags at all, as `cdk destroy FacepointsTraining` needs', () => {
    const result = cdk('ls', {});
    expect(result.stderr).not.toMatch(/Invalid deploy configuration|Error/);
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split('\n').sort()).toEqual(Object.values(STACK_NAMES).sort());
  });

  it('refuses a deploy with no -c flags before anything is built or called', () => {
    // No credentials exist here: a deploy that got past validation would fail on them, not on the config.
    const result = cdk('deploy', {}, ['--all', '--require-approval', 'never']);
    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).toContain('alertEmail: required when budgetUsd is above 0');
    expect(result.stdout + result.stderr).not.toMatch(/credentials|Building|Publishing/i);
  });
});
