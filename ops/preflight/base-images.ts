import { promises as fs } from 'node:fs';

/**
 * The images a build of the Dockerfile pulls: its `# syntax=` frontend (BuildKit pulls it first), the
 * defaults of its `ARG ...IMAGE=` build arguments and every `FROM` that names an image directly (not a
 * build stage, not an `${ARG}`), in file order.
 */
export function dockerfileBaseImages(text: string): string[] {
  const images: string[] = [];
  const stages = new Set<string>();
  const add = (ref: string) => {
    if (!images.includes(ref)) images.push(ref);
  };
  const syntax = text.match(/^#\s*syntax\s*=\s*(\S+)/)?.[1];
  if (syntax !== undefined) add(syntax);
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const argDefault = line.match(/^ARG\s+([A-Za-z0-9_]*IMAGE)=(\S+)/i)?.[2];
    if (argDefault !== undefined) add(argDefault.replace(/^["']|["']$/g, ''));
    const [, ref, stage] = line.match(/^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i) ?? [];
    if (ref !== undefined) {
      if (!ref.includes('$') && !stages.has(ref.toLowerCase()) && ref.toLowerCase() !== 'scratch') add(ref);
      if (stage) stages.add(stage.toLowerCase());
    }
  }
  return images;
}

export async function readDockerfileBaseImages(file: string): Promise<string[]> {
  return dockerfileBaseImages(await fs.readFile(file, 'utf8'));
}
