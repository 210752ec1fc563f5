import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeployConfigError, parseDeployConfig as parseWith } from '../../contracts/deploy-config';
import { SUPPORTED_INSTANCE_TYPES } from '../../contracts/instance-prices';
import { localDataFolders } from '../../common/local-data-folders';

const context = (values: Record<string, unknown>) => (key: string) => values[key];
const MINIMAL = { allowedCidr: '203.0.113.7/32', alertEmail: 'me@example.com' };
const NOW = new Date('2026-11-29T06:05:09Z');
/** The app's parse, with the data folder seen through node:fs as `cdk synth` sees it. */
const parseDeployConfig = (getContext: (key: string) => unknown, now?: Date) =>
  parseWith(getContext, localDataFolders, now);

function problemsOf(values: Record<string, unknown>): string[] {
  try {
    parseDeployConfig(context(values), NOW);
  } catch (err) {
    if (err instanceof DeployConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a DeployConfigError, found a valid configuration');
}

describe('parseDeployConfig', () => {
  it('fills every default from only allowedCidr and alertEmail', () => {
    expect(parseDeployConfig(context(MINIMAL), NOW)).toEqual({
      allowedCidr: '203.0.113.7/32',
      allowAnyIp: false,
      instanceType: 'g4dn.xlarge',
      spot: false,
      maxHours: 12,
      maxAttempts: 3,
      budgetUsd: 50,
      budgetScope: 'account',
      alertEmail: 'me@example.com',
      keyPairName: undefined,
      dataDir: undefined,
      runId: '20261129-060509',
      preset: 'seed',
      jupyter: false,
      engine: 'instance',
      maxParallel: 2,
      instanceTypes: ['g4dn.xlarge'],
    });
  });

  it('coerces -c strings explicitly: "false" stays false, numbers are parsed', () => {
    const config = parseDeployConfig(
      context({
        ...MINIMAL,
        spot: 'false',
        jupyter: 'true',
        maxHours: '2.5',
        budgetUsd: '20',
        maxAttempts: '5',
      }),
      NOW,
    );
    expect(config.spot).toBe(false);
    expect(config.jupyter).toBe(true);
    expect(config.maxHours).toBe(2.5);
    expect(config.budgetUsd).toBe(20);
    expect(config.maxAttempts).toBe(5);
  });

  it('accepts real booleans and numbers from cdk.json', () => {
    const config = parseDeployConfig(context({ ...MINIMAL, spot: true, maxHours: 4 }), NOW);
    expect(config.spot).toBe(true);
    expect(config.maxHours).toBe(4);
  });

  it('allows no allowedCidr (no inbound rules) and no email without a budget', () => {
    const config = parseDeployConfig(context({ budgetUsd: '0' }), NOW);
    expect(config.allowedCidr).toBeUndefined();
    expect(config.alertEmail).toBeUndefined();
    expect(config.budgetUsd).toBe(0);
  });

  it('accepts an IPv6 CIDR and a world-open one with allowAnyIp=true', () => {
    expect(parseDeployConfig(context({ ...MINIMAL, allowedCidr: '2001:db8::/48' })).allowedCidr).toBe(
      '2001:db8::/48',
    );
    expect(
      parseDeployConfig(context({ ...MINIMAL, allowedCidr: '0.0.0.0/0', allowAnyIp: 'true' })).allowedCidr,
    ).toBe('0.0.0.0/0');
  });

  it('accepts every supported instance type', () => {
    for (const instanceType of SUPPORTED_INSTANCE_TYPES) {
      expect(parseDeployConfig(context({ ...MINIMAL, instanceType })).instanceType).toBe(instanceType);
    }
  });

  it('resolves dataDir to an absolute folder holding the Kaggle files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'facepoints-kaggle-'));
    for (const f of ['training.csv', 'test.csv', 'IdLookupTable.csv']) writeFileSync(join(dir, f), '');
    expect(parseDeployConfig(context({ ...MINIMAL, dataDir: dir })).dataDir).toBe(dir);
  });

  it('reports every problem at once, in context-key order, with exact messages', () => {
    expect(
      problemsOf({
        allowedCidr: '203.0.113.7',
        instanceType: 'p3.2xlarge',
        maxHours: 'twelve',
        spot: 'yes',
        jupyter: 'no',
        budgetUsd: '25',
        runId: 'my run',
      }),
    ).toEqual([
      'allowedCidr: expected an IPv4 or IPv6 CIDR such as 203.0.113.7/32, found "203.0.113.7"',
      `instanceType: expected one of ${SUPPORTED_INSTANCE_TYPES.join(', ')} (GPUs that libtensorflow 2.9.1 with CUDA 11 runs on), found "p3.2xlarge"`,
      'spot: expected true or false, found "yes"',
      'maxHours: expected a number of hours from 0.25 to 168, found "twelve"',
      'alertEmail: required when budgetUsd is above 0 (budgetUsd=25): give -c alertEmail=you@example.com, or -c budgetUsd=0 to deploy without a budget',
      'runId: expected 1-64 letters, digits, dot, dash or underscore, starting with a letter or digit, found "my run"',
      'jupyter: expected true or false, found "no"',
    ]);
  });

  it('refuses a world-open CIDR without allowAnyIp, for IPv4 and IPv6', () => {
    const message = (cidr: string) =>
      `allowedCidr: ${cidr} opens SSH and Jupyter to the whole internet; give your own address (e.g. 203.0.113.7/32) or add -c allowAnyIp=true`;
    expect(problemsOf({ ...MINIMAL, allowedCidr: '0.0.0.0/0' })).toEqual([message('0.0.0.0/0')]);
    expect(problemsOf({ ...MINIMAL, allowedCidr: '::/0', allowAnyIp: 'false' })).toEqual([message('::/0')]);
  });

  it('refuses out-of-range and non-integer numbers', () => {
    expect(problemsOf({ ...MINIMAL, maxHours: '0', maxAttempts: '1.5', budgetUsd: '-3' })).toEqual([
      'maxHours: expected a number of hours from 0.25 to 168, found "0"',
      'maxAttempts: expected a whole number of attempts from 1 to 10, found "1.5"',
      'budgetUsd: expected a number of US dollars from 0 to 100000, found "-3"',
    ]);
  });

  it('refuses a bad email, budget scope, preset and key pair name', () => {
    expect(
      problemsOf({
        ...MINIMAL,
        alertEmail: 'me-at-example',
        budgetScope: 'team',
        preset: 'huge',
        keyPairName: 'bad\u00e9name',
      }),
    ).toEqual([
      'budgetScope: expected one of project, account, found "team"',
      'alertEmail: expected an email address such as me@example.com, found "me-at-example"',
      'keyPairName: expected a key pair name of 1-255 printable ASCII characters, found "bad\u00e9name"',
      'preset: expected one of seed, quick, best, found "huge"',
    ]);
  });

  it('refuses a dataDir that is missing or lacks Kaggle files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'facepoints-kaggle-'));
    writeFileSync(join(dir, 'training.csv'), '');
    expect(problemsOf({ ...MINIMAL, dataDir: dir })).toEqual([
      `dataDir: expected test.csv, IdLookupTable.csv in ${dir}, found no such file`,
    ]);
    expect(problemsOf({ ...MINIMAL, dataDir: join(dir, 'nope') })).toEqual([
      `dataDir: expected a folder holding training.csv, test.csv, IdLookupTable.csv, found no folder at ${join(dir, 'nope')}`,
    ]);
  });

  describe('engine=batch', () => {
    const BATCH = { ...MINIMAL, engine: 'batch' };

    it('reads maxParallel and a comma-separated instanceTypes list, in the given order, without repeats', () => {
      const config = parseDeployConfig(
        context({ ...BATCH, maxParallel: '6', instanceTypes: ' g5.xlarge, g4dn.xlarge,g5.xlarge ' }),
      );
      expect(config.engine).toBe('batch');
      expect(config.maxParallel).toBe(6);
      expect(config.instanceTypes).toEqual(['g5.xlarge', 'g4dn.xlarge']);
    });

    it('accepts a JSON list from cdk.json', () => {
      const config = parseDeployConfig(
        context({ ...BATCH, instanceTypes: ['g4dn.2xlarge'], maxParallel: 3 }),
      );
      expect(config.instanceTypes).toEqual(['g4dn.2xlarge']);
      expect(config.maxParallel).toBe(3);
    });

    it('defaults to instanceType on demand, and to it and its two larger sizes on spot', () => {
      expect(parseDeployConfig(context(BATCH)).instanceTypes).toEqual(['g4dn.xlarge']);
      expect(
        parseDeployConfig(context({ ...BATCH, spot: 'true', instanceType: 'g5.xlarge' })).instanceTypes,
      ).toEqual(['g5.xlarge', 'g5.2xlarge', 'g5.4xlarge']);
    });

    it('refuses unsupported types, a maxParallel outside 1-6, an unknown engine, and instance-only settings', () => {
      expect(
        problemsOf({
          ...BATCH,
          keyPairName: 'my-key',
          jupyter: 'true',
          maxParallel: '7',
          instanceTypes: 'g4dn.xlarge,p3.2xlarge,g6.xlarge',
        }),
      ).toEqual([
        "keyPairName: engine=batch launches Batch's own instances, which take no key pair: remove keyPairName or use engine=instance",
        'jupyter: JupyterLab runs on the training instance, and engine=batch has none of its own: remove -c jupyter=true or use engine=instance',
        'maxParallel: expected a whole number of jobs from 1 to 6, found "7"',
        `instanceTypes: expected a comma-separated list of ${SUPPORTED_INSTANCE_TYPES.join(', ')}, found "p3.2xlarge", "g6.xlarge"`,
      ]);
      expect(problemsOf({ ...MINIMAL, engine: 'lambda' })).toEqual([
        'engine: expected one of instance, batch, found "lambda"',
      ]);
    });

    it('refuses the batch-only keys with the instance engine instead of ignoring them', () => {
      const message = (key: string) =>
        `${key}: only read with engine=batch; the instance engine launches one instance of instanceType (with spot=true, perhaps of its two larger sizes): remove ${key} or add -c engine=batch`;
      expect(problemsOf({ ...MINIMAL, maxParallel: '2', instanceTypes: 'g5.xlarge' })).toEqual([
        message('maxParallel'),
        message('instanceTypes'),
      ]);
    });
  });

  it('throws one error whose message lists all problems and says where to set them', () => {
    expect(() => parseDeployConfig(context({ allowedCidr: 'x', budgetUsd: '10' }))).toThrow(
      'Invalid deploy configuration (2 problems; set them with -c key=value or in cdk.json "context"):\n' +
        '  - allowedCidr: expected an IPv4 or IPv6 CIDR such as 203.0.113.7/32, found "x"\n' +
        '  - alertEmail: required when budgetUsd is above 0 (budgetUsd=10): give -c alertEmail=you@example.com, or -c budgetUsd=0 to deploy without a budget',
    );
  });
});
