import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';

/** The page's script, uPlot included, as the build writes it next to the compiled server. */
export const BUNDLE_FILE = path.join(__dirname, 'page', 'dashboard.js');
/** The uPlot stylesheet, served from the installed package so the page fetches nothing from outside. */
export const UPLOT_CSS = require.resolve('uplot/dist/uPlot.min.css');

/**
 * The compiled program reads the bundle the build wrote; run from source (tsx, the tests) or before the
 * bundle step, it bundles the page now, which needs the build tools (a development install).
 */
export async function clientBundle(): Promise<string> {
  if (__filename.endsWith('.js')) {
    try {
      return await fs.readFile(BUNDLE_FILE, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return bundleClient();
}

/** Bundles ops/dashboard/page/client.ts with uPlot into one browser script (an IIFE, no imports left). */
export async function bundleClient(): Promise<string> {
  let esbuild: typeof import('esbuild');
  try {
    // require, not import(): a dynamic import does not load under jest's CommonJS sandbox.
    esbuild = require('esbuild') as typeof import('esbuild');
  } catch {
    throw new Error(
      `the dashboard page is not built (expected ${BUNDLE_FILE}, found nothing) and esbuild is not installed to build it: run npm run build in a development install`,
    );
  }
  const result = await esbuild.build({
    entryPoints: [path.join(sourceRoot(), 'ops', 'dashboard', 'page', 'client.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  const [out] = result.outputFiles;
  if (!out) throw new Error('esbuild produced no output for the dashboard page');
  return out.text;
}

/** The package's root: the nearest folder above this file with a package.json (the same from ops/ and dist/ops/). */
function sourceRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${__dirname}`);
  }
}
