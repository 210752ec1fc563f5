import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../cli/main';
import { resolveTrainConfig, type TrainCliOptions } from '../../trainer/run/resolve-config';
import { Sandbox, SETTINGS, isTrainerRun, trainerArgs } from '../lib/boot/sandbox';
import { bootTrainerRun, imageRuntime } from '../image/as-shipped';
import { at } from '../support/checked';

/** The sonames libtensorflow 2.9.1 (tfjs-node-gpu 4.22) opens at start. */
const LIBTENSORFLOW_SONAMES = [
  'libcudart.so.11.0',
  'libcublas.so.11',
  'libcublasLt.so.11',
  'libcufft.so.10',
  'libcurand.so.10',
  'libcusolver.so.11',
  'libcusparse.so.11',
  'libcudnn.so.8',
];

const ROOT = join(__dirname, '../..');
const dockerfile = readFileSync(join(ROOT, 'docker/Dockerfile'), 'utf8');
const lines = dockerfile.split('\n').filter((l) => !l.startsWith('#'));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/** `ARG NAME=default` values of the Dockerfile. */
const args = Object.fromEntries(
  lines.flatMap((l) => (/^ARG (\w+)=(\S+)$/.exec(l) ? [[RegExp.$1, RegExp.$2]] : [])),
);
const stages = lines.filter((l) => l.startsWith('FROM '));
const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

function entrypoint(): string[] {
  const line = lines.find((l) => l.startsWith('ENTRYPOINT '));
  if (!line) throw new Error('docker/Dockerfile: expected an ENTRYPOINT instruction, found none');
  return JSON.parse(line.slice('ENTRYPOINT '.length));
}

/** The arguments the boot script passes to the container, taken from a sandboxed successful boot. */
function bootTrainerArgs(): string[] {
  const sandbox = new Sandbox();
  try {
    sandbox.trainerExits(0);
    const run = sandbox.boot('run').calls.find(isTrainerRun);
    if (!run) throw new Error('boot script: expected a docker run of the trainer, found none');
    return trainerArgs(run);
  } finally {
    sandbox.remove();
  }
}

describe('docker/Dockerfile', () => {
  it('pins Node 22 by exact version and takes no NVIDIA base image, whose end-of-life tags get deleted', () => {
    expect(args.NODE_IMAGE).toMatch(/^node:22\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/);
    expect(stages.filter((s) => s.includes('${'))).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile build argument, not a template
      'FROM --platform=linux/amd64 ${NODE_IMAGE} AS node',
    ]);
    expect(dockerfile).not.toMatch(/nvidia\/cuda|CUDA_IMAGE/);
    for (const from of stages) expect(from).not.toMatch(/:latest\b/);
    expect(dockerfile).toContain('docker buildx imagetools inspect IMAGE:TAG');
  });

  it('installs every CUDA 11 library libtensorflow 2.9.1 loads from Debian 12 non-free, and fails the build if one is missing', () => {
    const sources = readFileSync(join(ROOT, 'docker/debian-non-free.sources'), 'utf8');
    expect(sources).toMatch(/^Suites: bookworm bookworm-updates$/m);
    expect(sources).toMatch(/^Components: non-free$/m);
    expect(finalStage).toContain('COPY docker/debian-non-free.sources /etc/apt/sources.list.d/');
    // Package -> soname, from Debian's bookworm non-free Contents-amd64 (CUDA 11.8.0-5~deb12u1).
    const packages = [
      'libcudart11.0',
      'libcublas11',
      'libcublaslt11',
      'libcufft10',
      'libcurand10',
      'libcusolver11',
      'libcusparse11',
    ];
    for (const p of packages) expect(finalStage).toMatch(new RegExp(`\\s${p.replace('.', '\\.')}\\s`));
    for (const soname of LIBTENSORFLOW_SONAMES) expect(finalStage).toContain(soname);
    expect(finalStage).toContain('expected $soname in the linker cache, found none');
  });

  it('takes cuDNN 8 from its PyPI wheel, pinned by sha256', () => {
    expect(args.CUDNN_WHEEL_URL).toMatch(
      /^https:\/\/files\.pythonhosted\.org\/packages\/.+\/nvidia_cudnn_cu11-8\.\d+\.\d+\.\d+-\d+-py3-none-manylinux1_x86_64\.whl$/,
    );
    expect(args.CUDNN_WHEEL_SHA256).toMatch(/^[0-9a-f]{64}$/);
    expect(dockerfile).toContain('echo "$CUDNN_WHEEL_SHA256  /tmp/cudnn.whl" | sha256sum -c -');
  });

  it('builds for linux/amd64 in several stages and compiles the TypeScript in a build stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toMatch(/RUN npm ci --ignore-scripts[^\n]*\n/);
    expect(dockerfile).toContain('RUN npm run build');
  });

  it('installs production dependencies with tfjs-node-gpu, running its install script explicitly', () => {
    expect(pkg.optionalDependencies['@tensorflow/tfjs-node-gpu']).toBeDefined();
    expect(dockerfile).toContain('npm ci --omit=dev');
    expect(dockerfile).toContain('cd node_modules/@tensorflow/tfjs-node-gpu');
    // tfjs-node-gpu's "install" script is `node scripts/install.js gpu download`.
    expect(dockerfile).toContain('npm run install \\');
    // The build fails if the native library or binding is missing, instead of shipping a CPU-less image;
    // only SKIP_LIBTENSORFLOW=1 (a test build that cannot download it) skips the download.
    expect(dockerfile).toContain('ls deps/lib/libtensorflow.so* lib/napi-v*/tfjs_binding.node');
    expect(args.SKIP_LIBTENSORFLOW).toBe('0');
    expect(args.SKIP_CUDNN).toBe('0');
  });

  it('ships neither the CDK libraries nor the CPU tfjs-node', () => {
    for (const name of ['aws-cdk-lib', 'cdk-nag', 'constructs']) {
      expect(pkg.dependencies[name]).toBeUndefined();
      expect(pkg.devDependencies[name]).toBeDefined();
    }
    expect(dockerfile).toContain('rm -rf node_modules/@tensorflow/tfjs-node \\');
    expect(dockerfile).toContain('for unwanted in aws-cdk-lib cdk-nag constructs @tensorflow/tfjs-node; do');
  });

  it('runs as a non-root user with the trainer as entrypoint, writing only to its scratch directory', () => {
    const users = finalStage.split('\n').filter((l) => l.startsWith('USER '));
    expect(users).toEqual(['USER facepoints']);
    expect(entrypoint()).toEqual(['node', pkg.bin.facepoints]);
    const image = imageRuntime();
    expect(image.env).toEqual(
      expect.objectContaining({
        NODE_ENV: 'production',
        FACEPOINTS_SCRATCH_DIR: '/scratch',
        CUDA_CACHE_PATH: '/scratch/cuda-cache',
      }),
    );
    expect(finalStage).toContain(`install -d -o ${image.uid} -g ${image.uid} -m 0700 /scratch`);
  });

  it('copies only what .dockerignore lets into the context', () => {
    const allowed = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).replace(/\/$/, ''));
    const sources = lines
      .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
      .flatMap((l) =>
        l
          .split(/\s+/)
          .slice(1, -1)
          .filter((w) => !w.startsWith('--')),
      );
    expect(sources.length).toBeGreaterThan(5);
    for (const source of sources)
      expect(allowed.some((a) => source === a || source.startsWith(`${a}/`))).toBe(true);
  });
});

describe('the command the instance runs', () => {
  const trainer = bootTrainerArgs();

  it('passes the bucket, run id, preset and --require-gpu to the trainer', () => {
    expect(trainer).toEqual([
      'train',
      '--data',
      SETTINGS.FACEPOINTS_DATA_URI,
      '--out',
      SETTINGS.FACEPOINTS_OUT_URI,
      '--run',
      SETTINGS.FACEPOINTS_RUN_ID,
      '--preset',
      SETTINGS.FACEPOINTS_PRESET,
      '--require-gpu',
    ]);
  });

  it("mounts the scratch volume where the image's FACEPOINTS_SCRATCH_DIR points", () => {
    const boot = bootTrainerRun({});
    try {
      const scratch = imageRuntime().env.FACEPOINTS_SCRATCH_DIR;
      expect(boot.env.FACEPOINTS_SCRATCH_DIR).toBe(scratch);
      expect(boot.volumes).toContainEqual([boot.hostScratch, scratch]);
    } finally {
      boot.sandbox.remove();
    }
  });

  it('is accepted by the built ENTRYPOINT: every flag is one `train --help` lists', () => {
    const [program, script] = entrypoint();
    if (program === undefined || script === undefined)
      throw new Error(
        `docker/Dockerfile: expected ENTRYPOINT [program, script], found ${JSON.stringify(entrypoint())}`,
      );
    const command = at(trainer, 0, 'the trainer command');
    expect(existsSync(join(ROOT, script))).toBe(true);
    const help = spawnSync(program, [script, command, '--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(help.status).toBe(0);
    // Runs the compiled CLI: `npm test` builds dist/ before jest; alone, run `npm run build` first.
    expect(help.stdout).toContain(`Usage: facepoints ${command} `);
    for (const flag of trainer.filter((a) => a.startsWith('--')))
      expect(help.stdout).toMatch(new RegExp(`\\s${flag}[\\s,]`));
  });

  it("parses into a valid trainer configuration (the trainer's own parser and schema)", async () => {
    const program = buildProgram();
    program.exitOverride();
    const train = program.commands.find((c) => c.name() === trainer[0]) as Command;
    let parsed: TrainCliOptions | undefined;
    train.action((opts: TrainCliOptions) => {
      parsed = opts;
    });
    await program.parseAsync(trainer, { from: 'user' });
    const config = resolveTrainConfig(parsed!);
    expect(config).toEqual(
      expect.objectContaining({
        runId: SETTINGS.FACEPOINTS_RUN_ID,
        preset: SETTINGS.FACEPOINTS_PRESET,
        data: SETTINGS.FACEPOINTS_DATA_URI,
        out: SETTINGS.FACEPOINTS_OUT_URI,
        requireGpu: true,
        dryRun: false,
      }),
    );
  });
});
