import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CostExplorerClient, UpdateCostAllocationTagsStatusCommand } from '@aws-sdk/client-cost-explorer';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runLayout } from '../../contracts/run-layout';
import { type LocalS3Server, startS3Server, useLocalS3Env } from '../support/s3-server';
import { localS3Client, runStatus, seedRun } from './support/run-fixture';
import { runOperatorCommand } from './support/run-operator';

const cfn = mockClient(CloudFormationClient);
const ec2 = mockClient(EC2Client);
const logs = mockClient(CloudWatchLogsClient);
const ce = mockClient(CostExplorerClient);
let server: LocalS3Server;
let s3: S3Client;
let restoreEnv: () => void;
const runId = '20261129-010000';

const run = runOperatorCommand;

function stacksDeployed() {
  const stack = (name: string, outputs: Record<string, string>) => ({
    Stacks: [
      {
        StackId: `arn:aws:cloudformation:eu-west-1:123456789012:stack/${name}/0c1d`,
        StackName: name,
        CreationTime: new Date(),
        StackStatus: 'CREATE_COMPLETE' as const,
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
  cfn
    .on(DescribeStacksCommand, { StackName: 'FacepointsData' })
    .resolves(stack('FacepointsData', { BucketName: server.bucket, BudgetName: 'fp' }));
  cfn.on(DescribeStacksCommand, { StackName: 'FacepointsTraining' }).resolves(
    stack('FacepointsTraining', {
      RunId: runId,
      InstanceId: 'i-0abc',
      InstanceType: 'g4dn.xlarge',
      Spot: 'false',
      LogGroupName: '/facepoints/training',
    }),
  );
}

beforeAll(async () => {
  server = await startS3Server({ bucket: 'facepoints-cli' });
  // The SDK's standard variable points every S3 client the commands build at the local server.
  restoreEnv = useLocalS3Env(server);
  s3 = localS3Client(server.endpoint);
  await seedRun(s3, server.bucket, runId, {
    status: runStatus(runId, { state: 'succeeded', phase: 'done' }),
    finished: true,
  });
});
afterAll(async () => {
  restoreEnv?.();
  s3?.destroy();
  await server?.close();
});
beforeEach(() => {
  cfn.reset();
  ec2.reset();
  logs.reset();
  ce.reset();
});

test('runs --json with --endpoint-url and --bucket needs no stacks', async () => {
  const listing = JSON.parse(
    await run('runs', '--endpoint-url', server.endpoint, '--bucket', server.bucket, '--json'),
  );
  expect(listing).toMatchObject([{ runId, state: 'succeeded', bestDevRmsePx: 1.588, hasResults: true }]);
  expect(cfn.calls()).toHaveLength(0);
});

test('status finds bucket, run and instance from the stack outputs', async () => {
  stacksDeployed();
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [
          {
            InstanceId: 'i-0abc',
            InstanceType: 'g4dn.xlarge',
            State: { Name: 'terminated' },
            LaunchTime: new Date('2026-11-29T01:00:00Z'),
            StateTransitionReason: 'User initiated (2026-11-29 02:45:00 GMT)',
          },
        ],
      },
    ],
  });
  const text = await run('status', '--region', 'eu-west-1');
  expect(text).toMatch(new RegExp(`run:\\s+${runId}\\s+\\(s3://${server.bucket}/runs/${runId}/\\)`));
  expect(text).toMatch(/state:\s+succeeded/);
  expect(text).toContain('i-0abc g4dn.xlarge on-demand, terminated');
  expect(text).toMatch(/cost so far:\s+\$0\.92 \(1\.75 h x \$0\.526\/h, on-demand list price/);
});

test('results downloads into --out and prints the summary table', async () => {
  const out = await fs.mkdtemp(path.join(os.tmpdir(), 'facepoints-cli-'));
  try {
    const text = await run(
      'results',
      '--endpoint-url',
      server.endpoint,
      '--bucket',
      server.bucket,
      '--run',
      runId,
      '--out',
      out,
    );
    expect(text).toMatch(/9 files: 9 downloaded/);
    expect(text).toMatch(/specialists\s+1\.588/);
    await expect(fs.stat(path.join(out, runLayout.submission))).resolves.toBeTruthy();
  } finally {
    await fs.rm(out, { recursive: true, force: true });
  }
});

test('logs reads the log group named by the training stack', async () => {
  stacksDeployed();
  logs.on(FilterLogEventsCommand).resolves({
    events: [
      {
        logStreamName: 'i-0abc',
        timestamp: Date.parse('2026-11-29T03:00:00Z'),
        message: 'epoch 3/20 dev RMSE 2.10 px',
        eventId: '1',
      },
    ],
  });
  const text = await run('logs', '--region', 'eu-west-1', '--since', '2h');
  expect(text).toBe('2026-11-29T03:00:00Z  epoch 3/20 dev RMSE 2.10 px\n');
  expect(logs.commandCalls(FilterLogEventsCommand)[0]?.args[0].input.logGroupName).toBe(
    '/facepoints/training',
  );
});

test('cost --activate-tag activates the Project tag', async () => {
  stacksDeployed();
  ce.on(UpdateCostAllocationTagsStatusCommand).resolves({ Errors: [] });
  expect(await run('cost', '--region', 'eu-west-1', '--activate-tag')).toContain(
    'cost allocation tag Project activated',
  );
  expect(
    ce.commandCalls(UpdateCostAllocationTagsStatusCommand)[0]?.args[0].input.CostAllocationTagsStatus,
  ).toEqual([{ TagKey: 'Project', Status: 'Active' }]);
});

test('no deployed stack: the error says to deploy or pass --bucket and --run', async () => {
  cfn.on(DescribeStacksCommand).rejects(
    new CloudFormationServiceException({
      name: 'ValidationError',
      $fault: 'client',
      $metadata: {},
      message: 'Stack with id X does not exist',
    }),
  );
  await expect(run('runs', '--region', 'eu-west-1')).rejects.toThrow(
    'stack FacepointsData not found in eu-west-1: deploy with npx cdk deploy, or pass --bucket and --run',
  );
});

test('invalid option values are refused with the expected form', async () => {
  await expect(run('cost', '--region', 'eu-west-1', '--days', 'seven')).rejects.toThrow(
    '--days expects a positive whole number, got "seven"',
  );
  await expect(run('status', '--region', 'eu-west-1', '--interval', 'soon')).rejects.toThrow(
    '--interval expects a duration such as 90s, 15m, 2h or 3d, got "soon"',
  );
});
