import { callAws, isThrottling } from '../../../ops/aws/call';

const named = (name: string, message: string) => Object.assign(new Error(message), { name });

test('missing credentials say how to provide them', async () => {
  await expect(
    callAws({ action: 's3:ListBucket', target: 's3://b/runs/' }, async () => {
      throw named('CredentialsProviderError', 'Could not load credentials from any providers');
    }),
  ).rejects.toThrow(
    'no usable AWS credentials for s3:ListBucket (s3://b/runs/): run `aws configure` or `aws sso login`, pass --profile NAME',
  );
});

test('retries back off exponentially; other errors pass through untouched', async () => {
  const delays: number[] = [];
  let calls = 0;
  const result = await callAws(
    { action: 'ec2:DescribeInstances' },
    async () => {
      if (++calls < 3) throw named('RequestLimitExceeded', 'Request limit exceeded.');
      return 'ok';
    },
    { baseDelayMs: 100, sleep: async (ms) => void delays.push(ms) },
  );
  expect(result).toBe('ok');
  expect(delays).toEqual([100, 200]);

  const odd = named('InvalidParameterValue', 'bad value');
  await expect(callAws({ action: 'ec2:DescribeInstances' }, async () => Promise.reject(odd))).rejects.toBe(
    odd,
  );
  expect(isThrottling(named('ThrottlingException', 'Rate exceeded'))).toBe(true);
  expect(isThrottling(odd)).toBe(false);
});
