import { GetCallerIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { getCallerIdentity } from '../../../ops/aws/sts';

const sts = mockClient(STSClient);
const client = new STSClient({ region: 'eu-west-1' });
const noWait = { sleep: async () => {} };

beforeEach(() => sts.reset());

test('the account and ARN of the credentials (GetCallerIdentity response shape)', async () => {
  sts.on(GetCallerIdentityCommand).resolves({
    UserId: 'AIDASAMPLEUSERID',
    Account: '123456789012',
    Arn: 'arn:aws:iam::123456789012:user/DevAdmin',
    $metadata: { httpStatusCode: 200, requestId: '01234567-89ab-cdef-0123-456789abcdef' },
  });
  expect(await getCallerIdentity(client, noWait)).toEqual({
    account: '123456789012',
    arn: 'arn:aws:iam::123456789012:user/DevAdmin',
    userId: 'AIDASAMPLEUSERID',
  });
});

test('expired credentials become a message that says how to log in again', async () => {
  sts.on(GetCallerIdentityCommand).rejects(
    new STSServiceException({
      name: 'ExpiredToken',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: 'The security token included in the request is expired',
    }),
  );
  await expect(getCallerIdentity(client, noWait)).rejects.toThrow(
    'no usable AWS credentials for sts:GetCallerIdentity: run `aws configure` or `aws sso login`',
  );
});
