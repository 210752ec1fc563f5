import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { Token } from 'aws-cdk-lib';

/** The boot script, kept as its own shellcheck-clean file and embedded into user data at synth. */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;
export const BOOT_SCRIPT_PATH = join(__dirname, 'train-on-boot.sh');

/** Where user data puts the script and its settings on the instance. */
export const BOOT_SCRIPT_TARGET = '/opt/facepoints/train-on-boot.sh';
export const BOOT_ENV_TARGET = '/etc/facepoints/run.env';

/** Values rendered into the boot script's settings; any of them may be a CloudFormation token. */
export interface BootValues {
  region: string;
  imageUri: string;
  runId: string;
  preset: string;
  /** s3://BUCKET/data/ */
  dataUri: string;
  /** s3://BUCKET/runs */
  outUri: string;
  logGroupName: string;
  instanceType: string;
  maxHours: number;
  maxAttempts: number;
  /** JupyterLab image and the Secrets Manager secret holding its token; absent: no JupyterLab. */
  jupyter?: { image: string; tokenSecretArn: string };
}

/** The settings as KEY=value lines, read both by bash (`set -a; .`) and by systemd's EnvironmentFile. */
export function renderBootEnv(values: BootValues): string {
  const settings: Record<string, string | number> = {
    FACEPOINTS_REGION: values.region,
    FACEPOINTS_IMAGE: values.imageUri,
    FACEPOINTS_RUN_ID: values.runId,
    FACEPOINTS_PRESET: values.preset,
    FACEPOINTS_DATA_URI: values.dataUri,
    FACEPOINTS_OUT_URI: values.outUri,
    FACEPOINTS_LOG_GROUP: values.logGroupName,
    FACEPOINTS_INSTANCE_TYPE: values.instanceType,
    FACEPOINTS_MAX_HOURS: values.maxHours,
    FACEPOINTS_MAX_ATTEMPTS: values.maxAttempts,
    FACEPOINTS_JUPYTER: values.jupyter ? 'true' : 'false',
    FACEPOINTS_JUPYTER_IMAGE: values.jupyter?.image ?? '',
    FACEPOINTS_JUPYTER_SECRET_ARN: values.jupyter?.tokenSecretArn ?? '',
  };
  return Object.entries(settings)
    .map(([key, value]) => {
      const text = String(value);
      // Both readers take a value verbatim only when it has no quotes, spaces or `$`: refuse anything else.
      if (!Token.isUnresolved(text) && !/^[A-Za-z0-9._:/@+=,-]*$/.test(text)) {
        throw new Error(
          `Boot setting ${key}: expected letters, digits and . _ : / @ + = , - only, found "${text}"`,
        );
      }
      return `${key}=${text}`;
    })
    .join('\n');
}

/**
 * User data for the training instance: writes the settings and the boot script, then runs
 * `train-on-boot.sh install` (power-off deadline first, then the systemd unit that runs on every boot).
 */
export function renderBootUserData(
  values: BootValues,
  script: string = readFileSync(BOOT_SCRIPT_PATH, 'utf8'),
): string {
  // EC2 takes at most 16 KB of user data: the script travels gzipped (a third of its size).
  const encoded = gzipSync(Buffer.from(script, 'utf8'), { level: 9 })
    .toString('base64')
    .replace(/(.{76})/g, '$1\n');
  return [
    '#!/bin/bash',
    'set -euo pipefail',
    'install -d -m 0755 /opt/facepoints /etc/facepoints',
    `cat >${BOOT_ENV_TARGET} <<'FACEPOINTS_ENV'`,
    renderBootEnv(values),
    'FACEPOINTS_ENV',
    `base64 -d <<'FACEPOINTS_SCRIPT' | gunzip >${BOOT_SCRIPT_TARGET}`,
    encoded,
    'FACEPOINTS_SCRIPT',
    `chmod 0755 ${BOOT_SCRIPT_TARGET}`,
    'set -a',
    '# shellcheck source=/dev/null',
    `. ${BOOT_ENV_TARGET}`,
    'set +a',
    `exec ${BOOT_SCRIPT_TARGET} install`,
    '',
  ].join('\n');
}
