import type { DeployConfig } from '../../contracts/deploy-config';
import { PROJECT_TAG, STACK_NAMES, resultsBucketName } from '../../contracts/deployment-names';
import { launchInstanceTypes } from '../../contracts/instance-prices';
import { DATA_FILES, DATA_PREFIX } from '../../contracts/run-layout';
import { BOOTSTRAP_STACK_NAME, REQUIRED_BOOTSTRAP_VERSION, getBootstrapStack } from '../aws/bootstrap-stack';
import { type BucketState, listObjectSizes, probeBucket, readObjectStart } from '../aws/bucket-probe';
import { type TagActivation, getTagActivation } from '../aws/cost-explorer';
import {
  type ZoneSpotPrice,
  getDefaultVcpus,
  getOfferedZones,
  getSpotPricesByZone,
} from '../aws/instance-types';
import { GPU_VCPU_QUOTAS, getServiceQuota } from '../aws/service-quotas';
import { getStackOutputs } from '../aws/stack-outputs';
import type { CallerIdentity } from '../aws/sts';
import { formatUsdPerHour } from '../../common/format';
import { formatBytes } from '../format/units';
import { PERMISSION_FIX, type PreflightInputs, TITLES, check, message } from './check';
import { type DataFileCheck, checkLocalDataFiles, checkStoredDataFiles } from './data-files';
import type { PreflightCheck } from './report';

/** Checks of the account and region: read-only calls, each failure worded with its fix. */

function bootstrapFix(identity: CallerIdentity, region: string): string {
  return `npx cdk bootstrap aws://${identity.account}/${region}`;
}

export async function bootstrapCheck(
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
    return check('bootstrap', TITLES.bootstrap, 'fail', message(err), PERMISSION_FIX);
  }
}

export interface CapacityResult {
  quota: PreflightCheck;
  zones: PreflightCheck;
  spot: ZoneSpotPrice | null;
}

export async function capacityChecks(
  inputs: PreflightInputs,
  config: DeployConfig,
  region: string,
): Promise<CapacityResult> {
  const quota = await quotaCheck(inputs, config, region);
  return { quota, ...(await zonesCheck(inputs, config, region)) };
}

/** The running-instance vCPU quota of the type's family and market against what the type needs. */
async function quotaCheck(
  inputs: PreflightInputs,
  config: DeployConfig,
  region: string,
): Promise<PreflightCheck> {
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
    else {
      // A spot fleet may fall back to larger sizes of the family, which need more of the same quota.
      const tooBig: string[] = [];
      for (const larger of config.spot ? launchInstanceTypes(type, true).slice(1) : []) {
        const n = await getDefaultVcpus(ec2, larger, inputs.retry);
        if (n !== null && n > value.value) tooBig.push(`${larger} (${n})`);
      }
      quota = check(
        'quota',
        TITLES.quota,
        'pass',
        `"${q.name}" (${q.quotaCode}) is ${value.value} vCPUs; ${type} needs ${vcpus} (G instances already running count against it)` +
          (tooBig.length > 0
            ? `; the fleet's spot fallbacks ${tooBig.join(', ')} need more than that, so the fleet cannot fall back to them`
            : ''),
      );
    }
  } catch (err) {
    quota = check('quota', TITLES.quota, 'fail', message(err), PERMISSION_FIX);
  }
  return quota;
}

/** The zones that offer the type and, for spot, the newest price in each. */
async function zonesCheck(
  inputs: PreflightInputs,
  config: DeployConfig,
  region: string,
): Promise<{ zones: PreflightCheck; spot: ZoneSpotPrice | null }> {
  const { ec2 } = inputs.clients;
  const type = config.instanceType;
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
    zones = check('zones', TITLES.zones, 'fail', message(err), PERMISSION_FIX);
  }
  return { zones, spot };
}

export async function costTagCheck(
  inputs: PreflightInputs,
  config: DeployConfig | null,
): Promise<{ check: PreflightCheck; activation: TagActivation | null }> {
  const counts = config !== null && config.budgetUsd > 0 && config.budgetScope === 'project';
  const line = (
    activation: TagActivation | null,
    state: PreflightCheck['state'],
    detail: string,
    fix: string | null = null,
  ) => ({ activation, check: check('cost-tag', TITLES['cost-tag'], state, detail, fix) });
  const ce = inputs.clients.costExplorer;
  if (!ce) {
    return counts
      ? line(
          null,
          'warn',
          `budgetScope=project counts only costs tagged ${PROJECT_TAG.key}=${PROJECT_TAG.value}, from the tag's activation on; not checked`,
          'add --cost-tags to check it (Cost Explorer bills $0.01 per request), or -c budgetScope=account',
        )
      : line(
          null,
          'skip',
          `not checked: the budget counts the whole account; --cost-tags checks tag ${PROJECT_TAG.key} ($0.01 per Cost Explorer request)`,
        );
  }
  try {
    const activation = await getTagActivation(ce, PROJECT_TAG.key, inputs.retry);
    if (activation === 'active')
      return line(
        activation,
        'pass',
        `cost allocation tag ${PROJECT_TAG.key} is active: tagged costs are counted`,
      );
    const state =
      activation === 'inactive'
        ? `cost allocation tag ${PROJECT_TAG.key} is inactive`
        : `cost allocation tag ${PROJECT_TAG.key} has not appeared in billing yet (it can be activated up to 24 hours after the first tagged resource exists)`;
    if (!counts)
      return line(activation, 'pass', `${state}; the budget counts the whole account, so it sees this run`);
    return line(
      activation,
      'warn',
      `${state}: the project-scoped budget will not count this run (activation is not retroactive)`,
      activation === 'inactive'
        ? 'npx facepoints cost --activate-tag (counts from then on), or -c budgetScope=account'
        : '-c budgetScope=account for this run; after the deploy, npx facepoints cost --activate-tag',
    );
  } catch (err) {
    return line(null, 'warn', message(err), 'add the permission, or leave out --cost-tags');
  }
}

export async function bucketAndDataChecks(
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
    bucketCheck = check('bucket', TITLES.bucket, 'fail', message(err), PERMISSION_FIX);
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

export async function dataCheck(
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
