import { Command } from 'commander';
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { ensureSampleData, registerSampleCommand } from '../../../trainer/cli/sample-command';
import { loadKaggleDir } from '../../../trainer/data/kaggle-csv';
import { EXIT_USAGE } from '../../../contracts/run-status';
import { tempDir } from '../data/csv-fixtures';

function program(): Command {
  const p = new Command('facepoints').exitOverride();
  registerSampleCommand(p);
  return p;
}

let dir: string;
let cleanup: () => void;
let stdout: jest.SpyInstance;
let stderr: jest.SpyInstance;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => {
  jest.restoreAllMocks();
  cleanup();
});

describe('facepoints sample', () => {
  it('writes the three Kaggle files with the given sizes and says what it wrote', async () => {
    const out = path.join(dir, 'sample');
    await program().parseAsync(['sample', '--out', out, '--rows', '6', '--test-rows', '4', '--seed', '3'], {
      from: 'user',
    });
    const data = await loadKaggleDir(out);
    expect(data.training.count).toBe(6);
    expect(data.test.count).toBe(4);
    const said = stdout.mock.calls.map((c) => String(c[0])).join('');
    expect(said).toMatch(
      new RegExp(
        `^wrote 6 training rows and 4 test images to ${out}: training.csv \\(\\d+\\.\\d [kM]B\\), test.csv`,
      ),
    );
    expect(said).toContain('seed 3');
  });

  it('shows every option with its default in --help', () => {
    const help = program()
      .commands.find((c) => c.name() === 'sample')!
      .helpInformation();
    expect(help).toContain('--out <dir>');
    expect(help).toMatch(/--rows <n>.*\(default: 7049\)/);
    expect(help).toMatch(/--test-rows <n>.*\(default: 1783\)/);
    expect(help).toMatch(/--seed <s>.*\(default: 1\)/);
  });

  it('exits with the usage code for a row count that is not a positive integer', async () => {
    const exit = jest.spyOn(process, 'exit').mockImplementation((code) => {
      throw new Error(`exit ${code}`);
    });
    await expect(
      program().parseAsync(['sample', '--out', dir, '--rows', '0'], { from: 'user' }),
    ).rejects.toThrow(`exit ${EXIT_USAGE}`);
    expect(exit).toHaveBeenCalledWith(EXIT_USAGE);
    expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toContain(
      'expected --rows to be an integer >= 1, found "0"',
    );
  });
});

describe('ensureSampleData', () => {
  it('generates missing files once and keeps existing ones', async () => {
    await ensureSampleData(dir, 8, 1);
    const data = await loadKaggleDir(dir);
    expect(data.training.count).toBe(8);
    expect(data.test.count).toBe(20);
    const file = path.join(dir, 'training.csv');
    const before = { mtime: statSync(file).mtimeMs, text: readFileSync(file) };
    await ensureSampleData(dir, 50, 2);
    expect(statSync(file).mtimeMs).toBe(before.mtime);
    expect(readFileSync(file).equals(before.text)).toBe(true);
  });
});
