import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DATA_FILES, DATA_PREFIX } from '../../contracts/run-layout';
import { describeRequest, type StrictS3Server } from '../support/strict-s3';
import {
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
import { at } from '../support/checked';

/**
 * The trainer as the image runs it, without a container: as the image's uid in a root-owned copy of
 * /app it cannot write (HOME there too), NODE_ENV=production, production dependencies only, the
 * ENTRYPOINT with the boot script's arguments and environment, and the boot script's scratch folder
 * where the container would see its volume. S3 answers as real S3 does for the training role's policies.
 */
const image = imageRuntime();
const asRoot = process.getuid?.() === 0;
// setpriv can only switch users as root (CI runs as root).
const describeAsRoot = asRoot ? describe : describe.skip;

/** /app as the image has it: dist/, package.json and the production node_modules, all root-owned 0755. */
function imageLayout(app: string): void {
  mkdirSync(app, { mode: 0o755 });
  cpSync(path.join(ROOT, 'dist'), path.join(app, 'dist'), { recursive: true });
  cpSync(path.join(ROOT, 'package.json'), path.join(app, 'package.json'));
  // npm's own answer to "which installed packages does production need" (what `npm ci --omit=dev` installs).
  const production = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  })
    .split('\n')
    .map((p) => path.relative(ROOT, p))
    .filter((p) => /^node_modules\/(@[^/]+\/)?[^/@]+$/.test(p));
  if (production.length < 20)
    throw new Error(`npm ls --omit=dev: expected the production packages, found ${production.length}`);
  // Hard links: fast, and the files keep their root ownership; a plain copy where links cannot be made.
  try {
    execFileSync('cp', ['-al', '--parents', ...production, app], { cwd: ROOT });
  } catch {
    execFileSync('cp', ['-a', '--parents', ...production, app], { cwd: ROOT });
  }
  // Removed from the image explicitly (docker/Dockerfile); absent here anyway where its install fails.
  rmSync(path.join(app, 'node_modules/@tensorflow/tfjs-node'), { recursive: true, force: true });
}

/** A path inside the container as the host sees it, through the boot script's volumes (or /app). */
function hostPath(containerPath: string, boot: BootRun, app: string): string {
  for (const [host, container] of [...boot.volumes, [app, image.workdir] as [string, string]]) {
    if (containerPath === container || containerPath.startsWith(`${container}/`))
      return host + containerPath.slice(container.length);
  }
  return containerPath;
}

describeAsRoot(
  'the trainer as the image runs it (uid 10001, read-only /app, production dependencies)',
  () => {
    let work: string;
    let app: string;
    let s3: StrictS3Server;
    let boot: BootRun;

    beforeAll(async () => {
      work = mkdtempSync(path.join(tmpdir(), 'facepoints-as-shipped-'));
      chmodSync(work, 0o755);
      app = path.join(work, 'app');
      imageLayout(app);
      writeSample(path.join(work, 'data'));
      s3 = await strictS3WithData(path.join(work, 'data'));
      boot = bootTrainerRun(bootSettings(s3));
    }, 120_000);

    afterAll(async () => {
      await s3?.close();
      boot?.sandbox.remove();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    const asImageUser = (args: string[], env: Record<string, string>) =>
      run(
        'setpriv',
        [`--reuid=${image.uid}`, `--regid=${image.uid}`, '--clear-groups', '--', process.execPath, ...args],
        { cwd: app, env },
      );

    it('is set up like the image: the user cannot write /app, and production has no CDK or CPU tfjs-node', async () => {
      expect(image).toEqual(expect.objectContaining({ workdir: '/app', user: 'facepoints', uid: 10001 }));
      const probe = await run(
        'setpriv',
        [
          `--reuid=${image.uid}`,
          `--regid=${image.uid}`,
          '--clear-groups',
          '--',
          'sh',
          '-c',
          'touch . 2>/dev/null; test -w .',
        ],
        { cwd: app },
      );
      expect(probe.code).toBe(1);
      const packages = readdirSync(path.join(app, 'node_modules'));
      for (const name of ['aws-cdk-lib', 'cdk-nag', 'constructs', 'jest', 'typescript', 's3rver'])
        expect(packages).not.toContain(name);
      expect(existsSync(path.join(app, 'node_modules/@tensorflow/tfjs-node'))).toBe(false);
    });

    it("trains the run with the boot script's arguments and environment, caching the data in the scratch volume", async () => {
      const containerEnv = { ...image.env, ...boot.env };
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: image.workdir,
        ...containerEnv,
        ...instanceEnv(s3),
      };
      for (const [k, v] of Object.entries(env)) env[k] = hostPath(v, boot, app);
      expect(boot.env.FACEPOINTS_SCRATCH_DIR).toBe('/scratch');
      expect(env.FACEPOINTS_SCRATCH_DIR).toBe(boot.hostScratch);

      const trained = await asImageUser(
        [at(image.entrypoint, 1, 'the ENTRYPOINT script'), ...withoutGpu(boot.args)],
        env,
      );
      expect({ code: trained.code, tail: trained.output.split('\n').slice(-15).join('\n') }).toEqual({
        code: 0,
        tail: expect.stringContaining(`run ${RUN_ID} succeeded`),
      });
      expect(s3.deniedRequests().map(describeRequest)).toEqual([]);

      for (const name of Object.values(DATA_FILES)) {
        expect(
          existsSync(
            path.join(boot.hostScratch, 'data', s3.bucket, ...DATA_PREFIX.split('/').filter(Boolean), name),
          ),
        ).toBe(true);
      }
      expect(await runStatusIn(s3)).toEqual(expect.objectContaining({ state: 'succeeded', backend: 'wasm' }));
    }, 300_000);
  },
);
