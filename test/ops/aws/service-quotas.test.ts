import {
  AccessDeniedException,
  GetServiceQuotaCommand,
  NoSuchResourceException,
  ServiceQuotasClient,
} from '@aws-sdk/client-service-quotas';
import { mockClient } from 'aws-sdk-client-mock';
import { GPU_VCPU_QUOTAS, getServiceQuota } from '../../../ops/aws/service-quotas';

const quotas = mockClient(ServiceQuotasClient);
const client = new ServiceQuotasClient({ region: 'eu-west-1' });
const noWait = { sleep: async () => {} };

beforeEach(() => quotas.reset());

test('the applied value of the on-demand G quota (GetServiceQuota response shape)', async () => {
  quotas.on(GetServiceQuotaCommand, { ServiceCode: 'ec2', QuotaCode: 'L-DB2E81BA' }).resolves({
    Quota: {
      ServiceCode: 'ec2',
      ServiceName: 'Amazon Elastic Compute Cloud (Amazon EC2)',
      QuotaArn: 'arn:aws:servicequotas:eu-west-1:123456789012:ec2/L-DB2E81BA',
      QuotaCode: 'L-DB2E81BA',
      QuotaName: 'Running On-Demand G and VT instances',
      Value: 8,
      Unit: 'None',
      Adjustable: true,
      GlobalQuota: false,
      UsageMetric: {
        MetricNamespace: 'AWS/Usage',
        MetricName: 'ResourceCount',
        MetricDimensions: { Class: 'Standard/OnDemand', Resource: 'vCPU', Service: 'EC2', Type: 'Resource' },
        MetricStatisticRecommendation: 'Maximum',
      },
      QuotaAppliedAtLevel: 'ACCOUNT',
    },
  });
  const q = GPU_VCPU_QUOTAS.onDemand;
  expect(await getServiceQuota(client, q.serviceCode, q.quotaCode, noWait)).toEqual({
    quotaCode: 'L-DB2E81BA',
    name: 'Running On-Demand G and VT instances',
    value: 8,
    unit: 'None',
    adjustable: true,
  });
});

test('a quota with no applied value in the region is null', async () => {
  quotas.on(GetServiceQuotaCommand).rejects(
    new NoSuchResourceException({
      $metadata: { httpStatusCode: 400 },
      message: 'The request failed because the specified service quota does not exist.',
    }),
  );
  expect(await getServiceQuota(client, 'ec2', 'L-3819A6DF', noWait)).toBeNull();
});

test('AccessDenied names the missing permission', async () => {
  quotas.on(GetServiceQuotaCommand).rejects(
    new AccessDeniedException({
      $metadata: { httpStatusCode: 400 },
      message:
        'User: arn:aws:iam::123456789012:user/dev is not authorized to perform: servicequotas:GetServiceQuota',
    }),
  );
  await expect(getServiceQuota(client, 'ec2', 'L-3819A6DF', noWait)).rejects.toThrow(
    'access denied: your AWS identity lacks the permission servicequotas:GetServiceQuota (quota ec2/L-3819A6DF)',
  );
});
