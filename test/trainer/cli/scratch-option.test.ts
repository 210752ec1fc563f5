import { Command } from 'commander';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SCRATCH_ENV, registerTrainCommands } from '../../../trainer/cli/train-command';
import { DATA_CACHE_FOLDER, defaultScratchDir } from '../../../trainer/storage/data-cache';

/** Where `facepoints train` would cache s3:// data, given these arguments and FACEPOINTS_SCRATCH_DIR. */
async function cacheDirOf(args: string[], env: string | undefined): Promise<string> {
  const out = mkdtempSync(path.join(tmpdir(), 'facepoints-scratch-'));
  const previous = process.env[SCRATCH_ENV];
  if (env === undefined) delete process.env[SCRATCH_ENV];
  else process.env[SCRATCH_ENV] = env;
  let seen: string | null = null;
  try {
    const program = new Command('facepoints').exitOverride();
    registerTrainCommands(program, {
      log: () => undefined,
      services: {
        resolveDataDir: async (_data, cacheDir) => {
          seen = cacheDir;
          throw new Error('stop after resolving the cache folder');
        },
      },
    });
    await expect(
      program.parseAsync(
        [
          'train',
          '--data',
          's3://bucket/data/',
          '--out',
          `file://${out}`,
          '--run',
          'r1',
          '--dry-run',
          ...args,
        ],
        { from: 'user' },
      ),
    ).rejects.toThrow('stop after resolving the cache folder');
    if (seen === null) throw new Error('expected the trainer to resolve its data folder, found no call');
    return seen;
  } finally {
    if (previous === undefined) delete process.env[SCRATCH_ENV];
    else process.env[SCRATCH_ENV] = previous;
    process.exitCode = undefined;
    rmSync(out, { recursive: true, force: true });
  }
}

describe('facepoints train --scratch / FACEPOINTS_SCRATCH_DIR', () => {
  it("caches s3:// data under the user's own facepoints folder of the OS temp dir when nothing is given", async () => {
    expect(defaultScratchDir()).toBe(path.join(tmpdir(), `facepoints-${process.getuid!()}`));
    expect(await cacheDirOf([], undefined)).toBe(
      path.join(tmpdir(), `facepoints-${process.getuid!()}`, DATA_CACHE_FOLDER),
    );
  });

  it('takes the environment variable (the image sets /scratch), and --scratch over it', async () => {
    expect(await cacheDirOf([], '/scratch')).toBe(path.join('/scratch', DATA_CACHE_FOLDER));
    expect(await cacheDirOf(['--scratch', '/mnt/fast'], '/scratch')).toBe(
      path.join('/mnt/fast', DATA_CACHE_FOLDER),
    );
  });

  it('refuses an empty scratch folder instead of caching in the working directory', async () => {
    const program = new Command('facepoints').exitOverride();
    registerTrainCommands(program, { log: () => undefined });
    await expect(
      program.parseAsync(['train', '--data', 's3://bucket/data/', '--scratch', ' ', '--dry-run'], {
        from: 'user',
      }),
    ).rejects.toThrow(
      `invalid options: --scratch (or ${SCRATCH_ENV}): expected a folder, found an empty string`,
    );
    process.exitCode = undefined;
  });
});
