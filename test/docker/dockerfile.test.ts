import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { buildProgram } from '../../trainer/cli/main';
import { resolveTrainConfig, TrainCliOptions } from '../../trainer/run/resolve-config';
import { Sandbox, SETTINGS, isTrainerRun, trainerArgs } from '../lib/boot/sandbox';

const ROOT = join(__dirname, '../..');
const dockerfile = readFileSync(join(ROOT, 'docker/Dockerfile'), 'utf8');
const lines = dockerfile.split('\n').filter((l) => !l.startsWith('#'));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/** `ARG NAME=default` values of the Dockerfile. */
const args = Object.fromEntries(lines.flatMap((l) => (/^ARG (\w+)=(\S+)$/.exec(l) ? [[RegExp.$1, RegExp.$2]] : [])));
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
  it('pins the CUDA 11.2 + cuDNN 8 runtime that libtensorflow 2.9.1 needs, and Node 22 by exact version', () => {
    expect(args.CUDA_IMAGE).toBe('nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04');
    expect(args.NODE_IMAGE).toMatch(/^node:22\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/);
    for (const from of stages) expect(from).not.toMatch(/:latest\b/);
    expect(dockerfile).toContain('docker buildx imagetools inspect IMAGE:TAG');
  });

  it('builds for linux/amd64 in several stages and compiles the TypeScript in a build stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(stages.filter((s) => s.includes('--platform=linux/amd64 ${'))).toHaveLength(2);
    expect(dockerfile).toMatch(/RUN npm ci --ignore-scripts[^\n]*\n/);
    expect(dockerfile).toContain('RUN npm run build');
  });

  it('installs production dependencies with tfjs-node-gpu, running its install script explicitly', () => {
    expect(pkg.optionalDependencies['@tensorflow/tfjs-node-gpu']).toBeDefined();
    expect(dockerfile).toContain('npm ci --omit=dev');
    expect(dockerfile).toContain('cd node_modules/@tensorflow/tfjs-node-gpu');
    // tfjs-node-gpu's "install" script is `node scripts/install.js gpu download`.
    expect(dockerfile).toContain('&& npm run install \\');
    // The build fails if the native library or binding is missing, instead of shipping a CPU-less image.
    expect(dockerfile).toContain('ls deps/lib/libtensorflow.so* lib/napi-v*/tfjs_binding.node');
  });

  it('runs as a non-root user with the trainer as entrypoint', () => {
    const users = finalStage.split('\n').filter((l) => l.startsWith('USER '));
    expect(users).toEqual(['USER facepoints']);
    expect(entrypoint()).toEqual(['node', pkg.bin.facepoints]);
  });

  it('copies only what .dockerignore lets into the context', () => {
    const allowed = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).replace(/\/$/, ''));
    const sources = lines
      .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
      .flatMap((l) => l.split(/\s+/).slice(1, -1).filter((w) => !w.startsWith('--')));
    expect(sources.length).toBeGreaterThan(5);
    for (const source of sources) expect(allowed).toContain(source);
  });
});

describe('the command the instance runs', () => {
  const trainer = bootTrainerArgs();

  it('passes the bucket, run id, preset and --require-gpu to the trainer', () => {
    expect(trainer).toEqual([
      'train',
      '--data', SETTINGS.FACEPOINTS_DATA_URI,
      '--out', SETTINGS.FACEPOINTS_OUT_URI,
      '--run', SETTINGS.FACEPOINTS_RUN_ID,
      '--preset', SETTINGS.FACEPOINTS_PRESET,
      '--require-gpu',
    ]);
  });

  it('is accepted by the built ENTRYPOINT: every flag is one `train --help` lists', () => {
    const [program, script] = entrypoint();
    expect(existsSync(join(ROOT, script))).toBe(true);
    const help = spawnSync(program, [script, trainer[0], '--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(help.status).toBe(0);
    // Runs the compiled CLI: `npm test` builds dist/ before jest; alone, run `npm run build` first.
    expect(help.stdout).toContain(`Usage: facepoints ${trainer[0]} `);
    for (const flag of trainer.filter((a) => a.startsWith('--'))) expect(help.stdout).toMatch(new RegExp(`\\s${flag}[\\s,]`));
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
