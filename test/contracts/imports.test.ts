import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const CONTRACTS = join(__dirname, '../../contracts');

/** Every module specifier a file imports (static imports and re-exports). */
function importsOf(source: string): string[] {
  return [...source.matchAll(/^(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]/gm)].map((m) => m[1] ?? '');
}

describe('contracts', () => {
  const files = readdirSync(CONTRACTS).filter((f) => f.endsWith('.ts'));

  it('holds the shared file formats and facts', () => {
    expect(files.length).toBeGreaterThan(5);
  });

  it.each(files)('%s imports only zod and other contracts files', (file) => {
    const source = readFileSync(join(CONTRACTS, file), 'utf8');
    for (const spec of importsOf(source)) expect(spec === 'zod' || /^\.\/[a-z-]+$/.test(spec)).toBe(true);
  });
});
