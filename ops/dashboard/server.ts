import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RUN_ID_PATTERN, runLayout } from '../../contracts/run-layout';
import type { Unreachable } from './api';
import { clientBundle, UPLOT_CSS } from './client-bundle';
import { pageHtml } from './page-html';
import { type DashboardSource, runSnapshot, runsSnapshot } from './snapshot';

export interface DashboardServerOptions {
  source: DashboardSource;
  /** The run shown when the page names none; null while the store has no run. */
  defaultRunId: () => Promise<string | null>;
  /** How often the page polls the store. */
  intervalSeconds: number;
  /** 0 picks a free port. */
  port: number;
}

export interface DashboardServer {
  /** `http://127.0.0.1:PORT/` */
  url: string;
  close: () => Promise<void>;
}

/** The report pictures the page may show, by the name it asks for. */
const IMAGES: Record<string, string> = {
  'best-worst': runLayout.bestWorst,
  'learning-curves': runLayout.learningCurves,
};

/**
 * Serves the page and its JSON on 127.0.0.1 only: the page shows a bucket's runs, which must not be
 * reachable from the network. Every answer is read from the store when asked, so a reload is always fresh.
 */
export async function startDashboardServer(opts: DashboardServerOptions): Promise<DashboardServer> {
  const [script, css] = await Promise.all([clientBundle(), fs.readFile(UPLOT_CSS, 'utf8')]);
  const html = pageHtml({ intervalSeconds: opts.intervalSeconds, css });

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', String(err));
      else res.end();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET') return send(res, 405, 'text/plain; charset=utf-8', 'expected GET');
    switch (url.pathname) {
      case '/':
        return send(res, 200, 'text/html; charset=utf-8', html);
      case '/favicon.ico':
        // No icon: an empty answer keeps the browser from logging a 404 on every load.
        res.writeHead(204).end();
        return;
      case '/dashboard.js':
        return send(res, 200, 'text/javascript; charset=utf-8', script);
      case '/api/run': {
        const runId = url.searchParams.get('id') || (await opts.defaultRunId());
        if (runId === null)
          return json(res, 200, {
            reconnecting: true,
            waiting: true,
            error: `no runs in ${opts.source.store.url} yet: start one with facepoints train --out ${opts.source.store.url}`,
            checkedAt: opts.source.now().toISOString(),
          } satisfies Unreachable);
        if (!RUN_ID_PATTERN.test(runId)) return badRunId(res, runId);
        return json(res, 200, await runSnapshot(opts.source, runId));
      }
      case '/api/runs':
        return json(res, 200, await runsSnapshot(opts.source));
      case '/api/image': {
        const runId = url.searchParams.get('run') ?? '';
        const key = IMAGES[url.searchParams.get('name') ?? ''];
        if (!RUN_ID_PATTERN.test(runId)) return badRunId(res, runId);
        if (!key)
          return send(
            res,
            400,
            'text/plain; charset=utf-8',
            `expected name=${Object.keys(IMAGES).join('|')}`,
          );
        const body = await opts.source.store.child(`${runId}/`).get(key);
        if (body === null)
          return send(res, 404, 'text/plain; charset=utf-8', `${key} is not in run ${runId}`);
        return send(res, 200, 'image/png', body);
      }
      default:
        return send(res, 404, 'text/plain; charset=utf-8', `no page at ${url.pathname}`);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function badRunId(res: http.ServerResponse, runId: string): void {
  send(
    res,
    400,
    'text/plain; charset=utf-8',
    `expected a run id matching ${RUN_ID_PATTERN}, found "${runId}"`,
  );
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}
