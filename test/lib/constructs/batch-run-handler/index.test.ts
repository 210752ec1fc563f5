import {
  type ExecutionStatus,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { ensureRunning, handler, stopRun } from '../../../../lib/constructs/batch-run-handler';

const stateMachineArn = 'arn:aws:states:eu-west-1:123456789012:stateMachine:RunStateMachine4F1C-abc';
const arnOf = (name: string) =>
  `arn:aws:states:eu-west-1:123456789012:execution:RunStateMachine4F1C-abc:${name}`;
// ListExecutions' documented item shape.
const execution = (name: string, status: ExecutionStatus) => ({
  executionArn: arnOf(name),
  stateMachineArn,
  name,
  status,
  startDate: new Date('2026-12-01T10:00:00Z'),
});
const run = { stateMachineArn, runId: 'run.2' };

const sfnMock = mockClient(SFNClient);
const sfn = new SFNClient({ region: 'eu-west-1' });

beforeEach(() => sfnMock.reset());

describe('ensureRunning', () => {
  it('starts nothing when an execution of the run id runs, and returns that one', async () => {
    sfnMock
      .on(ListExecutionsCommand, { stateMachineArn, statusFilter: 'RUNNING' })
      .resolves({ executions: [execution('other-1', 'RUNNING'), execution('run.2-1', 'RUNNING')] });
    await expect(ensureRunning(sfn, run)).resolves.toEqual({
      executionArn: arnOf('run.2-1'),
      started: false,
    });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('resumes a run whose executions failed or were stopped as <runId>-<n+1>, counting every page', async () => {
    sfnMock.on(ListExecutionsCommand, { statusFilter: 'RUNNING' }).resolves({ executions: [] });
    sfnMock
      .on(ListExecutionsCommand, { stateMachineArn, statusFilter: undefined, nextToken: undefined })
      .resolves({
        executions: [execution('run.2', 'FAILED'), execution('run.20-1', 'SUCCEEDED')],
        nextToken: 't',
      })
      .on(ListExecutionsCommand, { stateMachineArn, statusFilter: undefined, nextToken: 't' })
      .resolves({ executions: [execution('run.2-2', 'ABORTED'), execution('run.2-x', 'FAILED')] });
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: arnOf('run.2-3'), startDate: new Date() });
    await expect(ensureRunning(sfn, run)).resolves.toEqual({ executionArn: arnOf('run.2-3'), started: true });
    expect(sfnMock.commandCalls(StartExecutionCommand).map((c) => c.args[0].input)).toEqual([
      { stateMachineArn, name: 'run.2-3' },
    ]);
  });

  it('starts <runId>-1 for a new run id', async () => {
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [execution('run.1-1', 'SUCCEEDED')] });
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: arnOf('run.2-1'), startDate: new Date() });
    await ensureRunning(sfn, run);
    expect(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.name).toBe('run.2-1');
  });

  it('starts nothing for a run that already succeeded, and returns that execution', async () => {
    sfnMock.on(ListExecutionsCommand, { statusFilter: 'RUNNING' }).resolves({ executions: [] });
    sfnMock
      .on(ListExecutionsCommand, { statusFilter: undefined })
      .resolves({ executions: [execution('run.2-2', 'SUCCEEDED'), execution('run.2-1', 'FAILED')] });
    await expect(ensureRunning(sfn, run)).resolves.toEqual({
      executionArn: arnOf('run.2-2'),
      started: false,
    });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});

describe('stopRun', () => {
  it('stops the running executions of the run id only, and ignores one that no longer exists', async () => {
    sfnMock.on(ListExecutionsCommand, { statusFilter: 'RUNNING' }).resolves({
      executions: [
        execution('run.2-2', 'RUNNING'),
        execution('run.2', 'RUNNING'),
        execution('run.3-1', 'RUNNING'),
      ],
    });
    const gone = Object.assign(new Error('gone'), { name: 'ExecutionDoesNotExist' });
    sfnMock.on(StopExecutionCommand, { executionArn: arnOf('run.2') }).rejects(gone);
    sfnMock.on(StopExecutionCommand, { executionArn: arnOf('run.2-2') }).resolves({ stopDate: new Date() });
    await expect(stopRun(sfn, run)).resolves.toEqual([arnOf('run.2-2')]);
    expect(sfnMock.commandCalls(StopExecutionCommand).map((c) => c.args[0].input.executionArn)).toEqual([
      arnOf('run.2-2'),
      arnOf('run.2'),
    ]);
  });

  it('fails on any other error, so the delete does not report success with the run still going', async () => {
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [execution('run.2-1', 'RUNNING')] });
    sfnMock
      .on(StopExecutionCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(stopRun(sfn, run)).rejects.toThrow('denied');
  });
});

describe('handler', () => {
  it('keeps the run id as physical id and returns the execution on Update', async () => {
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [execution('run.2-1', 'RUNNING')] });
    await expect(
      handler({ RequestType: 'Update', PhysicalResourceId: 'run.2', ResourceProperties: { ...run } }, sfn),
    ).resolves.toEqual({ PhysicalResourceId: 'run.2', Data: { executionArn: arnOf('run.2-1') } });
  });

  it('stops the run on Delete and starts nothing', async () => {
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [execution('run.2-1', 'RUNNING')] });
    sfnMock.on(StopExecutionCommand).resolves({ stopDate: new Date() });
    await expect(
      handler({ RequestType: 'Delete', PhysicalResourceId: 'run.2', ResourceProperties: { ...run } }, sfn),
    ).resolves.toEqual({ PhysicalResourceId: 'run.2' });
    expect(sfnMock.commandCalls(StopExecutionCommand)).toHaveLength(1);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('names the missing property', async () => {
    await expect(
      handler({ RequestType: 'Create', ResourceProperties: { stateMachineArn } }, sfn),
    ).rejects.toThrow('ResourceProperties.runId: expected a non-empty string, found undefined');
  });
});
