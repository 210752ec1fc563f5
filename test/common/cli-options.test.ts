import { Command, CommanderError } from 'commander';
import { durationOption, integerOption, usageExit } from '../../common/cli-options';
import { EXIT_USAGE } from '../../contracts/run-status';

describe('integerOption', () => {
  it('accepts digits at or above the minimum', () => {
    expect(integerOption('--rows', { min: 1 })('7049')).toBe(7049);
    expect(integerOption('--seed')('0')).toBe(0);
  });

  it('refuses what is not written as a whole number in digits', () => {
    for (const text of ['seven', '', '1.5', '7.0', '1e3', '0x10', '-1'])
      expect(() => integerOption('--rows')(text)).toThrow(
        `expected --rows to be an integer >= 0, found "${text}"`,
      );
  });

  it('words the error the way the command family does', () => {
    expect(() => integerOption('--rows', { min: 1 })('0')).toThrow(
      'expected --rows to be an integer >= 1, found "0"',
    );
    expect(() => integerOption('--days', { min: 1, wording: 'expects' })('seven')).toThrow(
      '--days expects a positive whole number, got "seven"',
    );
    expect(() => integerOption('--n', { min: 2, wording: 'expects' })('1')).toThrow(
      '--n expects a whole number >= 2, got "1"',
    );
  });

  it('is reported by commander against the option', () => {
    const program = new Command()
      .exitOverride()
      .configureOutput({ writeErr: () => {} })
      .option('--days <n>', 'days', integerOption('--days', { min: 1 }), 7);
    expect(() => program.parse(['--days', '0'], { from: 'user' })).toThrow(
      `option '--days <n>' argument '0' is invalid. expected --days to be an integer >= 1, found "0"`,
    );
  });
});

describe('durationOption', () => {
  it('reads seconds, minutes, hours and days', () => {
    const parse = durationOption('--since');
    expect(parse('90s')).toBe(90);
    expect(parse('15m')).toBe(900);
    expect(parse('1.5h')).toBe(5400);
    expect(parse('3d')).toBe(259200);
    expect(parse('45')).toBe(45);
  });

  it('names the accepted form in either wording', () => {
    expect(() => durationOption('--interval', 'expects')('soon')).toThrow(
      '--interval expects a duration such as 90s, 15m, 2h or 3d, got "soon"',
    );
    expect(() => durationOption('--interval')('soon')).toThrow(
      'expected --interval to be a duration such as 90s, 15m, 2h or 3d, found "soon"',
    );
  });
});

describe('usageExit', () => {
  it('exits with EXIT_USAGE for a usage error and 0 for --help', () => {
    const exit = jest.spyOn(process, 'exit').mockImplementation(((code: number) => {
      throw new Error(`exit ${code}`);
    }) as never);
    try {
      expect(() => usageExit(new CommanderError(1, 'commander.unknownOption', 'unknown'))).toThrow(
        `exit ${EXIT_USAGE}`,
      );
      expect(() => usageExit(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toThrow(
        'exit 0',
      );
    } finally {
      exit.mockRestore();
    }
  });
});
