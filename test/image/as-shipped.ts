import { GetObjectCommand } from '@aws-sdk/client-s3';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DATA_PREFIX, RUNS_PREFIX, runLayout } from '../../contracts/run-layout';
import { Sandbox, type SETTINGS, isTrainerRun, trainerArgs } from '../lib/boot/sandbox';
import { localS3Client } from '../support/s3-server';
import { startTrainingRoleS3, synthesizedPolicies } from '../support/stack-policies';
import type { StrictS3Server } from '../support/strict-s3';

/**
 * What the trainer image is and how the instance runs it, read from the real sources (docker/Dockerfile,
 * the boot script), so the tests that run the trainer "as shipped" cannot drift from either.
 */

export const ROOT = path.resolve(__dirname, '../..');
export const DOCKERFILE = path.join(ROOT, 'docker/Dockerfile');

export interface ImageRuntime {
  workdir: string;
  /** ENV of the final stage. */
  env: Record<string, string>;
  user: string;
  uid: number;
  entrypoint: string[];
}

/** The final stage of docker/Dockerfile: WORKDIR, ENV, USER (with the uid useradd gives it), ENTRYPOINT. */
export function imageRuntime(file = DOCKERFILE): ImageRuntime {
  const text = readFileSync(file, 'utf8').replace(/\\\n/g, ' ');
  const stage = text.slice(text.lastIndexOf('\nFROM '));
  const lines = stage.split('\n').filter((l) => !l.startsWith('#'));
  const one = (instruction: string): string => {
    const found = lines.filter((l) => l.startsWith(`${instruction} `));
    const [line] = found;
    if (found.length !== 1 || line === undefined)
      throw new Error(`${file}: expected one ${instruction} in the final stage, found ${found.length}`);
    return line.slice(instruction.length + 1).trim();
  };
  const env: Record<string, string> = {};
  for (const line of lines.filter((l) => l.startsWith('ENV '))) {
    for (const [, k, v] of line.slice(4).matchAll(/(\w+)=(\S+)/g))
      if (k !== undefined && v !== undefined) env[k] = v;
  }
  const user = one('USER');
  const uid = new RegExp(`useradd [^&]*--uid (\\d+)[^&]* ${user}\\b`).exec(stage)?.[1];
  if (!uid) throw new Error(`${file}: expected a useradd --uid N ... ${user} in the final stage, found none`);
  return {
    workdir: one('WORKDIR'),
    env,
    user,
    uid: Number(uid),
    entrypoint: JSON.parse(one('ENTRYPOINT')) as string[],
  };
}

export interface BootRun {
  /** What the container's ENTRYPOINT receives. */
  args: string[];
  /** `--env NAME=VALUE` of the boot script's docker run. */
  env: Record<string, string>;
  /** `--volume HOST:CONTAINER`, as [host, container]. */
  volumes: Array<[string, string]>;
  /** The boot script's host scratch folder (prepared by it, owned by the trainer's uid). */
  hostScratch: string;
  sandbox: Sandbox;
}

/** One successful boot in the sandbox with these settings; the caller removes `sandbox`. */
export function bootTrainerRun(settings: Omit<Partial<typeof SETTINGS>, 'FACEPOINTS_IMAGE'>): BootRun {
  const sandbox = new Sandbox();
  // mkdtemp makes the sandbox 0700; the instance's scratch folder sits under a traversable /mnt.
  chmodSync(sandbox.dir, 0o755);
  sandbox.trainerExits(0);
  const result = sandbox.boot('run', settings);
  const run = result.calls.find(isTrainerRun);
  if (!run)
    throw new Error(
      `boot script: expected a docker run of the trainer, found none; stderr:\n${result.stderr}`,
    );
  const args = trainerArgs(run);
  const env: Record<string, string> = {};
  const volumes: Array<[string, string]> = [];
  const options = run.args.slice(0, run.args.length - args.length - 1);
  options.forEach((a, i) => {
    if (a !== '--env' && a !== '--volume') return;
    const value = options[i + 1];
    if (value === undefined)
      throw new Error(`boot script: expected a value after docker run ${a}, found none`);
    if (a === '--env' && value.includes('=')) {
      const eq = value.indexOf('=');
      env[value.slice(0, eq)] = value.slice(eq + 1);
    }
    if (a === '--volume') {
      const [host, container] = value.split(':');
      if (host === undefined || container === undefined)
        throw new Error(`boot script: expected docker run --volume HOST:CONTAINER, found ${value}`);
      volumes.push([host, container]);
    }
  });
  return { args, env, volumes, hostScratch: sandbox.scratchDir, sandbox };
}

/**
 * The boot script's trainer arguments made runnable without a GPU: `--require-gpu` becomes
 * `--backend wasm`, and settings small enough for a minute of training are appended.
 */
export function withoutGpu(args: string[]): string[] {
  if (!args.includes('--require-gpu'))
    throw new Error(`expected --require-gpu in the trainer arguments, found: ${args.join(' ')}`);
  return [...args.filter((a) => a !== '--require-gpu'), '--backend', 'wasm', ...TINY_SETTINGS];
}

/** A network a few hundred parameters big, one epoch per unit. */
export const TINY_SETTINGS = [
  '--set',
  'network.convFilters=2,2,2',
  '--set',
  'network.denseUnits=8,8',
  '--set',
  'batchSize=32',
  '--set',
  'baseline.maxEpochs=1',
  '--set',
  'specialists.maxEpochs=1',
  '--set',
  'specialistEpochBudget=1',
];

export const RUN_ID = 'as-shipped';

/** `facepoints sample` output: enough rows that every specialist has dev rows. */
export function writeSample(dir: string): void {
  execFileSync(
    process.execPath,
    [path.join(ROOT, 'dist/cli/main.js'), 'sample', '--out', dir, '--rows', '300', '--test-rows', '40'],
    { stdio: 'pipe' },
  );
}

/** A strict S3 for the training role's synthesized policies, holding the sample data under data/. */
export function strictS3WithData(dataDir: string): Promise<StrictS3Server> {
  return startTrainingRoleS3(synthesizedPolicies({ runId: RUN_ID }), dataDir);
}

/** The run's status.json as the trainer left it in `s3`, read past the policies. */
export async function runStatusIn(s3: StrictS3Server): Promise<unknown> {
  const client = localS3Client(s3.upstream.endpoint);
  try {
    const status = await client.send(
      new GetObjectCommand({ Bucket: s3.bucket, Key: `${RUNS_PREFIX}${RUN_ID}/${runLayout.status}` }),
    );
    return JSON.parse(await status.Body!.transformToString());
  } finally {
    client.destroy();
  }
}

/** The boot settings that point the instance at `s3` with the quick preset. */
export function bootSettings(s3: StrictS3Server): Partial<typeof SETTINGS> {
  return {
    FACEPOINTS_DATA_URI: `s3://${s3.bucket}/${DATA_PREFIX}`,
    FACEPOINTS_OUT_URI: `s3://${s3.bucket}/${RUNS_PREFIX.replace(/\/$/, '')}`,
    FACEPOINTS_RUN_ID: RUN_ID,
    FACEPOINTS_PRESET: 'quick',
    FACEPOINTS_REGION: 'us-east-1',
  };
}

/** Stand-ins for what the instance gives the container: the role's credentials and no metadata service. */
export function instanceEnv(s3: StrictS3Server): Record<string, string> {
  // Nothing listens on port 9: the spot-notice poll fails at once, as it logs and tolerates.
  return { ...s3.env, AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:9' };
}

export interface Exited {
  code: number | null;
  output: string;
}

/** Runs a command to its end, collecting stdout and stderr together. */
export function run(
  command: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<Exited> {
  const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}
