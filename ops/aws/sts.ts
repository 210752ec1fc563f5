import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { callAws, type RetryOptions } from './call';

export interface CallerIdentity {
  account: string;
  /** `arn:aws:iam::ACCOUNT:user/NAME`, `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, ... */
  arn: string;
  userId: string;
}

/**
 * Who the credentials belong to. GetCallerIdentity needs no permission (an explicit deny cannot block it),
 * so a failure here means no usable credentials, which callAws words as such.
 */
export async function getCallerIdentity(client: STSClient, retry?: RetryOptions): Promise<CallerIdentity> {
  const res = await callAws(
    { action: 'sts:GetCallerIdentity' },
    () => client.send(new GetCallerIdentityCommand({})),
    retry,
  );
  return { account: res.Account ?? '', arn: res.Arn ?? '', userId: res.UserId ?? '' };
}
