import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunSnapshot, Unreachable } from '../../../ops/dashboard/api';
import { type DashboardServer, startDashboardServer } from '../../../ops/dashboard/server';
import { listRunIds } from '../../../ops/dashboard/snapshot';
import { FileStore } from '../../../trainer/storage/file-store';
import { RunWriter } from './run-store';

let root: string;
let server: DashboardServer;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'facepoints-dashboard-server-'));
  const store = new FileStore(root);
  const older = new RunWriter(store, '20261128-000000');
  await older.status({ state: 'succeeded' });
  await older.report(Buffer.from('\x89PNG fake'));
  const newer = new RunWriter(store, '20261129-000000');
  await newer.status({});
  await newer.epochs('baseline', 4);
  server = await startDashboardServer({
    source: { store, now: () => new Date() },
    defaultRunId: async () => (await listRunIds(store)).at(-1) ?? null,
    intervalSeconds: 7,
    port: 0,
  });
});
afterAll(async () => {
  await server.close();
  await fs.rm(root, { recursive: true, force: true });
});

const get = (p: string) => fetch(new URL(p, server.url));

describe('dashboard server', () => {
  it('listens on 127.0.0.1 only', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('serves the page with its poll interval, and the bundled script with uPlot inside', async () => {
    const page = await (await get('/')).text();
    expect(page).toContain('data-interval-seconds="7"');
    expect(page).not.toMatch(/(src|href)="https?:/);
    const script = await get('/dashboard.js');
    expect(script.headers.get('content-type')).toContain('javascript');
    expect(await script.text()).toContain('u-legend');
  });

  it('shows the newest run unless asked for another', async () => {
    expect(((await (await get('/api/run')).json()) as RunSnapshot).runId).toBe('20261129-000000');
    const older = (await (await get('/api/run?id=20261128-000000')).json()) as RunSnapshot;
    expect(older.summary?.bestModel).toBe('specialists');
  });

  it("serves a run's report picture and refuses ids and names outside the layout", async () => {
    const img = await get('/api/image?run=20261128-000000&name=best-worst');
    expect(img.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await img.arrayBuffer()).toString()).toBe('\x89PNG fake');
    expect((await get('/api/image?run=20261129-000000&name=best-worst')).status).toBe(404);
    expect((await get('/api/image?run=..&name=best-worst')).status).toBe(400);
    expect((await get('/api/image?run=20261128-000000&name=summary')).status).toBe(400);
    expect((await get('/api/run?id=../etc')).status).toBe(400);
  });

  it('says it waits for a first run when the store has none', async () => {
    const empty = await startDashboardServer({
      source: { store: new FileStore(path.join(root, 'empty')), now: () => new Date() },
      defaultRunId: async () => null,
      intervalSeconds: 7,
      port: 0,
    });
    try {
      const answer = (await (await fetch(`${empty.url}api/run`)).json()) as Unreachable;
      expect(answer).toMatchObject({ reconnecting: true, waiting: true });
      expect(answer.error).toBe(
        `no runs in file://${root}/empty yet: start one with facepoints train --out file://${root}/empty`,
      );
    } finally {
      await empty.close();
    }
  });
});
