import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STACK_NAMES } from '../../lib/deployment-names';

const ROOT = join(__dirname, '../..');

/** Runs bin/app.ts the way `cdk synth` does: context in CDK_CONTEXT_JSON, output folder in CDK_OUTDIR. */
function synth(context: Record<string, string>) {
  const outdir = mkdtempSync(join(tmpdir(), 'facepoints-app-'));
  const app = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')).app as string;
  const [cmd, ...args] = app.split(' ');
  const result = spawnSync(cmd, args, {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: outdir },
  });
  return { ...result, outdir };
}

describe('bin/app.ts', () => {
  it('synthesizes both stacks offline from only allowedCidr and alertEmail', () => {
    const result = synth({ allowedCidr: '203.0.113.7/32', alertEmail: 'me@example.com' });
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.status).toBe(0);
    for (const stack of Object.values(STACK_NAMES)) expect(existsSync(join(result.outdir, `${stack}.template.json`))).toBe(true);
  });

  it('fails with every configuration problem at once', () => {
    const result = synth({ allowedCidr: '0.0.0.0/0', instanceType: 'g6.xlarge', maxHours: 'lots' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('Invalid deploy configuration (4 problems;');
    expect(result.stderr).toContain('  - allowedCidr: 0.0.0.0/0 opens SSH and Jupyter to the whole internet');
    expect(result.stderr).toContain('  - instanceType: expected one of g4dn.xlarge,');
    expect(result.stderr).toContain('  - maxHours: expected a number of hours from 0.25 to 168, found "lots"');
    expect(result.stderr).toContain('  - alertEmail: required when budgetUsd is above 0 (budgetUsd=50)');
  });
});
