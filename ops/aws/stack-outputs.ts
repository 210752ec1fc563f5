import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { callAwsOrNull, type RetryOptions } from './call';

export interface StackOutputs {
  stackName: string;
  /** `arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/ID`; the account id is read from it. */
  stackId: string;
  status: string;
  outputs: Record<string, string>;
}

/** The stack's outputs by key, or null when no stack of that name exists in the client's region. */
export async function getStackOutputs(
  client: CloudFormationClient,
  stackName: string,
  retry?: RetryOptions,
): Promise<StackOutputs | null> {
  const res = await callAwsOrNull(
    { action: 'cloudformation:DescribeStacks', target: `stack ${stackName}` },
    () => client.send(new DescribeStacksCommand({ StackName: stackName })),
    // CloudFormation reports a missing stack as a ValidationError "Stack with id NAME does not exist".
    (err) => err instanceof Error && err.name === 'ValidationError' && /does not exist/.test(err.message),
    retry,
  );
  const stack = res?.Stacks?.[0];
  if (!stack) return null;
  const outputs: Record<string, string> = {};
  for (const o of stack.Outputs ?? [])
    if (o.OutputKey && o.OutputValue !== undefined) outputs[o.OutputKey] = o.OutputValue;
  return { stackName, stackId: stack.StackId ?? '', status: stack.StackStatus ?? 'UNKNOWN', outputs };
}

/** The account id inside a stack ARN, needed by the Budgets API; null when the ARN has another shape. */
export function accountIdFromArn(arn: string): string | null {
  const parts = arn.split(':');
  const account = parts[4];
  return parts.length >= 6 && account !== undefined && /^\d{12}$/.test(account) ? account : null;
}
