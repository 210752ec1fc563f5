import { spawn } from 'node:child_process';

export interface CommandResult {
  /** Exit code; null when the program could not be started (not installed) or was killed by the timeout. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program with arguments (no shell); injected so that tests need no Docker. */
export type CommandRunner = (program: string, args: string[], timeoutMs?: number) => Promise<CommandResult>;

export const runCommand: CommandRunner = (program, args, timeoutMs = 60_000) =>
  new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    // Our own timer rather than spawn's `timeout`, whose timer outlives a program that failed to start
    // and would hold the process open that long.
    let timedOut = false;
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const done = (result: CommandResult) => {
      clearTimeout(timer);
      resolve(result);
    };
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', (err) => done({ code: null, stdout, stderr: stderr || err.message }));
    child.on('close', (code) =>
      done({
        code: timedOut ? null : code,
        stdout,
        stderr: timedOut ? `${stderr}timed out after ${timeoutMs} ms` : stderr,
      }),
    );
  });
