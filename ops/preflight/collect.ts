import type { ZoneSpotPrice } from '../aws/instance-types';
import type { TagActivation } from '../aws/cost-explorer';
import { type CallerIdentity, getCallerIdentity } from '../aws/sts';
import {
  bootstrapCheck,
  bucketAndDataChecks,
  capacityChecks,
  costTagCheck,
  dataCheck,
} from './account-checks';
import { type PreflightInputs, TITLES, check, message } from './check';
import { inspectDocker } from './docker';
import { estimateRun } from './estimate';
import { baseImagesCheck, configCheck, dockerCheck } from './local-checks';
import { type CheckId, type PreflightCheck, type PreflightReport, verdictOf } from './report';

export type { PreflightClients, PreflightInputs } from './check';
export { estimateRun } from './estimate';

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
