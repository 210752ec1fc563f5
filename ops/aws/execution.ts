import { DescribeExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { callAwsOrNull, type RetryOptions } from './call';

export interface ExecutionInfo {
  executionArn: string;
  /** RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED or PENDING_REDRIVE. */
  status: string;
  startDate: Date | null;
  stopDate: Date | null;
  /** Why it failed or was stopped: `error: cause`. */
  error: string | null;
}

/** The execution, or null once Step Functions no longer knows it (past its 90-day history). */
export async function describeExecution(
  client: SFNClient,
  executionArn: string,
  retry?: RetryOptions,
): Promise<ExecutionInfo | null> {
  const res = await callAwsOrNull(
    { action: 'states:DescribeExecution', target: `execution ${executionArn}` },
    () => client.send(new DescribeExecutionCommand({ executionArn })),
    (err) => err instanceof Error && err.name === 'ExecutionDoesNotExist',
    retry,
  );
  if (!res) return null;
  const error = [res.error, res.cause].filter(Boolean).join(': ');
  return {
    executionArn,
    status: res.status ?? 'UNKNOWN',
    startDate: res.startDate ? new Date(res.startDate) : null,
    stopDate: res.stopDate ? new Date(res.stopDate) : null,
    error: error || null,
  };
}
