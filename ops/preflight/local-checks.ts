import { formatUsd } from '../../common/format';
import { type DeployConfig, DeployConfigError, parseDeployConfig } from '../../contracts/deploy-config';
import { type PreflightInputs, TITLES, check } from './check';
import { localDataFolders } from '../../common/local-data-folders';
import { unknownContextKeys } from './context';
import { type DockerState, IMAGE_PLATFORM, inspectImageTag } from './docker';
import type { PreflightCheck } from './report';

/** Checks that need no AWS: the configuration, Docker, and the base images' tags. */

export function configCheck(inputs: PreflightInputs): { check: PreflightCheck; config: DeployConfig | null } {
  const unknown = unknownContextKeys(inputs.contextFlags);
  try {
    const config = parseDeployConfig((key) => inputs.context[key], localDataFolders, inputs.now);
    const summary =
      `${config.instanceType} ${config.spot ? 'spot' : 'on demand'}, preset ${config.preset}, ` +
      `maxHours ${config.maxHours}, budget ${config.budgetUsd > 0 ? `${formatUsd(config.budgetUsd)}/month (${config.budgetScope})` : 'none'}` +
      `${config.dataDir ? `, dataDir ${config.dataDir}` : ''}${config.jupyter ? ', jupyter' : ''}`;
    if (unknown.length > 0)
      return {
        config,
        check: check(
          'config',
          TITLES.config,
          'warn',
          `${summary}; the app does not read ${unknown.map((k) => `-c ${k}`).join(', ')} (the CDK ignores unknown keys)`,
          'check the spelling: keys are case-sensitive (see the README, "Deploy")',
        ),
      };
    return { config, check: check('config', TITLES.config, 'pass', summary) };
  } catch (err) {
    if (!(err instanceof DeployConfigError)) throw err;
    return {
      config: null,
      check: check(
        'config',
        TITLES.config,
        'fail',
        err.problems.join('\n'),
        'set the values with -c key=value (or in cdk.json "context"); cdk deploy refuses the same problems',
      ),
    };
  }
}

export function dockerCheck(docker: DockerState): PreflightCheck {
  switch (docker.state) {
    case 'ready':
      return check(
        'docker',
        TITLES.docker,
        'pass',
        `${docker.buildxVersion}; the builder targets ${IMAGE_PLATFORM}`,
      );
    case 'no-docker':
      return check(
        'docker',
        TITLES.docker,
        'fail',
        `no docker command (${docker.detail}): cdk deploy builds the trainer image with it`,
        'install Docker Desktop, or Docker Engine with the buildx plugin (https://docs.docker.com/engine/install/)',
      );
    case 'no-buildx':
      return check(
        'docker',
        TITLES.docker,
        'fail',
        `docker buildx is missing (${docker.detail})`,
        'install the buildx plugin: it comes with Docker Desktop; on Debian/Ubuntu `sudo apt-get install docker-buildx-plugin`',
      );
    case 'no-builder':
      return check(
        'docker',
        TITLES.docker,
        'fail',
        `${docker.buildxVersion}, but its builder does not start: ${docker.detail}`,
        'start the Docker daemon (Docker Desktop, or `sudo systemctl start docker`), then run preflight again',
      );
    case 'no-platform':
      return check(
        'docker',
        TITLES.docker,
        'fail',
        `the builder targets ${docker.platforms.join(', ') || 'no platform'}, not ${IMAGE_PLATFORM}`,
        'install amd64 emulation: `docker run --privileged --rm tonistiigi/binfmt --install amd64` (Docker Desktop has it)',
      );
  }
}

export async function baseImagesCheck(
  inputs: PreflightInputs,
  config: DeployConfig | null,
  docker: DockerState,
): Promise<PreflightCheck> {
  const refs = [...(inputs.dockerfileImages ?? [])];
  // The instance pulls JupyterLab only with jupyter=true.
  if (config === null || config.jupyter) refs.push(inputs.jupyterImage);
  const missingFile =
    inputs.dockerfileImages === null ? `; ${inputs.dockerfileProblem ?? 'docker/Dockerfile not found'}` : '';
  if (docker.state === 'no-docker' || docker.state === 'no-buildx')
    return check(
      'base-images',
      TITLES['base-images'],
      'warn',
      `not checked without docker buildx: ${refs.join(', ')}${missingFile}`,
      `see ${TITLES.docker} above, then run preflight again`,
    );
  const found: string[] = [];
  const missing: string[] = [];
  const unknown: string[] = [];
  for (const ref of refs) {
    const r = await inspectImageTag(inputs.run, ref);
    if (r.state === 'found') found.push(r.digest ? `${ref}@${r.digest}` : ref);
    else if (r.state === 'missing') missing.push(`${ref} (${r.detail})`);
    else unknown.push(`${ref} (${r.detail})`);
  }
  const lines = [
    ...found.map((f) => `resolves: ${f}`),
    ...missing.map((m) => `MISSING: ${m}`),
    ...unknown.map((u) => `not resolved: ${u}`),
  ];
  if (missingFile) lines.push(missingFile.slice(2));
  if (missing.length > 0)
    return check(
      'base-images',
      TITLES['base-images'],
      'fail',
      lines.join('\n'),
      'choose a tag that exists (`docker buildx imagetools inspect IMAGE:TAG`) and set it in docker/Dockerfile (ARG NODE_IMAGE=...) or contracts/jupyter-image.ts',
    );
  if (unknown.length > 0 || missingFile)
    return check(
      'base-images',
      TITLES['base-images'],
      'warn',
      lines.join('\n'),
      'check the network and registry login (`docker login`), then run preflight again',
    );
  return check('base-images', TITLES['base-images'], 'pass', lines.join('\n'));
}
