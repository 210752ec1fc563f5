import {
  BudgetsClient,
  DescribeBudgetCommand,
  DescribeNotificationsForBudgetCommand,
} from '@aws-sdk/client-budgets';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CostExplorerClient,
  GetCostAndUsageCommand,
  ListCostAllocationTagsCommand,
  UpdateCostAllocationTagsStatusCommand,
} from '@aws-sdk/client-cost-explorer';
import {
  DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand,
  DescribeInstancesCommand,
  DescribeSpotPriceHistoryCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetServiceQuotaCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { BatchClient, DescribeJobsCommand, ListJobsCommand } from '@aws-sdk/client-batch';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BUDGET_NAME, STACK_NAMES, TRAINING_LOG_GROUP } from '../../contracts/deployment-names';
import { operatorPolicy, type OperatorPolicyDocument } from '../../ops/operator-policy';
import * as preflightRunner from '../../ops/preflight/run-command';
import { LOOKUP_HEADER, TEST_HEADER, TRAINING_HEADER } from '../../contracts/keypoints';
import { DATA_FILES, DATA_PREFIX } from '../../contracts/run-layout';
import { synthesizedPolicies, TEST_TARGET, type StackPolicies } from '../support/stack-policies';
import {
  describeRequest,
  PolicyEvaluator,
  startStrictS3,
  type Authorization,
  type StrictS3Server,
} from '../support/strict-s3';
import { localS3Client, runStatus, seedRun } from './support/run-fixture';
import { runOperatorCommand } from './support/run-operator';

/**
 * The operator commands run end to end (commander, stack discovery, every service): S3 answers through
 * the strict stand-in with the operator policy, the other services are mocked and their calls recorded.
 * Each call is then evaluated against the policy as IAM would, so the generated policy is proven to be
 * enough, and every action in it to be needed.
 */
const { accountId, region, partition } = TEST_TARGET;
const OPERATOR = `arn:${partition}:iam::${accountId}:user/operator`;
const RUN_ID = '20261129-010000';
const STARTING_RUN = '20261129-020000';
const stackId = (name: string) =>
  `arn:${partition}:cloudformation:${region}:${accountId}:stack/${name}/0c1d2e3f`;

const cfn = mockClient(CloudFormationClient);
const ec2 = mockClient(EC2Client);
const logs = mockClient(CloudWatchLogsClient);
const ce = mockClient(CostExplorerClient);
const budgets = mockClient(BudgetsClient);
const sts = mockClient(STSClient);
const quotas = mockClient(ServiceQuotasClient);
// Only read back for the commands sent, whatever the service.
const batch = mockClient(BatchClient);
const sfn = mockClient(SFNClient);
const mocks: Array<{ calls(): Array<{ args: unknown[] }> }> = [
  cfn,
  ec2,
  logs,
  ce,
  budgets,
  sts,
  quotas,
  batch,
  sfn,
];

let stacks: StackPolicies;
let policy: OperatorPolicyDocument;
let s3: StrictS3Server;
let work: string;
/** Every authorization the commands needed: S3's from the stand-in, the others mapped from the SDK calls. */
/** What the preflight runs printed: they must have found nothing to fix. */
const preflightOutputs: string[] = [];
/** What `facepoints status` printed on the engine=batch deployment. */
let batchStatusOutput = '';
let needed: Array<{ call: string; auth: Omit<Authorization, 'decision' | 'grantedBy'> }>;

/**
 * The IAM action and resource of each SDK command, per the Service Authorization Reference: Budgets'
 * DescribeBudget and DescribeNotificationsForBudget need budgets:ViewBudget on the budget; EC2's
 * describes and Cost Explorer's calls have no resource-level permissions; GetServiceQuota may be limited to
 * the quota; GetCallerIdentity needs no permission at all.
 */
function authorizationsOf(
  name: string,
  input: Record<string, unknown>,
): Array<{ action: string; resource: string }> {
  const ctx = { region, accountId, partition };
  switch (name) {
    case 'DescribeStacksCommand':
      return [{ action: 'cloudformation:DescribeStacks', resource: stackId(String(input.StackName)) }];
    case 'DescribeInstancesCommand':
      return [{ action: 'ec2:DescribeInstances', resource: '*' }];
    case 'DescribeSpotPriceHistoryCommand':
      return [{ action: 'ec2:DescribeSpotPriceHistory', resource: '*' }];
    case 'DescribeInstanceTypesCommand':
      return [{ action: 'ec2:DescribeInstanceTypes', resource: '*' }];
    case 'DescribeInstanceTypeOfferingsCommand':
      return [{ action: 'ec2:DescribeInstanceTypeOfferings', resource: '*' }];
    case 'GetServiceQuotaCommand':
      return [
        {
          action: 'servicequotas:GetServiceQuota',
          resource: `arn:${ctx.partition}:servicequotas:${ctx.region}:${ctx.accountId}:${String(input.ServiceCode)}/${String(input.QuotaCode)}`,
        },
      ];
    case 'GetCallerIdentityCommand':
      return [];
    case 'ListJobsCommand':
      return [{ action: 'batch:ListJobs', resource: '*' }];
    case 'DescribeJobsCommand':
      return [{ action: 'batch:DescribeJobs', resource: '*' }];
    case 'DescribeExecutionCommand':
      return [{ action: 'states:DescribeExecution', resource: String(input.executionArn) }];
    case 'FilterLogEventsCommand':
      return [
        {
          action: 'logs:FilterLogEvents',
          resource: `arn:${ctx.partition}:logs:${ctx.region}:${ctx.accountId}:log-group:${String(input.logGroupName)}`,
        },
      ];
    case 'GetCostAndUsageCommand':
      return [{ action: 'ce:GetCostAndUsage', resource: '*' }];
    case 'ListCostAllocationTagsCommand':
      return [{ action: 'ce:ListCostAllocationTags', resource: '*' }];
    case 'UpdateCostAllocationTagsStatusCommand':
      return [{ action: 'ce:UpdateCostAllocationTagsStatus', resource: '*' }];
    case 'DescribeBudgetCommand':
    case 'DescribeNotificationsForBudgetCommand':
      return [
        {
          action: 'budgets:ViewBudget',
          resource: `arn:${ctx.partition}:budgets::${String(input.AccountId)}:budget/${String(input.BudgetName)}`,
        },
      ];
    default:
      throw new Error(
        `the operator commands sent ${name}, which this test cannot map to an IAM action: add it here and to ops/operator-policy.ts`,
      );
  }
}

/** The needed authorizations that `candidate` (with the bucket policy) does not allow. */
async function refused(candidate: OperatorPolicyDocument): Promise<string[]> {
  const evaluator = new PolicyEvaluator(
    [{ name: 'operator', policy: candidate }],
    stacks.bucketPolicy,
    OPERATOR,
    accountId,
  );
  const out: string[] = [];
  for (const { call, auth } of needed) {
    const a = await evaluator.evaluate(auth.action, auth.resource, auth.context);
    if (a.decision !== 'Allowed') out.push(`${call}: ${auth.action} on ${auth.resource} is ${a.decision}`);
  }
  return [...new Set(out)];
}

const run = runOperatorCommand;

function deployed(): void {
  const stack = (name: string, outputs: Record<string, string>) => ({
    Stacks: [
      {
        StackId: stackId(name),
        StackName: name,
        CreationTime: new Date(),
        StackStatus: 'CREATE_COMPLETE' as const,
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
  cfn
    .on(DescribeStacksCommand, { StackName: STACK_NAMES.persistent })
    .resolves(stack(STACK_NAMES.persistent, { BucketName: stacks.bucket, BudgetName: BUDGET_NAME }));
  cfn.on(DescribeStacksCommand, { StackName: STACK_NAMES.training }).resolves(
    stack(STACK_NAMES.training, {
      RunId: RUN_ID,
      InstanceId: 'i-0abc',
      InstanceType: 'g4dn.xlarge',
      Spot: 'true',
      LogGroupName: TRAINING_LOG_GROUP,
    }),
  );
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [
          {
            InstanceId: 'i-0abc',
            InstanceType: 'g4dn.xlarge',
            InstanceLifecycle: 'spot',
            State: { Name: 'running' },
            LaunchTime: new Date(Date.now() - 3_600_000),
            Placement: { AvailabilityZone: `${region}a` },
          },
        ],
      },
    ],
  });
  ec2.on(DescribeSpotPriceHistoryCommand).resolves({
    SpotPriceHistory: [
      {
        InstanceType: 'g4dn.xlarge',
        AvailabilityZone: `${region}a`,
        SpotPrice: '0.1578',
        Timestamp: new Date(),
      },
    ],
  });
  logs.on(FilterLogEventsCommand).resolves({
    events: [
      {
        logStreamName: `${RUN_ID}/attempt-1`,
        timestamp: Date.now() - 60_000,
        message: 'epoch 3/20',
        eventId: '1',
      },
    ],
  });
  ce.on(ListCostAllocationTagsCommand).resolves({
    CostAllocationTags: [{ TagKey: 'Project', Type: 'UserDefined', Status: 'Active' }],
  });
  ce.on(GetCostAndUsageCommand).resolves({ ResultsByTime: [] });
  ce.on(UpdateCostAllocationTagsStatusCommand).resolves({ Errors: [] });
  budgets.on(DescribeBudgetCommand).resolves({
    Budget: {
      BudgetName: BUDGET_NAME,
      BudgetLimit: { Amount: '40', Unit: 'USD' },
      TimeUnit: 'MONTHLY',
      BudgetType: 'COST',
    },
  });
  budgets.on(DescribeNotificationsForBudgetCommand).resolves({ Notifications: [] });
  // What `facepoints preflight` reads besides the above.
  sts.on(GetCallerIdentityCommand).resolves({ UserId: 'AIDASAMPLE', Account: accountId, Arn: OPERATOR });
  cfn.on(DescribeStacksCommand, { StackName: 'CDKToolkit' }).resolves({
    Stacks: [
      {
        StackId: stackId('CDKToolkit'),
        StackName: 'CDKToolkit',
        CreationTime: new Date(),
        StackStatus: 'UPDATE_COMPLETE',
        Outputs: [{ OutputKey: 'BootstrapVersion', OutputValue: '29' }],
      },
    ],
  });
  quotas.on(GetServiceQuotaCommand).callsFake((input: { QuotaCode: string }) => ({
    Quota: { ServiceCode: 'ec2', QuotaCode: input.QuotaCode, QuotaName: 'G and VT', Value: 8 },
  }));
  ec2.on(DescribeInstanceTypesCommand).resolves({
    InstanceTypes: [{ InstanceType: 'g4dn.xlarge', VCpuInfo: { DefaultVCpus: 4 } }],
  });
  ec2.on(DescribeInstanceTypeOfferingsCommand).resolves({
    InstanceTypeOfferings: [
      { InstanceType: 'g4dn.xlarge', LocationType: 'availability-zone', Location: `${region}a` },
    ],
  });
}

/** The same run on engine=batch: a queue and an execution instead of an instance. */
function deployedOnBatch(): void {
  const executionArn = `arn:${partition}:states:${region}:${accountId}:execution:RunStateMachine4F1C-abc:${RUN_ID}`;
  cfn.on(DescribeStacksCommand, { StackName: STACK_NAMES.training }).resolves({
    Stacks: [
      {
        StackId: stackId(STACK_NAMES.training),
        StackName: STACK_NAMES.training,
        CreationTime: new Date(),
        StackStatus: 'CREATE_COMPLETE' as const,
        Outputs: Object.entries({
          RunId: RUN_ID,
          Engine: 'batch',
          InstanceType: 'g4dn.xlarge',
          Spot: 'true',
          LogGroupName: TRAINING_LOG_GROUP,
          JobQueueName: 'RunQueue-7Hq2',
          ExecutionArn: executionArn,
        }).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
  batch.on(ListJobsCommand).resolves({ jobSummaryList: [{ jobId: 'job-1', jobName: `${RUN_ID}-baseline` }] });
  batch.on(DescribeJobsCommand).resolves({
    jobs: [
      {
        jobId: 'job-1',
        jobName: `${RUN_ID}-baseline`,
        jobQueue: 'RunQueue-7Hq2',
        jobDefinition: 'TrainerDefinition:1',
        status: 'RUNNING',
        startedAt: Date.now() - 600_000,
        parameters: { units: 'baseline' },
      },
    ],
  });
  sfn.on(DescribeExecutionCommand).resolves({
    executionArn,
    stateMachineArn: `arn:${partition}:states:${region}:${accountId}:stateMachine:RunStateMachine4F1C-abc`,
    status: 'RUNNING',
    startDate: new Date(),
  });
}

beforeAll(async () => {
  stacks = synthesizedPolicies();
  policy = operatorPolicy({ accountId, region, bucket: stacks.bucket, partition });
  s3 = await startStrictS3({
    identityPolicies: [{ name: 'operator', policy }],
    bucketPolicy: stacks.bucketPolicy,
    bucket: stacks.bucket,
    accountId,
    principalArn: OPERATOR,
  });
  const admin = localS3Client(s3.upstream.endpoint);
  await seedRun(admin, s3.bucket, RUN_ID, {
    status: runStatus(RUN_ID, { state: 'succeeded', phase: 'done' }),
    finished: true,
  });
  // A run whose trainer has not written its status yet: its status read is a 404 only with ListBucket.
  await seedRun(admin, s3.bucket, STARTING_RUN, { status: null, finished: false });
  const headers = { training: TRAINING_HEADER, test: TEST_HEADER, lookup: LOOKUP_HEADER };
  for (const [kind, file] of Object.entries(DATA_FILES))
    await admin.send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: `${DATA_PREFIX}${file}`,
        Body: `${headers[kind as keyof typeof headers].join(',')}\n1,0\n`,
      }),
    );
  admin.destroy();
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'facepoints-operator-policy-'));
  deployed();

  const saved = { ...process.env };
  Object.assign(process.env, s3.env);
  try {
    await run('status', '--region', region);
    await run('status', '--region', region, '--run', STARTING_RUN);
    await run('logs', '--region', region, '--since', '2h');
    await run('cost', '--region', region, '--days', '3');
    await run('cost', '--region', region, '--activate-tag');
    await run('runs', '--region', region);
    await run('results', '--region', region, '--out', path.join(work, 'results'));
    deployedOnBatch();
    batchStatusOutput = await run('status', '--region', region);
    await run('logs', '--region', region, '--since', '2h');
    await run('cost', '--region', region, '--days', '3');
    deployed();
    // Docker is not what is under test here: it answers as a ready Docker Desktop would.
    const docker = jest.spyOn(preflightRunner, 'runCommand').mockImplementation(async (_program, args) => ({
      code: 0,
      stdout: args[0] === 'buildx' && args[1] === 'inspect' ? 'Platforms: linux/amd64\n' : 'v0.17.1\n',
      stderr: '',
    }));
    try {
      for (const market of ['spot=false', 'spot=true'])
        preflightOutputs.push(
          await run(
            'preflight',
            '--region',
            region,
            '--cost-tags',
            '-c',
            'alertEmail=me@example.com',
            '-c',
            market,
          ),
        );
    } finally {
      docker.mockRestore();
      process.exitCode = undefined;
    }
  } finally {
    for (const k of Object.keys(s3.env)) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }

  needed = [
    ...s3.requests.flatMap((r) =>
      r.authorizations.map((a) => ({
        call: `S3 ${r.operation}`,
        auth: { action: a.action, resource: a.resource, context: a.context },
      })),
    ),
    ...mocks.flatMap((m) =>
      m.calls().flatMap((c) => {
        const command = c.args[0] as { constructor: { name: string }; input: Record<string, unknown> };
        const context = {
          'aws:SecureTransport': 'true',
          'aws:PrincipalArn': OPERATOR,
          'aws:PrincipalAccount': accountId,
        };
        return authorizationsOf(command.constructor.name, command.input).map((a) => ({
          call: command.constructor.name,
          auth: { ...a, context },
        }));
      }),
    ),
  ];
}, 120_000);

afterAll(async () => {
  await s3?.close();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

test('the commands used every service, and S3 refused none of their requests under the operator policy', () => {
  const calls = new Set(needed.map((n) => n.call));
  for (const c of [
    'S3 ListObjectsV2',
    'S3 GetObject',
    'S3 HeadObject',
    'DescribeStacksCommand',
    'DescribeInstancesCommand',
    'DescribeSpotPriceHistoryCommand',
    'FilterLogEventsCommand',
    'ListJobsCommand',
    'DescribeJobsCommand',
    'DescribeExecutionCommand',
    'GetCostAndUsageCommand',
    'ListCostAllocationTagsCommand',
    'UpdateCostAllocationTagsStatusCommand',
    'DescribeBudgetCommand',
    'DescribeNotificationsForBudgetCommand',
    'S3 HeadBucket',
    'GetServiceQuotaCommand',
    'DescribeInstanceTypesCommand',
    'DescribeInstanceTypeOfferingsCommand',
  ]) {
    expect(calls).toContain(c);
  }
  expect(s3.requests.some((r) => r.status === 404)).toBe(true);
  // The one preflight call that needs no permission, so it is not in `needed`.
  expect(sts.commandCalls(GetCallerIdentityCommand).length).toBeGreaterThan(0);
  expect(preflightOutputs).toHaveLength(2);
  expect(batchStatusOutput).toMatch(/execution:\s+RUNNING/);
  expect(batchStatusOutput).toMatch(/baseline\s+RUNNING\s+1\s+job-1/);
  for (const out of preflightOutputs)
    expect(out.trimEnd().split('\n').pop()).toBe('ready to deploy (exit 0)');
  expect(s3.deniedRequests().map(describeRequest)).toEqual([]);
});

test('the operator policy allows every call the commands made', async () => {
  expect(await refused(policy)).toEqual([]);
});

test('every action of the operator policy is needed: without it some call is refused', async () => {
  for (const statement of policy.Statement) {
    for (const action of statement.Action) {
      const without: OperatorPolicyDocument = {
        ...policy,
        Statement: policy.Statement.map((s) =>
          s === statement ? { ...s, Action: s.Action.filter((a) => a !== action) } : s,
        ).filter((s) => s.Action.length > 0),
      };
      const problems = await refused(without);
      expect({ removed: action, refused: problems.some((p) => p.includes(`: ${action} on `)) }).toEqual({
        removed: action,
        refused: true,
      });
    }
  }
});

test("a ListBucket conditioned on the runs/ prefix refuses the 404 of a run without a status, and preflight's HeadBucket and data listing", async () => {
  const conditioned: OperatorPolicyDocument = {
    ...policy,
    Statement: policy.Statement.map((s) =>
      s.Sid === 'ListRuns' ? { ...s, Condition: { StringLike: { 's3:prefix': ['runs/', 'runs/*'] } } } : s,
    ),
  };
  const problems = await refused(conditioned);
  expect(problems.length).toBeGreaterThan(0);
  for (const p of problems)
    expect(p).toMatch(
      new RegExp(
        `^S3 (GetObject|HeadObject|HeadBucket|ListObjectsV2): s3:ListBucket on arn:aws:s3:::${stacks.bucket} is ImplicitlyDenied$`,
      ),
    );
});

test('the defaults name the bucket the synthesized stacks create', () => {
  expect(operatorPolicy({ accountId, region })).toEqual(policy);
});

test('facepoints operator-policy prints the policy, and refuses an account id that is not 12 digits', async () => {
  expect(JSON.parse(await run('operator-policy', '--account', accountId, '--region', region))).toEqual(
    policy,
  );
  await expect(run('operator-policy', '--account', '1234', '--region', region)).rejects.toThrow(
    '--account expects a 12-digit AWS account id, got "1234"',
  );
});
