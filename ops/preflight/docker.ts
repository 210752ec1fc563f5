import type { CommandRunner } from './run-command';

/** The platform the trainer image is built for (docker/Dockerfile, lib/training-stack.ts). */
export const IMAGE_PLATFORM = 'linux/amd64';

export type DockerState =
  | { state: 'ready'; buildxVersion: string; platforms: string[] }
  | { state: 'no-docker'; detail: string }
  | { state: 'no-buildx'; detail: string }
  | { state: 'no-builder'; buildxVersion: string; detail: string }
  | { state: 'no-platform'; buildxVersion: string; platforms: string[] };

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

/**
 * `docker buildx inspect` lists a builder's platforms as `Platforms: linux/amd64, linux/amd64/v2, ...`,
 * a `*` marking the ones set by hand. Only the default node's line is read.
 */
export function parseBuildxPlatforms(inspectOutput: string): string[] {
  const line = inspectOutput.split('\n').find((l) => /^\s*Platforms:/.test(l));
  if (!line) return [];
  return line
    .replace(/^\s*Platforms:/, '')
    .split(',')
    .map((p) => p.trim().replace(/\*$/, ''))
    .filter((p) => p.length > 0);
}

/** What `cdk deploy` needs of Docker: the client, buildx, and a builder that targets linux/amd64. */
export async function inspectDocker(run: CommandRunner): Promise<DockerState> {
  const client = await run('docker', ['version', '--format', '{{.Client.Version}}'], 30_000);
  if (client.code === null) return { state: 'no-docker', detail: firstLine(client.stderr) || 'not found' };
  const buildx = await run('docker', ['buildx', 'version'], 30_000);
  if (buildx.code !== 0)
    return { state: 'no-buildx', detail: firstLine(buildx.stderr || buildx.stdout) || 'no output' };
  const buildxVersion = firstLine(buildx.stdout);
  // --bootstrap starts the builder if it is not running, which is what a build would do anyway.
  const inspect = await run('docker', ['buildx', 'inspect', '--bootstrap'], 120_000);
  if (inspect.code !== 0)
    return {
      state: 'no-builder',
      buildxVersion,
      detail: firstLine(inspect.stderr || inspect.stdout) || 'no output',
    };
  const platforms = parseBuildxPlatforms(inspect.stdout);
  if (!platforms.includes(IMAGE_PLATFORM)) return { state: 'no-platform', buildxVersion, platforms };
  return { state: 'ready', buildxVersion, platforms };
}

export type ImageTagState =
  | { ref: string; state: 'found'; digest: string | null }
  | { ref: string; state: 'missing'; detail: string }
  | { ref: string; state: 'error'; detail: string };

/** Whether a tag still resolves in its registry, and its digest (`docker buildx imagetools inspect`). */
export async function inspectImageTag(run: CommandRunner, ref: string): Promise<ImageTagState> {
  const res = await run('docker', ['buildx', 'imagetools', 'inspect', ref], 60_000);
  if (res.code === 0) {
    const digest = res.stdout.match(/^Digest:\s+(sha256:[0-9a-f]{64})/m)?.[1] ?? null;
    return { ref, state: 'found', digest };
  }
  const detail = firstLine(res.stderr || res.stdout) || `exit code ${res.code ?? 'none'}`;
  // Registries answer a deleted or misspelt tag with "not found" / "manifest unknown".
  if (/not found|manifest unknown|no such manifest/i.test(detail)) return { ref, state: 'missing', detail };
  return { ref, state: 'error', detail };
}
