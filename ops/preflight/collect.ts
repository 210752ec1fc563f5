import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import type { STSClient } from '@aws-sdk/client-sts';
import { type DeployConfig, DeployConfigError, parseDeployConfig } from '../../lib/deploy-config';
import { PROJECT_TAG, STACK_NAMES, resultsBucketName } from '../../lib/deployment-names';
import { ON_DEMAND_USD_PER_HOUR, PRICES_AS_OF, PRICES_REGION } from '../../lib/instance-prices';
import { DATA_FILES, DATA_PREFIX } from '../../trainer/run-layout';
import { BOOTSTRAP_STACK_NAME, REQUIRED_BOOTSTRAP_VERSION, getBootstrapStack } from '../aws/bootstrap-stack';
import { type BucketState, listObjectSizes, probeBucket, readObjectStart } from '../aws/bucket-probe';
import type { RetryOptions } from '../aws/call';
import { type TagActivation, getTagActivation } from '../aws/cost-explorer';
import {
  type ZoneSpotPrice,
  getDefaultVcpus,
  getOfferedZones,
  getSpotPricesByZone,
} from '../aws/instance-types';
import { GPU_VCPU_QUOTAS, getServiceQuota } from '../aws/service-quotas';
import { getStackOutputs } from '../aws/stack-outputs';
import { type CallerIdentity, getCallerIdentity } from '../aws/sts';
import { formatBytes, formatUsdPerHour } from '../format/units';
import { SEED_EXPERIMENT } from '../seed-cost';
import { type DataFileCheck, checkLocalDataFiles, checkStoredDataFiles } from './data-files';
import { type DockerState, IMAGE_PLATFORM, inspectDocker, inspectImageTag } from './docker';
import { type ContextValues, unknownContextKeys } from './context';
import {
  type CheckId,
  type PreflightCheck,
  type PreflightReport,
  type RunEstimate,
  verdictOf,
} from './report';
import type { CommandRunner } from './run-command';

export interface PreflightClients {
  sts: STSClient;
  cloudFormation: CloudFormationClient;
  serviceQuotas: ServiceQuotasClient;
  ec2: EC2Client;
  s3: S3Client;
  /** Only with --cost-tags: each Cost Explorer request is billed. */
  costExplorer: CostExplorerClient | null;
}

export interface PreflightInputs {
  /** The merged CDK context (see loadContext), parsed by the app's own parser. */
  context: ContextValues;
  /** The `-c` flags as given, to point out keys the app does not read. */
  contextFlags: string[];
  /** null when no region could be resolved; `regionProblem` says why. */
  region: string | null;
  regionProblem?: string;
  clients: PreflightClients;
  run: CommandRunner;
  /** Base images of docker/Dockerfile; null when the Dockerfile was not found (`dockerfileProblem`). */
  dockerfileImages: string[] | null;
  dockerfileProblem?: string;
  jupyterImage: string;
  strict: boolean;
  now: Date;
  retry?: RetryOptions;
}

function check(
  id: CheckId,
  title: string,
  state: PreflightCheck['state'],
  detail: string,
  fix: string | null = null,
): PreflightCheck {
  return { id, title, state, detail, fix };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function usd(n: number): string {
  return `$${n.toFixed(2)}`;
}

const TITLES: Record<CheckId, string> = {
  config: 'configuration',
  credentials: 'credentials',
  bootstrap: 'CDK bootstrap',
  docker: 'Docker buildx',
  quota: 'GPU vCPU quota',
  zones: 'zones and price',
  'base-images': 'base images',
  'cost-tag': 'cost tag',
  bucket: 'results bucket',
  data: 'Kaggle data',
};

function configCheck(inputs: PreflightInputs): { check: PreflightCheck; config: DeployConfig | null } {
  const unknown = unknownContextKeys(inputs.contextFlags);
  try {
    const config = parseDeployConfig((key) => inputs.context[key], inputs.now);
    const summary =
      `${config.instanceType} ${config.spot ? 'spot' : 'on demand'}, preset ${config.preset}, ` +
      `maxHours ${config.maxHours}, budget ${config.budgetUsd > 0 ? `${usd(config.budgetUsd)}/month (${config.budgetScope})` : 'none'}` +
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

function bootstrapFix(identity: CallerIdentity, region: string): string {
  return `npx cdk bootstrap aws://${identity.account}/${region}`;
}

async function bootstrapCheck(
  inputs: PreflightInputs,
  identity: CallerIdentity,
  region: string,
): Promise<PreflightCheck> {
  const fix = bootstrapFix(identity, region);
  try {
    const stack = await getBootstrapStack(inputs.clients.cloudFormation, inputs.retry);
    if (!stack)
      return check(
        'bootstrap',
        TITLES.bootstrap,
        'fail',
        `no stack ${BOOTSTRAP_STACK_NAME} in ${region}: cdk deploy has nowhere to upload the image and templates`,
        `${fix} (once per account and region)`,
      );
    if (/FAILED$|ROLLBACK_COMPLETE$|^DELETE/.test(stack.status))
      return check(
        'bootstrap',
        TITLES.bootstrap,
        'fail',
        `stack ${BOOTSTRAP_STACK_NAME} is ${stack.status}`,
        `${fix} (after deleting a stack in ROLLBACK_COMPLETE in the CloudFormation console)`,
      );
    if (stack.status.endsWith('_IN_PROGRESS'))
      return check(
        'bootstrap',
        TITLES.bootstrap,
        'warn',
        `stack ${BOOTSTRAP_STACK_NAME} is ${stack.status}`,
        'wait for it to finish, then run preflight again',
      );
    if (stack.version === null || stack.version < REQUIRED_BOOTSTRAP_VERSION)
      return check(
        'bootstrap',
        TITLES.bootstrap,
        'fail',
        `stack ${BOOTSTRAP_STACK_NAME} has bootstrap version ${stack.version ?? 'none (a legacy bootstrap)'}; the stacks need ${REQUIRED_BOOTSTRAP_VERSION} or later`,
        `${fix} (upgrades it in place)`,
      );
    return check(
      'bootstrap',
      TITLES.bootstrap,
      'pass',
      `${BOOTSTRAP_STACK_NAME} version ${stack.version} (${stack.status}); the stacks need ${REQUIRED_BOOTSTRAP_VERSION} or later`,
    );
  } catch (err) {
    return check(
      'bootstrap',
      TITLES.bootstrap,
      'fail',
      message(err),
      'add the permission, or run `npx facepoints operator-policy` for the policy',
    );
  }
}

function dockerCheck(docker: DockerState): PreflightCheck {
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

async function baseImagesCheck(
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
      'choose a tag that exists (`docker buildx imagetools inspect IMAGE:TAG`) and set it in docker/Dockerfile (ARG NODE_IMAGE=...) or lib/jupyter-image.ts',
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

interface CapacityResult {
  quota: PreflightCheck;
  zones: PreflightCheck;
  spot: ZoneSpotPrice | null;
}

async function capacityChecks(
  inputs: PreflightInputs,
  config: DeployConfig,
  region: string,
): Promise<CapacityResult> {
  const { ec2, serviceQuotas } = inputs.clients;
  const type = config.instanceType;
  const q = config.spot ? GPU_VCPU_QUOTAS.spot : GPU_VCPU_QUOTAS.onDemand;
  let quota: PreflightCheck;
  try {
    const vcpus = await getDefaultVcpus(ec2, type, inputs.retry);
    const value = await getServiceQuota(serviceQuotas, q.serviceCode, q.quotaCode, inputs.retry);
    const ask = `Service Quotas console > Amazon EC2 > "${q.name}", or \`aws service-quotas request-service-quota-increase --service-code ${q.serviceCode} --quota-code ${q.quotaCode} --desired-value ${vcpus ?? 4} --region ${region}\``;
    if (vcpus === null)
      quota = check(
        'quota',
        TITLES.quota,
        'fail',
        `EC2 does not know ${type} in ${region}`,
        'choose another instanceType or region',
      );
    else if (value === null)
      quota = check(
        'quota',
        TITLES.quota,
        'warn',
        `"${q.name}" (${q.quotaCode}) has no applied value in ${region}; ${type} needs ${vcpus} vCPUs`,
        `look it up: ${ask.split(', or ')[0]}`,
      );
    else if (value.value < vcpus)
      quota = check(
        'quota',
        TITLES.quota,
        'fail',
        `"${q.name}" (${q.quotaCode}) is ${value.value} vCPUs in ${region}; ${type} needs ${vcpus}: the launch would fail with a vCPU limit error`,
        `ask for at least ${vcpus} vCPUs (approval takes hours to days): ${ask}`,
      );
    else
      quota = check(
        'quota',
        TITLES.quota,
        'pass',
        `"${q.name}" (${q.quotaCode}) is ${value.value} vCPUs; ${type} needs ${vcpus} (G instances already running count against it)`,
      );
  } catch (err) {
    quota = check(
      'quota',
      TITLES.quota,
      'fail',
      message(err),
      'add the permission, or run `npx facepoints operator-policy` for the policy',
    );
  }

  let zones: PreflightCheck;
  let spot: ZoneSpotPrice | null = null;
  try {
    const offered = await getOfferedZones(ec2, type, inputs.retry);
    if (offered.length === 0) {
      zones = check(
        'zones',
        TITLES.zones,
        'fail',
        `${type} is not offered in any zone of ${region}`,
        "choose another region (--region and the deploy's AWS_REGION) or -c instanceType=...",
      );
    } else if (!config.spot) {
      zones = check(
        'zones',
        TITLES.zones,
        'pass',
        `${type} is offered in ${offered.length} zones: ${offered.join(', ')}`,
      );
    } else {
      const prices = (await getSpotPricesByZone(ec2, type, inputs.now, 6, inputs.retry)).filter((p) =>
        offered.includes(p.availabilityZone),
      );
      spot = prices[0] ?? null;
      const listed = prices.map((p) => `${p.availabilityZone} ${formatUsdPerHour(p.usdPerHour)}`).join(', ');
      zones = spot
        ? check(
            'zones',
            TITLES.zones,
            'pass',
            `${type} is offered in ${offered.length} zones: ${offered.join(', ')}; spot price in the last 6 h: ${listed}`,
          )
        : check(
            'zones',
            TITLES.zones,
            'warn',
            `${type} is offered in ${offered.join(', ')}, but EC2 lists no spot price for it there in the last 6 hours`,
            'spot capacity may be scarce: consider -c spot=false, or another region',
          );
    }
  } catch (err) {
    zones = check(
      'zones',
      TITLES.zones,
      'fail',
      message(err),
      'add the permission, or run `npx facepoints operator-policy` for the policy',
    );
  }
  return { quota, zones, spot };
}

async function costTagCheck(
  inputs: PreflightInputs,
  config: DeployConfig | null,
): Promise<{ check: PreflightCheck; activation: TagActivation | null }> {
  const counts = config !== null && config.budgetUsd > 0 && config.budgetScope === 'project';
  const ce = inputs.clients.costExplorer;
  if (!ce) {
    return {
      activation: null,
      check: counts
        ? check(
            'cost-tag',
            TITLES['cost-tag'],
            'warn',
            `budgetScope=project counts only costs tagged ${PROJECT_TAG.key}=${PROJECT_TAG.value}, from the tag's activation on; not checked`,
            'add --cost-tags to check it (Cost Explorer bills $0.01 per request), or -c budgetScope=account',
          )
        : check(
            'cost-tag',
            TITLES['cost-tag'],
            'skip',
            `not checked: the budget counts the whole account; --cost-tags checks tag ${PROJECT_TAG.key} ($0.01 per Cost Explorer request)`,
          ),
    };
  }
  try {
    const activation = await getTagActivation(ce, PROJECT_TAG.key, inputs.retry);
    if (activation === 'active')
      return {
        activation,
        check: check(
          'cost-tag',
          TITLES['cost-tag'],
          'pass',
          `cost allocation tag ${PROJECT_TAG.key} is active: tagged costs are counted`,
        ),
      };
    const state =
      activation === 'inactive'
        ? `cost allocation tag ${PROJECT_TAG.key} is inactive`
        : `cost allocation tag ${PROJECT_TAG.key} has not appeared in billing yet (it can be activated up to 24 hours after the first tagged resource exists)`;
    if (!counts)
      return {
        activation,
        check: check(
          'cost-tag',
          TITLES['cost-tag'],
          'pass',
          `${state}; the budget counts the whole account, so it sees this run`,
        ),
      };
    return {
      activation,
      check: check(
        'cost-tag',
        TITLES['cost-tag'],
        'warn',
        `${state}: the project-scoped budget will not count this run (activation is not retroactive)`,
        activation === 'inactive'
          ? 'npx facepoints cost --activate-tag (counts from then on), or -c budgetScope=account'
          : '-c budgetScope=account for this run; after the deploy, npx facepoints cost --activate-tag',
      ),
    };
  } catch (err) {
    return {
      activation: null,
      check: check(
        'cost-tag',
        TITLES['cost-tag'],
        'warn',
        message(err),
        'add the permission, or leave out --cost-tags',
      ),
    };
  }
}

async function bucketAndDataChecks(
  inputs: PreflightInputs,
  config: DeployConfig | null,
  identity: CallerIdentity,
  region: string,
): Promise<PreflightCheck[]> {
  const bucket = resultsBucketName(identity.account, region);
  const { s3, cloudFormation } = inputs.clients;
  let state: BucketState | null = null;
  let bucketCheck: PreflightCheck;
  try {
    state = (await probeBucket(s3, bucket, inputs.retry)).state;
    if (state === 'free')
      bucketCheck = check(
        'bucket',
        TITLES.bucket,
        'pass',
        `${bucket} is free: stack ${STACK_NAMES.persistent} will create it`,
      );
    else if (state === 'ours') {
      const stack = await getStackOutputs(cloudFormation, STACK_NAMES.persistent, inputs.retry);
      bucketCheck = stack
        ? check(
            'bucket',
            TITLES.bucket,
            'pass',
            `${bucket} exists and belongs to stack ${STACK_NAMES.persistent} (${stack.status})`,
          )
        : check(
            'bucket',
            TITLES.bucket,
            'fail',
            `${bucket} exists (retained from a destroyed ${STACK_NAMES.persistent}), but no stack ${STACK_NAMES.persistent} manages it: a plain deploy fails on the name`,
            'npx cdk deploy --all --import-existing-resources ... adopts it',
          );
    } else if (state === 'forbidden')
      bucketCheck = check(
        'bucket',
        TITLES.bucket,
        'fail',
        `${bucket} exists but HeadBucket is refused (403): its name is in this account's regional namespace, so this identity most likely lacks s3:ListBucket on it`,
        `grant s3:ListBucket on arn:aws:s3:::${bucket} (npx facepoints operator-policy --account ${identity.account} --region ${region})`,
      );
    else
      bucketCheck = check(
        'bucket',
        TITLES.bucket,
        'fail',
        `${bucket} exists in another region (S3 answered 301)`,
        "deploy to the bucket's region with --region, or remove that bucket",
      );
  } catch (err) {
    bucketCheck = check(
      'bucket',
      TITLES.bucket,
      'fail',
      message(err),
      'add the permission, or run `npx facepoints operator-policy` for the policy',
    );
  }
  return [bucketCheck, await dataCheck(inputs, config, bucket, state)];
}

function describeData(files: DataFileCheck[]): string {
  return files
    .map(
      (f) =>
        `${f.file} ${f.sizeBytes === null ? '-' : formatBytes(f.sizeBytes)}: ${f.problem ?? 'header ok'} (${f.location})`,
    )
    .join('\n');
}

async function dataCheck(
  inputs: PreflightInputs,
  config: DeployConfig | null,
  bucket: string,
  state: BucketState | null,
): Promise<PreflightCheck> {
  const fixDir = `download the competition's files (kaggle competitions download -c facial-keypoints-detection; unzip training.zip and test.zip) and pass their folder as -c dataDir=DIR`;
  if (config?.dataDir) {
    const files = await checkLocalDataFiles(config.dataDir);
    const bad = files.some((f) => f.problem !== null);
    return check(
      'data',
      TITLES.data,
      bad ? 'fail' : 'pass',
      `dataDir, uploaded by the deploy:\n${describeData(files)}`,
      bad ? fixDir : null,
    );
  }
  if (state === 'free')
    return check(
      'data',
      TITLES.data,
      'fail',
      `no dataDir, and no bucket yet to hold ${Object.values(DATA_FILES).join(', ')}: the first run would find no data`,
      fixDir,
    );
  if (state !== 'ours')
    return check(
      'data',
      TITLES.data,
      'skip',
      `not checked: the bucket cannot be read (see ${TITLES.bucket})`,
    );
  try {
    const listing = await listObjectSizes(inputs.clients.s3, bucket, DATA_PREFIX, inputs.retry);
    const files = await checkStoredDataFiles(
      listing,
      DATA_PREFIX,
      (key) => `s3://${bucket}/${key}`,
      (key, bytes) => readObjectStart(inputs.clients.s3, bucket, key, bytes, inputs.retry),
    );
    const bad = files.some((f) => f.problem !== null);
    return check(
      'data',
      TITLES.data,
      bad ? 'fail' : 'pass',
      `no dataDir; in the bucket:\n${describeData(files)}`,
      bad ? fixDir : null,
    );
  } catch (err) {
    return check('data', TITLES.data, 'fail', message(err), 'add the permission, or pass -c dataDir=DIR');
  }
}

/** Hours and dollars of the run, bounded by maxHours; the budget's view of it. */
export function estimateRun(
  config: DeployConfig,
  spot: ZoneSpotPrice | null,
  tag: TagActivation | null,
): RunEstimate {
  const onDemand = ON_DEMAND_USD_PER_HOUR[config.instanceType] ?? null;
  const hourly = config.spot ? (spot?.usdPerHour ?? null) : onDemand;
  const cap = (p: number | null) => (p === null ? null : Math.round(p * config.maxHours * 100) / 100);
  const capUsd = cap(hourly);
  let budgetNote: string;
  if (config.budgetUsd === 0) budgetNote = 'no budget (budgetUsd=0): only maxHours limits the cost';
  else if (config.budgetScope === 'project' && tag !== 'active')
    budgetNote = `the budget counts costs tagged ${PROJECT_TAG.key}=${PROJECT_TAG.value} only once the tag is active${tag === null ? ' (not checked: --cost-tags)' : ''}: it may not see this run at all; maxHours still applies`;
  else if (capUsd === null)
    budgetNote = `budget ${usd(config.budgetUsd)}/month; no spot price found to compare it with`;
  else if (capUsd <= config.budgetUsd)
    budgetNote = `the run costs at most ${usd(capUsd)}, under the ${usd(config.budgetUsd)} monthly budget${config.budgetScope === 'account' ? ' (which also counts the rest of the account)' : ''}`;
  else if (config.spot)
    budgetNote = `the run may cost up to ${usd(capUsd)}, above the ${usd(config.budgetUsd)} budget; a spot instance cannot be stopped, so only the alert emails and maxHours apply`;
  else
    budgetNote = `the run may cost up to ${usd(capUsd)}, above the ${usd(config.budgetUsd)} budget: the budget action stops the instance at 100%, after about ${(config.budgetUsd / (hourly ?? 1)).toFixed(1)} h if nothing else is billed`;
  return {
    instanceType: config.instanceType,
    market: config.spot ? 'spot' : 'on-demand',
    preset: config.preset,
    maxHours: config.maxHours,
    expectedHours: null,
    expectedHoursNote:
      `this project has no training speed measured on ${config.instanceType} yet, so only maxHours bounds the run` +
      (config.preset === 'seed'
        ? `; the seed's own run took ${SEED_EXPERIMENT.hours} h on a ${SEED_EXPERIMENT.instanceType}. Once it trains, npx facepoints status shows the measured speed and time left`
        : '; once it trains, npx facepoints status shows the measured speed and time left'),
    onDemandUsdPerHour: onDemand,
    onDemandPriceSource: `${PRICES_REGION} list price of ${PRICES_AS_OF}; other regions differ`,
    spotUsdPerHour: spot?.usdPerHour ?? null,
    spotZone: spot?.availabilityZone ?? null,
    capUsd,
    capOnDemandUsd: cap(onDemand),
    capSpotUsd: cap(spot?.usdPerHour ?? null),
    budgetUsd: config.budgetUsd,
    budgetScope: config.budgetScope,
    budgetNote,
  };
}

/**
 * Every check `cdk deploy` cannot make before it creates something: read-only calls only (no Cost
 * Explorer without --cost-tags), each problem reported with its fix.
 */
export async function collectPreflight(inputs: PreflightInputs): Promise<PreflightReport> {
  const { check: cfg, config } = configCheck(inputs);
  const checks: PreflightCheck[] = [cfg];
  const docker = await inspectDocker(inputs.run);

  let identity: CallerIdentity | null = null;
  if (inputs.region === null) {
    checks.push(
      check(
        'credentials',
        TITLES.credentials,
        'fail',
        inputs.regionProblem ?? 'no AWS region',
        'pass --region or set AWS_REGION (cdk deploy uses the same)',
      ),
    );
  } else {
    try {
      identity = await getCallerIdentity(inputs.clients.sts, inputs.retry);
      checks.push(
        check(
          'credentials',
          TITLES.credentials,
          'pass',
          `account ${identity.account} as ${identity.arn}, region ${inputs.region}`,
        ),
      );
    } catch (err) {
      checks.push(
        check(
          'credentials',
          TITLES.credentials,
          'fail',
          message(err),
          'aws configure, aws sso login, or --profile NAME',
        ),
      );
    }
  }
  const region = inputs.region;
  const needsAws = (id: CheckId) =>
    check(id, TITLES[id], 'skip', 'not checked: needs working credentials and a region');
  const needsConfig = (id: CheckId) =>
    check(id, TITLES[id], 'skip', 'not checked: needs a valid configuration');

  checks.push(identity && region ? await bootstrapCheck(inputs, identity, region) : needsAws('bootstrap'));
  checks.push(dockerCheck(docker));

  let spot: ZoneSpotPrice | null = null;
  if (!identity || !region) checks.push(needsAws('quota'), needsAws('zones'));
  else if (!config) checks.push(needsConfig('quota'), needsConfig('zones'));
  else {
    const capacity = await capacityChecks(inputs, config, region);
    spot = capacity.spot;
    checks.push(capacity.quota, capacity.zones);
  }

  checks.push(await baseImagesCheck(inputs, config, docker));

  let tag: TagActivation | null = null;
  if (identity) {
    const cost = await costTagCheck(inputs, config);
    tag = cost.activation;
    checks.push(cost.check);
  } else checks.push(needsAws('cost-tag'));

  if (identity && region) checks.push(...(await bucketAndDataChecks(inputs, config, identity, region)));
  // A local dataDir needs no AWS to check.
  else
    checks.push(
      needsAws('bucket'),
      config?.dataDir ? await dataCheck(inputs, config, '', null) : needsAws('data'),
    );

  return {
    region,
    account: identity?.account ?? null,
    identityArn: identity?.arn ?? null,
    checks,
    estimate: config ? estimateRun(config, spot, tag) : null,
    ...verdictOf(checks, inputs.strict),
    checkedAt: inputs.now.toISOString(),
  };
}
