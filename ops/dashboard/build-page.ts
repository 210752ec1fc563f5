import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BUNDLE_FILE, bundleClient } from './client-bundle';

/** Build step (`npm run build`): writes the page's script, uPlot included, next to the compiled server. */
async function main(): Promise<void> {
  const bundle = await bundleClient();
  await fs.mkdir(path.dirname(BUNDLE_FILE), { recursive: true });
  await fs.writeFile(BUNDLE_FILE, bundle);
  process.stdout.write(`wrote ${path.relative(process.cwd(), BUNDLE_FILE)} (${bundle.length} bytes)\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`build-page: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
