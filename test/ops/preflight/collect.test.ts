import { localDataFolders } from '../../../common/local-data-folders';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ListCostAllocationTagsCommand } from '@aws-sdk/client-cost-explorer';
import { CostExplorerServiceException } from '@aws-sdk/client-cost-explorer';
import {
  DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand,
  DescribeSpotPriceHistoryCommand,
  EC2Client,
  EC2ServiceException,
} from '@aws-sdk/client-ec2';
import { CloudFormationClient, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import {
  HeadBucketCommand,
  ListObjectsV2Command,
  NotFound,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import {
  AccessDeniedException,
  GetServiceQuotaCommand,
  ServiceQuotasClient,
} from '@aws-sdk/client-service-quotas';
import { STSClient } from '@aws-sdk/client-sts';
import { type DeployConfigError, parseDeployConfig } from '../../../contracts/deploy-config';
import { STACK_NAMES } from '../../../contracts/deployment-names';
import { JUPYTER_IMAGE } from '../../../contracts/jupyter-image';
import { type PreflightInputs, collectPreflight } from '../../../ops/preflight/collect';
import { formatPreflight } from '../../../ops/preflight/format';
import {
  CHECK_IDS,
  type CheckId,
  type PreflightCheck,
  PreflightReportSchema,
  type PreflightReport,
} from '../../../ops/preflight/report';
import { LOOKUP_HEADER, TEST_HEADER, TRAINING_HEADER } from '../../../contracts/keypoints';
import {
  ACCOUNT,
  BUCKET,
  NOW,
  REGION,
  cfnMissing,
  csvStart,
  dockerReady,
  dockerWithoutBuildx,
  mocks,
  newAccount,
  readyAccount,
  stack,
} from './support';
import { at } from '../../support/checked';

const BASE_IMAGES = ['docker/dockerfile:1', 'node:22.22.2-bookworm-slim'];
const VALID = { alertEmail: 'me@example.com' };

function inputs(
  over: Partial<PreflightInputs> & { context?: Record<string, unknown> } = {},
): PreflightInputs {
  return {
    context: VALID,
    contextFlags: [],
    region: REGION,
    clients: {
      sts: new STSClient({ region: REGION }),
      cloudFormation: new CloudFormationClient({ region: REGION }),
      serviceQuotas: new ServiceQuotasClient({ region: REGION }),
      ec2: new EC2Client({ region: REGION }),
      s3: new S3Client({ region: REGION }),
      costExplorer: null,
    },
    run: dockerReady(),
    dockerfileImages: BASE_IMAGES,
    jupyterImage: JUPYTER_IMAGE,
    strict: false,
    now: NOW,
    retry: { sleep: async () => {} },
    ...over,
  };
}

/** The report's checks by id; a report that lacks one fails the test by name rather than with a TypeError. */
function byId(r: PreflightReport): Record<CheckId, PreflightCheck> {
  const found = (id: CheckId): PreflightCheck => {
    const check = r.checks.find((c) => c.id === id);
    if (!check)
      throw new Error(`the report has no ${id} check (it has ${r.checks.map((c) => c.id).join(', ')})`);
    return check;
  };
  return Object.fromEntries(CHECK_IDS.map((id) => [id, found(id)])) as Record<CheckId, PreflightCheck>;
}

const denied = {
  ec2: () =>
    new EC2ServiceException({
      name: 'UnauthorizedOperation',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
      message: 'You are not authorized to perform this operation.',
    }),
  cfn: () =>
    new CloudFormationServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
      message: `User: arn:aws:iam::${ACCOUNT}:user/dev is not authorized to perform: cloudformation:DescribeStacks`,
    }),
};

let dir: string;
beforeEach(() => {
  readyAccount();
  dir = mkdtempSync(path.join(os.tmpdir(), 'facepoints-preflight-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('a ready account: every check passes, exit 0, and the JSON matches its schema', async () => {
  const r = await collectPreflight(inputs());
  expect(r.checks.map((c) => [c.id, c.state])).toEqual([
    ['config', 'pass'],
    ['credentials', 'pass'],
    ['bootstrap', 'pass'],
    ['docker', 'pass'],
    ['quota', 'pass'],
    ['zones', 'pass'],
    ['base-images', 'pass'],
    ['cost-tag', 'skip'],
    ['bucket', 'pass'],
    ['data', 'pass'],
  ]);
  expect(r).toMatchObject({ verdict: 'ready', exitCode: 0, account: ACCOUNT, region: REGION });
  expect(PreflightReportSchema.parse(JSON.parse(JSON.stringify(r)))).toEqual(r);
  const c = byId(r);
  expect(c.quota.detail).toBe(
    '"Running On-Demand G and VT instances" (L-DB2E81BA) is 8 vCPUs; g4dn.xlarge needs 4 (G instances already running count against it)',
  );
  expect(c['base-images'].detail).toContain('resolves: node:22.22.2-bookworm-slim@sha256:');
  // JupyterLab is pulled only with jupyter=true.
  expect(c['base-images'].detail).not.toContain('jupyter');
  expect(c.data.detail).toContain(`training.csv 227.0 MiB: header ok (s3://${BUCKET}/data/training.csv)`);
  // No Cost Explorer request without --cost-tags: each is billed.
  expect(mocks.ce.calls()).toHaveLength(0);
  expect(r.estimate).toMatchObject({
    instanceType: 'g4dn.xlarge',
    market: 'on-demand',
    maxHours: 12,
    onDemandUsdPerHour: 0.526,
    capUsd: 6.31,
    capOnDemandUsd: 6.31,
    spotUsdPerHour: null,
    expectedHours: null,
  });
  expect(r.estimate?.budgetNote).toBe(
    'the run costs at most $6.31, under the $50.00 monthly budget (which also counts the rest of the account)',
  );
});

test('a new account: no bootstrap, quota 0, no buildx, no bucket and no data: exit 1, each with its fix', async () => {
  newAccount();
  const r = await collectPreflight(inputs({ run: dockerWithoutBuildx }));
  const c = byId(r);
  expect(r).toMatchObject({ verdict: 'blocked', exitCode: 1 });
  expect(c.bootstrap).toMatchObject({
    state: 'fail',
    detail: `no stack CDKToolkit in ${REGION}: cdk deploy has nowhere to upload the image and templates`,
    fix: `npx cdk bootstrap aws://${ACCOUNT}/${REGION} (once per account and region)`,
  });
  expect(c.quota.state).toBe('fail');
  expect(c.quota.detail).toBe(
    `"Running On-Demand G and VT instances" (L-DB2E81BA) is 0 vCPUs in ${REGION}; g4dn.xlarge needs 4: the launch would fail with a vCPU limit error`,
  );
  expect(c.quota.fix).toContain(
    `aws service-quotas request-service-quota-increase --service-code ec2 --quota-code L-DB2E81BA --desired-value 4 --region ${REGION}`,
  );
  expect(c.docker).toMatchObject({
    state: 'fail',
    detail: 'docker buildx is missing (docker: unknown command: docker buildx)',
  });
  expect(c['base-images']).toMatchObject({ state: 'warn' });
  expect(c['base-images'].detail).toBe(`not checked without docker buildx: ${BASE_IMAGES.join(', ')}`);
  expect(c.bucket).toMatchObject({
    state: 'pass',
    detail: `${BUCKET} is free: stack FacepointsData will create it`,
  });
  expect(c.data.state).toBe('fail');
  expect(c.data.fix).toContain('-c dataDir=DIR');
});

test('spot: the spot quota, the cheapest offered zone, and the cost cap at that price', async () => {
  const r = await collectPreflight(inputs({ context: { ...VALID, spot: 'true', maxHours: '10' } }));
  const c = byId(r);
  expect(
    at(mocks.quotas.commandCalls(GetServiceQuotaCommand), 0, 'a GetServiceQuota call').args[0].input,
  ).toEqual({
    ServiceCode: 'ec2',
    QuotaCode: 'L-3819A6DF',
  });
  expect(c.quota.detail).toBe(
    '"All G and VT Spot Instance Requests" (L-3819A6DF) is 8 vCPUs; g4dn.xlarge needs 4 (G instances already running count against it); the fleet\'s spot fallbacks g4dn.4xlarge (16) need more than that, so the fleet cannot fall back to them',
  );
  expect(c.zones.detail).toBe(
    `g4dn.xlarge is offered in 3 zones: ${REGION}a, ${REGION}b, ${REGION}c; spot price in the last 6 h: ${REGION}b $0.171/h, ${REGION}a $0.1876/h`,
  );
  expect(r.estimate).toMatchObject({
    market: 'spot',
    spotUsdPerHour: 0.171,
    spotZone: `${REGION}b`,
    capUsd: 1.71,
    capOnDemandUsd: 5.26,
  });
});

test('the type offered nowhere in the region fails; no spot price is a warning', async () => {
  mocks.ec2.on(DescribeInstanceTypeOfferingsCommand).resolves({ InstanceTypeOfferings: [] });
  expect(
    byId(await collectPreflight(inputs({ context: { ...VALID, instanceType: 'g5.xlarge' } }))).zones,
  ).toMatchObject({
    state: 'fail',
    detail: `g5.xlarge is not offered in any zone of ${REGION}`,
  });
  readyAccount();
  mocks.ec2.on(DescribeSpotPriceHistoryCommand).resolves({ SpotPriceHistory: [] });
  const r = await collectPreflight(inputs({ context: { ...VALID, spot: 'true' }, strict: true }));
  expect(byId(r).zones.state).toBe('warn');
  expect(r).toMatchObject({ verdict: 'warnings', exitCode: 2 });
  expect(r.estimate?.capUsd).toBeNull();
});

test("an invalid configuration fails with the parser's own problems; checks that need it are skipped", async () => {
  const context = { instanceType: 'g6.xlarge', spot: 'yes', budgetUsd: '20' };
  let expected: string[] = [];
  try {
    parseDeployConfig((k) => (context as Record<string, unknown>)[k], localDataFolders, NOW);
  } catch (err) {
    expected = (err as DeployConfigError).problems;
  }
  expect(expected.length).toBe(3);
  const r = await collectPreflight(inputs({ context }));
  const c = byId(r);
  expect(c.config).toMatchObject({ state: 'fail', detail: expected.join('\n') });
  expect(c.quota).toMatchObject({ state: 'skip', detail: 'not checked: needs a valid configuration' });
  expect(r.estimate).toBeNull();
  expect(r.exitCode).toBe(1);
});

test('an unknown -c key is a warning: the CDK would ignore it silently', async () => {
  const r = await collectPreflight(inputs({ contextFlags: ['instancetype=g5.xlarge'] }));
  expect(byId(r).config).toMatchObject({ state: 'warn' });
  expect(byId(r).config.detail).toContain('the app does not read -c instancetype');
});

test('a legacy or outdated bootstrap stack fails with the upgrade command', async () => {
  mocks.cfn
    .on(DescribeStacksCommand, { StackName: 'CDKToolkit' })
    .resolves(stack('CDKToolkit', 'UPDATE_COMPLETE', { BootstrapVersion: '5' }));
  expect(byId(await collectPreflight(inputs())).bootstrap).toMatchObject({
    state: 'fail',
    detail: 'stack CDKToolkit has bootstrap version 5; the stacks need 6 or later',
    fix: `npx cdk bootstrap aws://${ACCOUNT}/${REGION} (upgrades it in place)`,
  });
});

test('bucket: retained without its stack, forbidden, or in another region', async () => {
  mocks.cfn
    .on(DescribeStacksCommand, { StackName: STACK_NAMES.persistent })
    .rejects(cfnMissing(STACK_NAMES.persistent));
  expect(byId(await collectPreflight(inputs())).bucket).toMatchObject({
    state: 'fail',
    fix: 'npx cdk deploy --all --import-existing-resources ... adopts it',
  });
  readyAccount();
  mocks.s3.on(HeadBucketCommand).rejects(
    new S3ServiceException({
      name: '403',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
      message: 'UnknownError',
    }),
  );
  const forbidden = byId(await collectPreflight(inputs()));
  expect(forbidden.bucket.state).toBe('fail');
  expect(forbidden.bucket.fix).toBe(
    `grant s3:ListBucket on arn:aws:s3:::${BUCKET} (npx facepoints operator-policy --account ${ACCOUNT} --region ${REGION})`,
  );
  expect(forbidden.data.state).toBe('skip');
  readyAccount();
  mocks.s3.on(HeadBucketCommand).rejects(
    new S3ServiceException({
      name: '301',
      $fault: 'client',
      $metadata: { httpStatusCode: 301 },
      message: 'UnknownError',
    }),
  );
  expect(byId(await collectPreflight(inputs())).bucket.detail).toBe(
    `${BUCKET} exists in another region (S3 answered 301)`,
  );
});

test("a local dataDir is checked instead of the bucket: a wrong header fails with the loader's words", async () => {
  writeFileSync(path.join(dir, 'training.csv'), csvStart(TRAINING_HEADER));
  writeFileSync(path.join(dir, 'test.csv'), 'ImageId,Pixels\n1,0');
  writeFileSync(path.join(dir, 'IdLookupTable.csv'), csvStart(LOOKUP_HEADER));
  const c = byId(await collectPreflight(inputs({ context: { ...VALID, dataDir: dir } })));
  expect(c.data.state).toBe('fail');
  expect(c.data.detail).toContain(
    `test.csv 18 B: expected header field 2 to be "Image", found "Pixels" (${path.join(dir, 'test.csv')})`,
  );
  expect(mocks.s3.commandCalls(ListObjectsV2Command)).toHaveLength(0);
  writeFileSync(path.join(dir, 'test.csv'), csvStart(TEST_HEADER));
  expect(byId(await collectPreflight(inputs({ context: { ...VALID, dataDir: dir } }))).data.state).toBe(
    'pass',
  );
});

test('a base image tag deleted upstream fails; the Jupyter image is checked with jupyter=true', async () => {
  const r = await collectPreflight(
    inputs({ run: dockerReady([JUPYTER_IMAGE]), context: { ...VALID, jupyter: 'true' } }),
  );
  const c = byId(r);
  expect(c['base-images'].state).toBe('fail');
  expect(c['base-images'].detail).toContain(`MISSING: ${JUPYTER_IMAGE} (ERROR: ${JUPYTER_IMAGE}: not found)`);
  expect(c['base-images'].fix).toContain('docker buildx imagetools inspect IMAGE:TAG');
});

test('budgetScope=project: a warning without --cost-tags; with it, the tag state and the command that activates it', async () => {
  const context = { ...VALID, budgetScope: 'project' };
  const unchecked = await collectPreflight(inputs({ context, strict: true }));
  expect(byId(unchecked)['cost-tag']).toMatchObject({ state: 'warn' });
  expect(byId(unchecked)['cost-tag'].fix).toContain('add --cost-tags');
  expect(unchecked.exitCode).toBe(2);

  mocks.ce.on(ListCostAllocationTagsCommand).resolves({
    CostAllocationTags: [{ TagKey: 'Project', Type: 'UserDefined', Status: 'Inactive' }],
  });
  const ce = new CostExplorerClient({ region: 'us-east-1' });
  const base = inputs({ context });
  const r = await collectPreflight({ ...base, clients: { ...base.clients, costExplorer: ce } });
  expect(byId(r)['cost-tag']).toMatchObject({
    state: 'warn',
    detail:
      'cost allocation tag Project is inactive: the project-scoped budget will not count this run (activation is not retroactive)',
    fix: 'npx facepoints cost --activate-tag (counts from then on), or -c budgetScope=account',
  });
  expect(
    at(mocks.ce.commandCalls(ListCostAllocationTagsCommand), 0, 'a ListCostAllocationTags call').args[0]
      .input,
  ).toMatchObject({
    TagKeys: ['Project'],
    Type: 'UserDefined',
  });
  expect(r.estimate?.budgetNote).toContain('it may not see this run at all');
});

test('AccessDenied on any call: the line names the missing permission', async () => {
  mocks.cfn.on(DescribeStacksCommand).rejects(denied.cfn());
  mocks.quotas.on(GetServiceQuotaCommand).rejects(
    new AccessDeniedException({
      $metadata: { httpStatusCode: 400 },
      message: 'not authorized to perform: servicequotas:GetServiceQuota',
    }),
  );
  mocks.ec2.on(DescribeInstanceTypeOfferingsCommand).rejects(denied.ec2());
  mocks.s3.on(ListObjectsV2Command).rejects(
    new S3ServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
      message: 'Access Denied',
    }),
  );
  mocks.ce.on(ListCostAllocationTagsCommand).rejects(
    new CostExplorerServiceException({
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: 'not authorized',
    }),
  );
  const base = inputs();
  const r = await collectPreflight({
    ...base,
    clients: { ...base.clients, costExplorer: new CostExplorerClient({ region: 'us-east-1' }) },
  });
  const c = byId(r);
  expect(c.bootstrap.detail).toContain(
    'lacks the permission cloudformation:DescribeStacks (stack CDKToolkit)',
  );
  expect(c.quota.detail).toContain(
    'lacks the permission servicequotas:GetServiceQuota (quota ec2/L-DB2E81BA)',
  );
  expect(c.zones.detail).toContain('lacks the permission ec2:DescribeInstanceTypeOfferings (g4dn.xlarge)');
  expect(c['cost-tag'].detail).toContain('lacks the permission ce:ListCostAllocationTags (tag Project)');
  expect(c.data.detail).toContain(`lacks the permission s3:ListBucket (s3://${BUCKET}/data/)`);
  // The data stack's DescribeStacks is denied too, so the bucket line says so.
  expect(c.bucket.detail).toContain(
    `lacks the permission cloudformation:DescribeStacks (stack ${STACK_NAMES.persistent})`,
  );

  readyAccount();
  mocks.ec2.on(DescribeInstanceTypesCommand).rejects(denied.ec2());
  expect(byId(await collectPreflight(inputs())).quota.detail).toContain(
    'lacks the permission ec2:DescribeInstanceTypes (g4dn.xlarge)',
  );
  readyAccount();
  mocks.ec2.on(DescribeSpotPriceHistoryCommand).rejects(denied.ec2());
  expect(
    byId(await collectPreflight(inputs({ context: { ...VALID, spot: 'true' } }))).zones.detail,
  ).toContain('lacks the permission ec2:DescribeSpotPriceHistory (g4dn.xlarge)');
});

test('no region: the credentials line says how to set one, and the AWS checks are skipped', async () => {
  const r = await collectPreflight(
    inputs({ region: null, regionProblem: 'no AWS region: pass --region or set AWS_REGION' }),
  );
  const c = byId(r);
  expect(c.credentials).toMatchObject({
    state: 'fail',
    detail: 'no AWS region: pass --region or set AWS_REGION',
  });
  expect(c.bootstrap.state).toBe('skip');
  expect(mocks.sts.calls()).toHaveLength(0);
  // A local dataDir is still checked.
  for (const [file, header] of [
    ['training.csv', TRAINING_HEADER],
    ['test.csv', TEST_HEADER],
    ['IdLookupTable.csv', LOOKUP_HEADER],
  ] as const)
    writeFileSync(path.join(dir, file), csvStart(header));
  const local = byId(await collectPreflight(inputs({ region: null, context: { ...VALID, dataDir: dir } })));
  expect(local.data.state).toBe('pass');
});

test('the text lists one line per check with its fix, then the estimate and the verdict', async () => {
  newAccount();
  mocks.s3
    .on(HeadBucketCommand)
    .rejects(new NotFound({ $metadata: { httpStatusCode: 404 }, message: 'UnknownError' }));
  const text = formatPreflight(await collectPreflight(inputs()));
  expect(text).toContain(`facepoints preflight (account ${ACCOUNT}, ${REGION})`);
  expect(text).toMatch(/^FAIL {2}CDK bootstrap {4}no stack CDKToolkit/m);
  expect(text).toMatch(/^ {23}fix: npx cdk bootstrap aws:\/\/123456789012\/eu-west-1/m);
  expect(text).toContain('  cost cap: $6.31 for the instance (12 h; on demand $6.31, spot ?)');
  expect(text.trimEnd().split('\n').pop()).toBe(
    '3 checks failed: cdk deploy would fail; fix them first (exit 1)',
  );
});
