import {
  CostExplorerClient,
  CostExplorerServiceException,
  GetCostAndUsageCommand,
  LimitExceededException,
  ListCostAllocationTagsCommand,
  UpdateCostAllocationTagsStatusCommand,
} from '@aws-sdk/client-cost-explorer';
import { mockClient } from 'aws-sdk-client-mock';
import {
  activateTag,
  costPeriod,
  getTagActivation,
  getTaggedCostByDayAndService,
} from '../../../ops/aws/cost-explorer';

const ce = mockClient(CostExplorerClient);
const client = new CostExplorerClient({ region: 'us-east-1' });
const noWait = { sleep: async () => {} };
const tag = { key: 'Project', value: 'facepoints' };
const now = new Date('2026-11-29T04:00:00Z');

// Shaped like the documented GetCostAndUsage response: ResultsByTime with Groups keyed by SERVICE.
function day(date: string, estimated: boolean, groups: Array<[string, string]>) {
  const next = new Date(Date.parse(date) + 86400_000).toISOString().slice(0, 10);
  return {
    TimePeriod: { Start: date, End: next },
    Total: {},
    Groups: groups.map(([service, amount]) => ({
      Keys: [service],
      Metrics: { UnblendedCost: { Amount: amount, Unit: 'USD' } },
    })),
    Estimated: estimated,
  };
}

function accessDenied(action: string) {
  return new CostExplorerServiceException({
    name: 'AccessDeniedException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: `User: arn:aws:iam::123456789012:user/dev is not authorized to perform: ${action} on resource: arn:aws:ce:us-east-1:123456789012:/GetCostAndUsage`,
  });
}

beforeEach(() => ce.reset());

test('the period covers the last N days including today, End exclusive', () => {
  expect(costPeriod(7, now)).toEqual({ start: '2026-11-23', end: '2026-11-30' });
  expect(costPeriod(1, now)).toEqual({ start: '2026-11-29', end: '2026-11-30' });
});

test('tagged cost follows NextPageToken across pages, groups by day and service, and drops zero rows', async () => {
  ce.on(GetCostAndUsageCommand)
    .resolvesOnce({
      ResultsByTime: [
        day('2026-11-27', false, [
          ['Amazon Elastic Compute Cloud - Compute', '1.2345'],
          ['Amazon Simple Storage Service', '0'],
        ]),
      ],
      NextPageToken: 'page-2',
      GroupDefinitions: [{ Type: 'DIMENSION', Key: 'SERVICE' }],
    })
    .resolvesOnce({
      ResultsByTime: [
        day('2026-11-28', true, [
          ['Amazon Elastic Compute Cloud - Compute', '2.5'],
          ['AmazonCloudWatch', '0.01'],
        ]),
      ],
    });

  const cost = await getTaggedCostByDayAndService(client, tag, 3, now, noWait);

  expect(cost.rows).toEqual([
    { date: '2026-11-27', service: 'Amazon Elastic Compute Cloud - Compute', usd: 1.2345, estimated: false },
    { date: '2026-11-28', service: 'Amazon Elastic Compute Cloud - Compute', usd: 2.5, estimated: true },
    { date: '2026-11-28', service: 'AmazonCloudWatch', usd: 0.01, estimated: true },
  ]);
  expect(cost.totalUsd).toBeCloseTo(3.7445, 6);
  const calls = ce.commandCalls(GetCostAndUsageCommand);
  expect(calls).toHaveLength(2);
  expect(calls[1]?.args[0].input.NextPageToken).toBe('page-2');
  expect(calls[0]?.args[0].input).toMatchObject({
    TimePeriod: { Start: '2026-11-27', End: '2026-11-30' },
    Granularity: 'DAILY',
    Filter: { Tags: { Key: 'Project', Values: ['facepoints'] } },
    GroupBy: [{ Type: 'DIMENSION', Key: 'SERVICE' }],
  });
});

test('LimitExceededException is retried, then the answer is used', async () => {
  ce.on(GetCostAndUsageCommand)
    .rejectsOnce(new LimitExceededException({ $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }))
    .resolvesOnce({ ResultsByTime: [day('2026-11-29', true, [['AmazonCloudWatch', '0.02']])] });
  const cost = await getTaggedCostByDayAndService(client, tag, 1, now, noWait);
  expect(cost.totalUsd).toBeCloseTo(0.02);
  expect(ce.commandCalls(GetCostAndUsageCommand)).toHaveLength(2);
});

test('throttling that never clears is reported with the action and the attempts', async () => {
  ce.on(GetCostAndUsageCommand).rejects(
    new LimitExceededException({ $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }),
  );
  await expect(getTaggedCostByDayAndService(client, tag, 1, now, { ...noWait, attempts: 3 })).rejects.toThrow(
    'ce:GetCostAndUsage (tag Project=facepoints) is still throttled by AWS after 3 attempts',
  );
  expect(ce.commandCalls(GetCostAndUsageCommand)).toHaveLength(3);
});

test('a missing permission names ce:GetCostAndUsage and how to fix it', async () => {
  ce.on(GetCostAndUsageCommand).rejects(accessDenied('ce:GetCostAndUsage'));
  await expect(getTaggedCostByDayAndService(client, tag, 1, now, noWait)).rejects.toThrow(
    /access denied: your AWS identity lacks the permission ce:GetCostAndUsage .*--profile/,
  );
});

test('tag activation: Active, Inactive, and not yet seen by billing (after paging through)', async () => {
  ce.on(ListCostAllocationTagsCommand).resolves({
    CostAllocationTags: [{ TagKey: 'Project', Type: 'UserDefined', Status: 'Active' }],
  });
  expect(await getTagActivation(client, 'Project', noWait)).toBe('active');

  ce.reset();
  ce.on(ListCostAllocationTagsCommand).resolves({
    CostAllocationTags: [{ TagKey: 'Project', Type: 'UserDefined', Status: 'Inactive' }],
  });
  expect(await getTagActivation(client, 'Project', noWait)).toBe('inactive');

  ce.reset();
  ce.on(ListCostAllocationTagsCommand)
    .resolvesOnce({ CostAllocationTags: [], NextToken: 't2' })
    .resolvesOnce({ CostAllocationTags: [] });
  expect(await getTagActivation(client, 'Project', noWait)).toBe('unseen');
  expect(ce.commandCalls(ListCostAllocationTagsCommand)[1]?.args[0].input).toMatchObject({
    TagKeys: ['Project'],
    NextToken: 't2',
  });
});

test('activating the tag sends Status Active and reports an error entry', async () => {
  ce.on(UpdateCostAllocationTagsStatusCommand).resolves({ Errors: [] });
  await activateTag(client, 'Project', noWait);
  expect(ce.commandCalls(UpdateCostAllocationTagsStatusCommand)[0]?.args[0].input).toEqual({
    CostAllocationTagsStatus: [{ TagKey: 'Project', Status: 'Active' }],
  });

  ce.reset();
  ce.on(UpdateCostAllocationTagsStatusCommand).resolves({
    Errors: [{ TagKey: 'Project', Code: 'TagKeysNotFoundException', Message: 'Tag keys not found' }],
  });
  await expect(activateTag(client, 'Project', noWait)).rejects.toThrow(
    'could not activate cost allocation tag Project: TagKeysNotFoundException: Tag keys not found',
  );
});
