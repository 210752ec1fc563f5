import { inspectDocker, inspectImageTag, parseBuildxPlatforms } from '../../../ops/preflight/docker';
import type { CommandResult, CommandRunner } from '../../../ops/preflight/run-command';

/** A runner answering by the joined arguments, recording what was run. */
function runner(answers: Record<string, CommandResult>, calls: string[] = []): CommandRunner {
  return async (program, args) => {
    const key = [program, ...args].join(' ');
    calls.push(key);
    return answers[key] ?? { code: 1, stdout: '', stderr: `unexpected ${key}` };
  };
}

const ok = (stdout: string): CommandResult => ({ code: 0, stdout, stderr: '' });
const CLIENT = { 'docker version --format {{.Client.Version}}': ok('27.3.1\n') };
const BUILDX = { 'docker buildx version': ok('github.com/docker/buildx v0.17.1 257815a\n') };
// `docker buildx inspect --bootstrap` of Docker Desktop's default builder on an Apple silicon Mac.
const INSPECT_ARM = `Name:          desktop-linux
Driver:        docker

Nodes:
Name:             desktop-linux
Endpoint:         desktop-linux
Status:           running
BuildKit version: v0.16.0
Platforms:        linux/arm64, linux/amd64, linux/amd64/v2, linux/riscv64, linux/ppc64le, linux/s390x, linux/386, linux/mips64le, linux/mips64, linux/arm/v7, linux/arm/v6
`;

test('buildx platforms are read from the Platforms line', () => {
  expect(parseBuildxPlatforms(INSPECT_ARM)).toContain('linux/amd64');
  expect(parseBuildxPlatforms('Platforms: linux/arm64*, linux/amd64*')).toEqual([
    'linux/arm64',
    'linux/amd64',
  ]);
  expect(parseBuildxPlatforms('Name: x')).toEqual([]);
});

test('ready: client, buildx, and a builder targeting linux/amd64', async () => {
  const calls: string[] = [];
  const run = runner({ ...CLIENT, ...BUILDX, 'docker buildx inspect --bootstrap': ok(INSPECT_ARM) }, calls);
  expect(await inspectDocker(run)).toMatchObject({
    state: 'ready',
    buildxVersion: 'github.com/docker/buildx v0.17.1 257815a',
  });
  expect(calls).toEqual([
    'docker version --format {{.Client.Version}}',
    'docker buildx version',
    'docker buildx inspect --bootstrap',
  ]);
});

test('no docker, no buildx, no daemon, no amd64', async () => {
  expect(
    await inspectDocker(async () => ({ code: null, stdout: '', stderr: 'spawn docker ENOENT' })),
  ).toEqual({
    state: 'no-docker',
    detail: 'spawn docker ENOENT',
  });
  // The plain docker CLI without the plugin, as on this project's machines.
  const noBuildx = runner({
    ...CLIENT,
    'docker buildx version': {
      code: 1,
      stdout: '',
      stderr: "docker: unknown command: docker buildx\n\nRun 'docker --help' for more information\n",
    },
  });
  expect(await inspectDocker(noBuildx)).toEqual({
    state: 'no-buildx',
    detail: 'docker: unknown command: docker buildx',
  });
  const noDaemon = runner({
    ...CLIENT,
    ...BUILDX,
    'docker buildx inspect --bootstrap': {
      code: 1,
      stdout: '',
      stderr:
        'ERROR: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n',
    },
  });
  expect(await inspectDocker(noDaemon)).toMatchObject({
    state: 'no-builder',
    detail: expect.stringContaining('Cannot connect to the Docker daemon'),
  });
  const armOnly = runner({
    ...CLIENT,
    ...BUILDX,
    'docker buildx inspect --bootstrap': ok('Platforms: linux/arm64, linux/arm/v7\n'),
  });
  expect(await inspectDocker(armOnly)).toMatchObject({
    state: 'no-platform',
    platforms: ['linux/arm64', 'linux/arm/v7'],
  });
});

test('an image tag: found with its digest, missing, or not resolved for another reason', async () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  const run = runner({
    'docker buildx imagetools inspect node:22.22.2-bookworm-slim': ok(
      `Name:      docker.io/library/node:22.22.2-bookworm-slim\nMediaType: application/vnd.oci.image.index.v1+json\nDigest:    ${digest}\n\nManifests:\n  Name: docker.io/library/node:22.22.2-bookworm-slim@sha256:${'b'.repeat(64)}\n`,
    ),
    'docker buildx imagetools inspect node:99-gone': {
      code: 1,
      stdout: '',
      stderr: 'ERROR: docker.io/library/node:99-gone: not found\n',
    },
    'docker buildx imagetools inspect quay.io/jupyter/minimal-notebook:2026-04-02': {
      code: 1,
      stdout: '',
      stderr:
        'ERROR: failed to do request: Head "https://quay.io/v2/": dial tcp: lookup quay.io: no such host\n',
    },
  });
  expect(await inspectImageTag(run, 'node:22.22.2-bookworm-slim')).toEqual({
    ref: 'node:22.22.2-bookworm-slim',
    state: 'found',
    digest,
  });
  expect(await inspectImageTag(run, 'node:99-gone')).toEqual({
    ref: 'node:99-gone',
    state: 'missing',
    detail: 'ERROR: docker.io/library/node:99-gone: not found',
  });
  expect(await inspectImageTag(run, 'quay.io/jupyter/minimal-notebook:2026-04-02')).toMatchObject({
    state: 'error',
  });
});
