import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DATA_CACHE_FOLDER } from '../../trainer/storage/data-cache';
import { describeRequest, type StrictS3Server } from '../support/strict-s3';
import {
  DOCKERFILE,
  ROOT,
  RUN_ID,
  bootSettings,
  bootTrainerRun,
  imageRuntime,
  instanceEnv,
  run,
  runStatusIn,
  strictS3WithData,
  withoutGpu,
  writeSample,
  type BootRun,
} from './as-shipped';

/**
 * The real docker/Dockerfile built with podman on a local stand-in of its Node base image (no image
 * registry is reachable here), then a quick training run in the container as the boot script starts it.
 * libtensorflow and cuDNN are not downloaded (SKIP_LIBTENSORFLOW=1, SKIP_CUDNN=1): there is no GPU, and
 * their hosts are unreachable here; everything else, the CUDA libraries from Debian included, is real.
 */
const NODE_VERSION = /^ARG NODE_IMAGE=node:(\d+\.\d+\.\d+)-bookworm-slim/m.exec(
  readFileSync(DOCKERFILE, 'utf8'),
)?.[1];
// The npm the stand-in carries beside Node (the official image's is the one bundled with Node).
const NPM_VERSION = '11.21.2';
const BASE = `localhost/facepoints-node-standin:${NODE_VERSION}`;
const IMAGE = 'localhost/facepoints-trainer:test';
// On these machines podman runs containers only with runc and lowered limits.
const PODMAN = ['--runtime', 'runc'];
const LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096'];
// The CUDA 11 sonames libtensorflow 2.9.1 opens; libcudnn.so.8 is absent with SKIP_CUDNN=1.
const CUDA_SONAMES = [
  'libcudart.so.11.0',
  'libcublas.so.11',
  'libcublasLt.so.11',
  'libcufft.so.10',
  'libcurand.so.10',
  'libcusolver.so.11',
  'libcusparse.so.11',
];

const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const missing = [
  process.getuid?.() === 0 ? null : 'root',
  ...['podman', 'runc', 'debootstrap'].map((t) => (has(t) ? null : t)),
].filter(Boolean);
const describeWithPodman = missing.length === 0 ? describe : describe.skip;
if (missing.length > 0)
  process.stderr.write(`test/image/trainer-image: skipped, needs ${missing.join(', ')}\n`);

/** The boot script's `docker run` options that mean the same under podman here: no GPU, no CloudWatch driver. */
function podmanRunOptions(boot: BootRun): string[] {
  return [
    '--rm',
    '--network',
    'host',
    ...Object.entries(boot.env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
    ...boot.volumes.flatMap(([host, container]) => ['--volume', `${host}:${container}`]),
  ];
}

describeWithPodman('docker/Dockerfile built with podman, run as the boot script runs it', () => {
  let work: string;
  let s3: StrictS3Server;
  let boot: BootRun;
  const image = imageRuntime();

  const podman = (args: string[]) => run('podman', [...PODMAN, ...args]);
  const instanceEnvFlags = () => Object.entries(instanceEnv(s3)).flatMap(([k, v]) => ['--env', `${k}=${v}`]);

  beforeAll(async () => {
    if (!NODE_VERSION)
      throw new Error(`${DOCKERFILE}: expected ARG NODE_IMAGE=node:X.Y.Z-bookworm-slim, found none`);
    const made = await run(path.join(__dirname, 'make-base-images.sh'), [BASE, NODE_VERSION, NPM_VERSION], {
      env: process.env as Record<string, string>,
    });
    if (made.code !== 0)
      throw new Error(`make-base-images.sh: expected exit 0, found ${made.code}:\n${made.output}`);
    const built = await podman([
      'build',
      ...LIMITS,
      '--network',
      'host',
      '--file',
      DOCKERFILE,
      '--tag',
      IMAGE,
      '--build-arg',
      `NODE_IMAGE=${BASE}`,
      '--build-arg',
      'SKIP_LIBTENSORFLOW=1',
      '--build-arg',
      'SKIP_CUDNN=1',
      ROOT,
    ]);
    if (built.code !== 0)
      throw new Error(
        `podman build: expected exit 0, found ${built.code}:\n${built.output.split('\n').slice(-40).join('\n')}`,
      );

    work = mkdtempSync(path.join(tmpdir(), 'facepoints-image-'));
    writeSample(path.join(work, 'data'));
    s3 = await strictS3WithData(path.join(work, 'data'));
    boot = bootTrainerRun(bootSettings(s3));
  }, 40 * 60_000);

  afterAll(async () => {
    await s3?.close();
    boot?.sandbox.remove();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('runs as uid 10001 in a /app it cannot write, with the CUDA libraries and without the CDK or CPU tfjs-node', async () => {
    const script = [
      'id -u',
      'test -w /app && echo app-writable',
      'test -w /scratch && echo scratch-writable',
      'for p in aws-cdk-lib cdk-nag constructs @tensorflow/tfjs-node; do test -e node_modules/$p && echo has-$p; done',
      '/sbin/ldconfig -p',
    ].join('; ');
    const out = await podman([
      'run',
      '--rm',
      ...LIMITS,
      '--entrypoint',
      'sh',
      IMAGE,
      '-c',
      `${script}; true`,
    ]);
    expect(out.code).toBe(0);
    const lines = out.output.split('\n');
    expect(lines[0]).toBe(String(image.uid));
    expect(lines).not.toContain('app-writable');
    expect(lines).toContain('scratch-writable');
    expect(lines.filter((l) => l.startsWith('has-'))).toEqual([]);
    for (const soname of CUDA_SONAMES)
      expect(out.output).toMatch(new RegExp(`^\\s+${soname.replace(/\./g, '\\.')} `, 'm'));
  });

  it(
    "trains a quick run with the boot script's arguments, environment and scratch volume",
    async () => {
      const trained = await podman([
        'run',
        ...LIMITS,
        ...podmanRunOptions(boot),
        ...instanceEnvFlags(),
        IMAGE,
        ...withoutGpu(boot.args),
      ]);
      expect({ code: trained.code, tail: trained.output.split('\n').slice(-15).join('\n') }).toEqual({
        code: 0,
        tail: expect.stringContaining(`run ${RUN_ID} succeeded`),
      });
      expect(s3.deniedRequests().map(describeRequest)).toEqual([]);
      expect(await runStatusIn(s3)).toEqual(expect.objectContaining({ state: 'succeeded', backend: 'wasm' }));
      // The S3 data cache landed in the host's scratch folder, through the volume.
      const listed = spawnSync('find', [boot.hostScratch, '-name', 'training.csv'], { encoding: 'utf8' });
      expect(listed.stdout.trim()).not.toBe('');
    },
    10 * 60_000,
  );

  it(
    "also works with nothing mounted: the image's own /scratch takes the data cache",
    async () => {
      const dry = await podman([
        'run',
        '--rm',
        '--network',
        'host',
        ...LIMITS,
        ...instanceEnvFlags(),
        IMAGE,
        ...withoutGpu(boot.args),
        '--dry-run',
      ]);
      expect({ code: dry.code, tail: dry.output.split('\n').slice(-10).join('\n') }).toEqual({
        code: 0,
        tail: expect.stringContaining('estimated training time'),
      });
      expect(dry.output).toContain(`from /scratch/${DATA_CACHE_FOLDER}/${s3.bucket}/`);
    },
    5 * 60_000,
  );
});
