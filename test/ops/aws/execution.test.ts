import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { describeExecution } from '../../../ops/aws/execution';

const sfn = mockClient(SFNClient);
const client = new SFNClient({ region: 'us-east-1' });
const arn = 'arn:aws:states:us-east-1:123456789012:execution:RunStateMachine4F1C-abc:r1';

beforeEach(() => sfn.reset());

test('a failed execution carries its error and cause; a running one has no stop date', async () => {
  sfn.on(DescribeExecutionCommand).resolves({
    executionArn: arn,
    stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:RunStateMachine4F1C-abc',
    name: 'r1',
    status: 'FAILED',
    startDate: new Date('2026-11-29T01:00:00Z'),
    stopDate: new Date('2026-11-29T05:00:00Z'),
    error: 'States.TaskFailed',
    cause: 'Batch job r1-nose-tip failed',
    redriveCount: 0,
    redriveStatus: 'REDRIVABLE',
  });
  expect(await describeExecution(client, arn)).toEqual({
    executionArn: arn,
    status: 'FAILED',
    startDate: new Date('2026-11-29T01:00:00Z'),
    stopDate: new Date('2026-11-29T05:00:00Z'),
    error: 'States.TaskFailed: Batch job r1-nose-tip failed',
  });

  sfn.reset();
  sfn.on(DescribeExecutionCommand).resolves({
    executionArn: arn,
    stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:RunStateMachine4F1C-abc',
    status: 'RUNNING',
    startDate: new Date('2026-11-29T01:00:00Z'),
  });
  expect(await describeExecution(client, arn)).toMatchObject({
    status: 'RUNNING',
    stopDate: null,
    error: null,
  });
});

test('an execution Step Functions no longer knows is null', async () => {
  sfn.on(DescribeExecutionCommand).rejects(
    new ExecutionDoesNotExist({
      $metadata: { httpStatusCode: 400 },
      message: `Execution Does Not Exist: '${arn}'`,
    }),
  );
  expect(await describeExecution(client, arn)).toBeNull();
});
