import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  BOOT_SCRIPT_PATH,
  type BootValues,
  USER_DATA_LIMIT_BYTES,
  renderBootEnv,
  renderBootUserData,
} from '../../../lib/boot/boot-user-data';
import { between } from '../../support/checked';

const VALUES: BootValues = {
  region: 'eu-west-1',
  imageUri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/repo:tag',
  runId: 'run-1',
  preset: 'seed',
  dataUri: 's3://b/data/',
  outUri: 's3://b/runs',
  logGroupName: '/facepoints/training',
  instanceType: 'g4dn.xlarge',
  maxHours: 12,
  maxAttempts: 3,
};

describe('renderBootUserData', () => {
  it('is a shellcheck-clean script', () => {
    const dir = mkdtempSync(join(tmpdir(), 'facepoints-ud-'));
    writeFileSync(join(dir, 'user-data.sh'), renderBootUserData(VALUES));
    const result = spawnSync('shellcheck', [join(dir, 'user-data.sh')], { encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('writes settings that bash reads back exactly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'facepoints-env-'));
    writeFileSync(
      join(dir, 'run.env'),
      renderBootEnv({
        ...VALUES,
        jupyter: {
          image: 'quay.io/jupyter/minimal-notebook:2026-04-02',
          tokenSecretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:t-AbC',
        },
      }),
    );
    const out = spawnSync(
      'bash',
      [
        '-c',
        `set -a; . ${join(dir, 'run.env')}; printf '%s|' "$FACEPOINTS_IMAGE" "$FACEPOINTS_MAX_HOURS" "$FACEPOINTS_JUPYTER" "$FACEPOINTS_JUPYTER_SECRET_ARN"`,
      ],
      { encoding: 'utf8', env: {} },
    );
    expect(out.stdout).toBe(
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com/repo:tag|12|true|arn:aws:secretsmanager:eu-west-1:1:secret:t-AbC|',
    );
  });

  it('refuses a value that a shell or systemd would not read verbatim', () => {
    expect(() => renderBootEnv({ ...VALUES, runId: 'a b' })).toThrow(
      'Boot setting FACEPOINTS_RUN_ID: expected letters, digits and . _ : / @ + = , - only, found "a b"',
    );
    expect(() => renderBootEnv({ ...VALUES, preset: '$(reboot)' })).toThrow('Boot setting FACEPOINTS_PRESET');
  });

  it('stays under the EC2 user data limit with long real values', () => {
    const long = (n: number) => 'x'.repeat(n);
    const text = renderBootUserData({
      ...VALUES,
      imageUri: `123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/cdk-hnb659fds-container-assets-123456789012-ap-southeast-2:${long(64)}`,
      runId: long(64),
      jupyter: {
        image: 'quay.io/jupyter/minimal-notebook:2026-04-02',
        tokenSecretArn: `arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:${long(60)}`,
      },
    });
    // A quarter of the limit left for what the script may still grow by.
    expect(Buffer.byteLength(text)).toBeLessThan(USER_DATA_LIMIT_BYTES * 0.75);
  });

  it('writes the boot script byte for byte when run', () => {
    // Run the unpacking line of the user data against a temporary target instead of /opt.
    const dir = mkdtempSync(join(tmpdir(), 'facepoints-unpack-'));
    const text = renderBootUserData(VALUES).replace(
      /\/opt\/facepoints\/train-on-boot\.sh/g,
      join(dir, 'script.sh'),
    );
    const block = text.slice(
      text.indexOf('base64 -d'),
      text.indexOf('\nFACEPOINTS_SCRIPT\n') + '\nFACEPOINTS_SCRIPT\n'.length,
    );
    const result = spawnSync('bash', ['-c', block], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(readFileSync(join(dir, 'script.sh'), 'utf8')).toBe(readFileSync(BOOT_SCRIPT_PATH, 'utf8'));
  });

  it('embeds the boot script from its file', () => {
    const text = renderBootUserData(VALUES);
    const encoded = between(
      text,
      "<<'FACEPOINTS_SCRIPT' | gunzip >/opt/facepoints/train-on-boot.sh\n",
      '\nFACEPOINTS_SCRIPT',
      'the embedded boot script',
    );
    expect(encoded.split('\n').every((line) => line.length <= 76)).toBe(true);
    expect(gunzipSync(Buffer.from(encoded.replace(/\n/g, ''), 'base64')).toString('utf8')).toBe(
      readFileSync(BOOT_SCRIPT_PATH, 'utf8'),
    );
  });
});
