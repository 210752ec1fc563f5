import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { STACK_NAMES } from '../../contracts/deployment-names';
import { AwsClients } from '../../ops/aws/clients';
import { accountIdFromArn } from '../../ops/aws/stack-outputs';
import { discoverDeployment, requireBucket, requireTrainingOutput } from '../../ops/deployment';

const cfn = mockClient(CloudFormationClient);

function missing(name: string) {
  return new CloudFormationServiceException({
    name: 'ValidationError',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: `Stack with id ${name} does not exist`,
  });
}

// Shaped like the documented DescribeStacks response.
function stack(name: string, outputs: Record<string, string>) {
  return {
    Stacks: [
      {
        StackId: `arn:aws:cloudformation:eu-west-1:123456789012:stack/${name}/5b1e7a10-ce0b-11f0-9d1e-0a1b2c3d4e5f`,
        StackName: name,
        CreationTime: new Date('2026-11-29T01:00:00Z'),
        StackStatus: 'CREATE_COMPLETE' as const,
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({
          OutputKey,
          OutputValue,
          Description: OutputKey,
        })),
      },
    ],
  };
}

const clients = () => new AwsClients({ region: 'eu-west-1' });
beforeEach(() => cfn.reset());

test('outputs of both stacks fill the deployment; flags win over them', async () => {
  cfn
    .on(DescribeStacksCommand, { StackName: STACK_NAMES.persistent })
    .resolves(stack('FacepointsData', { BucketName: 'fp-bucket', BudgetName: 'fp-budget' }));
  cfn.on(DescribeStacksCommand, { StackName: STACK_NAMES.training }).resolves(
    stack('FacepointsTraining', {
      RunId: '20261129-010000',
      InstanceId: 'i-0abc',
      InstanceType: 'g4dn.xlarge',
      Spot: 'true',
      LogGroupName: '/facepoints/training',
    }),
  );
  const dep = await discoverDeployment(clients(), {});
  expect(dep).toMatchObject({
    region: 'eu-west-1',
    bucket: 'fp-bucket',
    runId: '20261129-010000',
    stackRunId: '20261129-010000',
    instanceId: 'i-0abc',
    spot: true,
    logGroupName: '/facepoints/training',
    budgetName: 'fp-budget',
    accountId: '123456789012',
    stacks: { data: true, training: true },
  });
  const overridden = await discoverDeployment(clients(), { bucket: 'other', run: 'older-run' });
  expect(overridden.bucket).toBe('other');
  expect(overridden.runId).toBe('older-run');
  expect(overridden.stackRunId).toBe('20261129-010000');
});

test('missing stacks lead to messages that say how to fix it', async () => {
  cfn.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => {
    throw missing(input.StackName);
  });
  const dep = await discoverDeployment(clients(), {});
  expect(dep.stacks).toEqual({ data: false, training: false });
  expect(() => requireBucket(dep)).toThrow(
    'stack FacepointsData not found in eu-west-1: deploy with npx cdk deploy, or pass --bucket and --run',
  );
  expect(() => requireTrainingOutput(dep, dep.logGroupName, 'LogGroupName', 'pass --log-group')).toThrow(
    'stack FacepointsTraining not found in eu-west-1: deploy it with npx cdk deploy FacepointsTraining',
  );
  expect(requireBucket(await discoverDeployment(clients(), { bucket: 'given' }))).toBe('given');
});

test('--endpoint-url skips CloudFormation entirely', async () => {
  const dep = await discoverDeployment(
    new AwsClients({ region: 'us-east-1', s3Endpoint: 'http://127.0.0.1:9' }),
    { endpointUrl: 'http://127.0.0.1:9', bucket: 'b' },
  );
  expect(dep.stacks).toBeNull();
  expect(cfn.commandCalls(DescribeStacksCommand)).toHaveLength(0);
  expect(() => requireTrainingOutput(dep, null, 'LogGroupName', 'pass --log-group')).toThrow(
    '--endpoint-url skips the stacks, so LogGroupName is unknown: pass --log-group',
  );
});

test('a missing cloudformation:DescribeStacks permission is named', async () => {
  cfn.on(DescribeStacksCommand).rejects(
    new CloudFormationServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
      message: 'User is not authorized to perform: cloudformation:DescribeStacks',
    }),
  );
  await expect(discoverDeployment(clients(), {})).rejects.toThrow(
    /lacks the permission cloudformation:DescribeStacks \(stack Facepoints/,
  );
});

test('account id from a stack ARN', () => {
  expect(accountIdFromArn('arn:aws:cloudformation:eu-west-1:123456789012:stack/X/abc')).toBe('123456789012');
  expect(accountIdFromArn('not-an-arn')).toBeNull();
});

test('an engine=batch training stack yields its queue and execution, and no instance', async () => {
  cfn
    .on(DescribeStacksCommand, { StackName: STACK_NAMES.persistent })
    .resolves(stack('FacepointsData', { BucketName: 'fp-bucket' }));
  cfn.on(DescribeStacksCommand, { StackName: STACK_NAMES.training }).resolves(
    stack('FacepointsTraining', {
      RunId: 'r1',
      Engine: 'batch',
      InstanceType: 'g4dn.xlarge,g5.xlarge',
      Spot: 'true',
      JobQueueName: 'RunQueue-7Hq2',
      StateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:RunStateMachine4F1C-abc',
      ExecutionArn: 'arn:aws:states:eu-west-1:123456789012:execution:RunStateMachine4F1C-abc:r1',
    }),
  );
  expect(await discoverDeployment(clients(), {})).toMatchObject({
    engine: 'batch',
    instanceId: null,
    jobQueueName: 'RunQueue-7Hq2',
    executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:RunStateMachine4F1C-abc:r1',
  });
});
