import { Command } from 'commander';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { registerTrainCommands } from '../../../trainer/cli/train-command';
import { EXIT_USAGE } from '../../../contracts/run-status';
import { writeKaggleFixture } from '../run/kaggle-fixture';

/** A fresh program with the train commands; process.exit is turned into an exception the test can see. */
function program(lines: string[]): Command {
  const sink = new PassThrough();
  sink.resume();
  const p = new Command('facepoints')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: (s) => lines.push(s) });
  registerTrainCommands(p, {
    log: (l) => lines.push(l),
    progress: { stream: sink, tty: false },
    instanceType: null,
  });
  for (const c of p.commands)
    c.configureOutput({ writeErr: () => undefined, writeOut: (s) => lines.push(s) });
  return p;
}

describe('facepoints train', () => {
  let root: string;
  let exit: jest.SpyInstance;

  beforeAll(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'facepoints-cli-'));
    await writeKaggleFixture(path.join(root, 'data'), 60, 2);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  beforeEach(() => {
    process.exitCode = undefined;
    exit = jest.spyOn(process, 'exit').mockImplementation(((code?: number) => {
      throw new Error(`process.exit(${code})`);
    }) as never);
  });
  afterEach(() => {
    exit.mockRestore();
    process.exitCode = undefined;
  });

  it('rejects invalid options with every problem named and exit code 64, before reading anything', async () => {
    const lines: string[] = [];
    await expect(
      program(lines).parseAsync(
        ['train', '--out', 'runs', '--set', 'batchSize=big', '--models', 'baseline,resnet'],
        { from: 'user' },
      ),
    ).rejects.toThrow(
      [
        'invalid options:',
        '  --data: expected a folder or s3://BUCKET/PREFIX holding training.csv, test.csv and IdLookupTable.csv, found nothing',
        '  --models: unknown model "resnet"; expected some of mlp, cnn, baseline, specialists, specialists-augmented (or all)',
        '  --set batchSize=big: expected a number, found "big"',
      ].join('\n'),
    );
    expect(process.exitCode).toBe(EXIT_USAGE);
  });

  it('exits with 64 on an option commander does not know or a bad choice', async () => {
    await expect(program([]).parseAsync(['train', '--epochs', '3'], { from: 'user' })).rejects.toThrow(
      `process.exit(${EXIT_USAGE})`,
    );
    await expect(program([]).parseAsync(['train', '--preset', 'fast'], { from: 'user' })).rejects.toThrow(
      `process.exit(${EXIT_USAGE})`,
    );
  });

  it('refuses --units with --parallel, and an empty --units, with exit code 64', async () => {
    const base = ['train', '--data', path.join(root, 'data'), '--out', `file://${root}/runs`, '--run', 'u'];
    await expect(
      program([]).parseAsync([...base, '--units', 'baseline', '--parallel', '2'], { from: 'user' }),
    ).rejects.toThrow(
      'invalid options: --units with --parallel 2: expected one of them (--units trains in this process, --parallel starts one process per unit)',
    );
    expect(process.exitCode).toBe(EXIT_USAGE);
    process.exitCode = undefined;
    await expect(program([]).parseAsync([...base, '--units', ','], { from: 'user' })).rejects.toThrow(
      '--units: expected a comma-separated list of units',
    );
    expect(process.exitCode).toBe(EXIT_USAGE);
    expect(existsSync(path.join(root, 'runs', 'u'))).toBe(false);
  });

  it('exits with 64 when the data folder does not exist', async () => {
    const missing = path.join(root, 'no-such-data');
    await expect(
      program([]).parseAsync(
        ['train', '--data', missing, '--out', `file://${root}/runs`, '--run', 'nodata'],
        { from: 'user' },
      ),
    ).rejects.toThrow(`found nothing at ${missing}`);
    expect(process.exitCode).toBe(EXIT_USAGE);
  });

  it('shows every option with its default in --help', async () => {
    const lines: string[] = [];
    await expect(program(lines).parseAsync(['train', '--help'], { from: 'user' })).rejects.toThrow(
      'process.exit(0)',
    );
    const help = lines.join('');
    for (const flag of [
      '--data',
      '--out',
      '--run',
      '--preset',
      '--models',
      '--backend',
      '--require-gpu',
      '--dry-run',
      '--seed',
      '--set',
      '--units',
      '--parallel',
    ]) {
      expect(help).toContain(flag);
    }
    expect(help).toContain('(default: "baseline,specialists")');
    expect(help).toContain('baseline.maxEpochs');
  });

  it('--dry-run prints the plan and writes nothing', async () => {
    const lines: string[] = [];
    const out = path.join(root, 'dry-out');
    await program(lines).parseAsync(
      [
        'train',
        '--data',
        path.join(root, 'data'),
        '--out',
        `file://${out}`,
        '--run',
        'd',
        '--preset',
        'quick',
        '--dry-run',
        '--set',
        'network.convFilters=2,2,2',
        '--set',
        'network.denseUnits=8,8',
      ],
      { from: 'user' },
    );
    expect(process.exitCode).toBeUndefined();
    expect(existsSync(out)).toBe(false);
    const text = lines.join('\n');
    expect(text).toContain('specialists/mouth-bottom-lip');
    expect(text).toMatch(/estimated training time on (wasm|cpu|tensorflow)/);
  });
});
