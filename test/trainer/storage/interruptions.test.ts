import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { watchInterruptions } from '../../../trainer/storage/interruptions';

/** A stand-in for the EC2 instance metadata service (IMDSv2) on loopback. */
async function fakeImds() {
  const state = { notice: null as string | null, tokens: 0, polls: 0, rejectedWithoutToken: 0 };
  const server: Server = createServer((req, res) => {
    if (req.method === 'PUT' && req.url === '/latest/api/token') {
      if (!req.headers['x-aws-ec2-metadata-token-ttl-seconds']) return void res.writeHead(400).end();
      state.tokens++;
      return void res.writeHead(200).end(`token-${state.tokens}`);
    }
    if (req.method === 'GET' && req.url === '/latest/meta-data/spot/instance-action') {
      if (!String(req.headers['x-aws-ec2-metadata-token'] ?? '').startsWith('token-')) {
        state.rejectedWithoutToken++;
        return void res.writeHead(401).end();
      }
      state.polls++;
      if (state.notice === null) return void res.writeHead(404).end();
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(state.notice);
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    state,
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('watchInterruptions', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'aborts the signal with reason %s when the process receives it',
    (name) => {
      const logs: string[] = [];
      const w = watchInterruptions({ log: (l) => logs.push(l), pollSpotNotice: false });
      try {
        expect(w.signal.aborted).toBe(false);
        process.emit(name, name);
        expect(w.signal.aborted).toBe(true);
        expect(w.signal.reason).toBe(name);
        expect(logs).toEqual([`interrupted: received ${name}; saving a checkpoint and stopping`]);
      } finally {
        w.dispose();
      }
    },
  );

  it('stops listening after dispose()', () => {
    const w = watchInterruptions({ log: () => {}, pollSpotNotice: false });
    const before = process.listenerCount('SIGTERM');
    w.dispose();
    expect(process.listenerCount('SIGTERM')).toBe(before - 1);
  });

  it('polls IMDSv2 with a session token and aborts with spot-interruption when a notice appears', async () => {
    const imds = await fakeImds();
    const logs: string[] = [];
    const w = watchInterruptions({
      log: (l) => logs.push(l),
      pollSpotNotice: true,
      imdsEndpoint: imds.endpoint,
      pollMs: 50,
    });
    try {
      await until(() => imds.state.polls >= 3);
      expect(w.signal.aborted).toBe(false);
      imds.state.notice = JSON.stringify({ action: 'terminate', time: '2026-11-29T06:00:00Z' });
      await until(() => w.signal.aborted);
      expect(w.signal.reason).toBe('spot-interruption');
      expect(imds.state.tokens).toBe(1);
      expect(imds.state.rejectedWithoutToken).toBe(0);
      expect(logs).toEqual([
        'interrupted: EC2 spot interruption notice (terminate at 2026-11-29T06:00:00Z); saving a checkpoint and stopping',
      ]);
    } finally {
      w.dispose();
      await imds.close();
    }
  });

  it('does not poll unless on EC2, and keeps polling (logging once) when IMDS is unreachable', async () => {
    const imds = await fakeImds();
    const off = watchInterruptions({ log: () => {}, imdsEndpoint: imds.endpoint, pollMs: 20 });
    await new Promise((r) => setTimeout(r, 200));
    off.dispose();
    expect(imds.state.tokens + imds.state.polls).toBe(0);
    await imds.close();

    const logs: string[] = [];
    const w = watchInterruptions({
      log: (l) => logs.push(l),
      pollSpotNotice: true,
      imdsEndpoint: imds.endpoint,
      pollMs: 20,
    });
    await new Promise((r) => setTimeout(r, 300));
    w.dispose();
    expect(w.signal.aborted).toBe(false);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(
      new RegExp(
        `^interruptions: cannot poll the spot notice at ${imds.endpoint} \\(.*\\); will keep trying$`,
      ),
    );
  });

  it('lets a real process finish its work and exit with its own code on SIGTERM', async () => {
    const script = `
      const { watchInterruptions } = require(${JSON.stringify(path.resolve('trainer/storage/interruptions.ts'))});
      const w = watchInterruptions({ log: (l) => console.log(l), pollSpotNotice: false });
      console.log('ready');
      const t = setInterval(() => {}, 1000);
      w.signal.addEventListener('abort', () => { console.log('reason ' + w.signal.reason); clearInterval(t); w.dispose(); process.exitCode = 75; });
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready') && !out.includes('received')) child.kill('SIGTERM');
    });
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(75);
    expect(out).toContain('interrupted: received SIGTERM; saving a checkpoint and stopping');
    expect(out).toContain('reason SIGTERM');
  }, 60_000);
});
