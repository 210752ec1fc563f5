import { Command } from 'commander';
import { registerOperatorCommands } from '../../../ops/commands';

/** `facepoints ARGS...` through commander as the CLI registers the operator commands; returns stdout. */
export async function runOperatorCommand(...args: string[]): Promise<string> {
  const program = new Command('facepoints').exitOverride();
  registerOperatorCommands(program);
  let out = '';
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  });
  try {
    await program.parseAsync(['node', 'facepoints', ...args]);
  } finally {
    spy.mockRestore();
  }
  return out;
}
