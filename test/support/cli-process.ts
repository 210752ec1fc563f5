import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'cli/main.ts');

/** A `facepoints` child process and what it has printed so far (stdout and stderr together). */
export interface CliRun {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
  /** Resolves when a line of output matches; rejects if the process exits first. */
  waitFor(pattern: RegExp): Promise<void>;
}

/**
 * `facepoints ARGS` from the sources, as a user runs it, with `env` on top of this process's environment
 * and off EC2. node --import tsx, not npx: signals must reach the trainer itself, not a wrapper process.
 * It runs in the project folder, where tsx resolves, so paths passed should be absolute.
 */
export function startCli(args: string[], env: Record<string, string>): CliRun {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, FACEPOINTS_ON_EC2: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const watchers: Array<{ pattern: RegExp; resolve: () => void }> = [];
  const onData = (d: Buffer) => {
    text += d.toString();
    for (const w of [...watchers]) {
      if (w.pattern.test(text)) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => text,
    exit,
    waitFor: (pattern) =>
      new Promise<void>((resolve, reject) => {
        if (pattern.test(text)) return resolve();
        watchers.push({ pattern, resolve });
        void exit.then((code) => reject(new Error(`exited (${code}) before printing ${pattern}:\n${text}`)));
      }),
  };
}
