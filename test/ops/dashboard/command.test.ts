import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunSnapshot } from '../../../ops/dashboard/api';
import { FileStore } from '../../../trainer/storage/file-store';
import { RunWriter } from './run-store';

const root = path.resolve(__dirname, '../../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');
const cli = path.join(root, 'cli/main.ts');

let work: string;
beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'facepoints-dashboard-command-'));
});
afterAll(() => fs.rm(work, { recursive: true, force: true }));

describe('facepoints dashboard', () => {
  it('serves the store given with --out on the address it prints, and stops on Ctrl-C', async () => {
    const writer = new RunWriter(new FileStore(path.join(work, 'runs')), '20261203-120000');
    await writer.status({});
    await writer.epochs('baseline', 2);
    const child = spawn(
      tsx,
      [cli, 'dashboard', '--out', `file://${work}/runs`, '--port', '0', '--interval', '5s', '--json'],
      { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    try {
      while (!stdout.includes('}')) {
        if (child.exitCode !== null) throw new Error(`dashboard exited ${child.exitCode}: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const started = JSON.parse(stdout) as { url: string; store: string; intervalSeconds: number };
      expect(started).toEqual({
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/$/),
        store: `file://${work}/runs`,
        intervalSeconds: 5,
      });
      const snap = (await (await fetch(`${started.url}api/run`)).json()) as RunSnapshot;
      expect(snap.runId).toBe('20261203-120000');
      expect(snap.units[0]?.epochs).toEqual([1, 2]);
      expect(await (await fetch(started.url)).text()).toContain('data-interval-seconds="5"');
    } finally {
      // tsx forwards the signal to the CLI's process, as a terminal's Ctrl-C would reach it.
      child.kill('SIGINT');
    }
    const [code] = await once(child, 'exit');
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });
});
