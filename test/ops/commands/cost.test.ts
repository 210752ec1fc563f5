import { BatchClient, DescribeJobsCommand, ListJobsCommand } from '@aws-sdk/client-batch';
import {
  BudgetsClient,
  DescribeBudgetCommand,
  DescribeNotificationsForBudgetCommand,
} from '@aws-sdk/client-budgets';
import {
  CostExplorerClient,
  CostExplorerServiceException,
  GetCostAndUsageCommand,
  ListCostAllocationTagsCommand,
} from '@aws-sdk/client-cost-explorer';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { collectCost, type CostSources, formatCost } from '../../../ops/commands/cost';
import { ON_DEMAND_USD_PER_HOUR } from '../../../contracts/instance-prices';
import { DESCRIBE_JOBS, LIST_JOBS } from '../aws/fixtures/batch-jobs';

const ec2 = mockClient(EC2Client);
const ce = mockClient(CostExplorerClient);
const budgets = mockClient(BudgetsClient);
const now = new Date('2026-11-29T04:00:00Z');

function sources(overrides: Partial<CostSources> = {}): CostSources {
  return {
    ec2: new EC2Client({ region: 'us-east-1' }),
    costExplorer: new CostExplorerClient({ region: 'us-east-1' }),
    budgets: new BudgetsClient({ region: 'us-east-1' }),
    instanceId: 'i-0abc',
    accountId: '123456789012',
    budgetName: 'facepoints-monthly',
    days: 3,
    now,
    ...overrides,
  };
}

beforeEach(() => {
  ec2.reset();
  ce.reset();
  budgets.reset();
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [
          {
            InstanceId: 'i-0abc',
            InstanceType: 'g4dn.xlarge',
            State: { Name: 'running' },
            LaunchTime: new Date('2026-11-29T02:00:00Z'),
          },
        ],
      },
    ],
  });
  budgets.on(DescribeBudgetCommand).resolves({
    Budget: {
      BudgetName: 'facepoints-monthly',
      BudgetLimit: { Amount: '40', Unit: 'USD' },
      TimeUnit: 'MONTHLY',
      BudgetType: 'COST',
      CalculatedSpend: {
        ActualSpend: { Amount: '12.5', Unit: 'USD' },
        ForecastedSpend: { Amount: '44.1', Unit: 'USD' },
      },
      LastUpdatedTime: new Date('2026-11-29T01:14:00Z'),
    },
  });
  budgets.on(DescribeNotificationsForBudgetCommand).resolves({
    Notifications: [
      {
        NotificationType: 'ACTUAL',
        ComparisonOperator: 'GREATER_THAN',
        Threshold: 80,
        ThresholdType: 'PERCENTAGE',
        NotificationState: 'OK',
      },
      {
        NotificationType: 'FORECASTED',
        ComparisonOperator: 'GREATER_THAN',
        Threshold: 100,
        ThresholdType: 'PERCENTAGE',
        NotificationState: 'ALARM',
      },
    ],
  });
});

test('three views, each with its freshness, and the seed for comparison', async () => {
  ce.on(ListCostAllocationTagsCommand).resolves({
    CostAllocationTags: [{ TagKey: 'Project', Type: 'UserDefined', Status: 'Active' }],
  });
  ce.on(GetCostAndUsageCommand).resolves({
    ResultsByTime: [
      {
        TimePeriod: { Start: '2026-11-28', End: '2026-11-29' },
        Groups: [
          {
            Keys: ['Amazon Elastic Compute Cloud - Compute'],
            Metrics: { UnblendedCost: { Amount: '4.21', Unit: 'USD' } },
          },
        ],
        Estimated: true,
      },
    ],
  });
  const r = await collectCost(sources());

  expect(r.live.estimate?.usd).toBeCloseTo(2 * (ON_DEMAND_USD_PER_HOUR['g4dn.xlarge'] ?? Number.NaN), 6);
  expect(r.explorer.cost?.totalUsd).toBeCloseTo(4.21);
  expect(r.budget.view?.alerts.filter((a) => a.fired)).toEqual([
    { type: 'FORECASTED', threshold: '100%', fired: true },
  ]);

  const text = formatCost(r);
  expect(text).toMatch(/live instance estimate\s+\$1\.05\s+live, computed 2026-11-29T04:00:00.000Z/);
  expect(text).toMatch(/Cost Explorer, last 3 days\s+\$4\.21\s+Cost Explorer: lags up to 24 h/);
  expect(text).toMatch(
    /budget facepoints-monthly \(monthly\)\s+\$12\.50\s+AWS Budgets: last refreshed 2026-11-29T01:14:00.000Z/,
  );
  expect(text).toMatch(/2026-11-28 \*\s+Amazon Elastic Compute Cloud - Compute\s+4\.21/);
  expect(text).toMatch(/forecast:\s+\$44\.10/);
  expect(text).toMatch(/fired:\s+forecasted 100%/);
  expect(text).toContain('seed experiment for comparison: $53.10 over 82.6 hours on a g2.2xlarge at $0.65/h');
});

test('an inactive tag skips the paid query and says how to activate it', async () => {
  ce.on(ListCostAllocationTagsCommand).resolves({
    CostAllocationTags: [{ TagKey: 'Project', Type: 'UserDefined', Status: 'Inactive' }],
  });
  const r = await collectCost(sources());
  expect(r.explorer.cost).toBeNull();
  expect(ce.commandCalls(GetCostAndUsageCommand)).toHaveLength(0);
  expect(formatCost(r)).toContain(
    'cost allocation tag Project is not activated, so Cost Explorer cannot filter by it: run `facepoints cost --activate-tag`',
  );
});

test('a missing Cost Explorer permission blanks that view only, naming the permission', async () => {
  ce.on(ListCostAllocationTagsCommand).rejects(
    new CostExplorerServiceException({
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: 'not authorized to perform: ce:ListCostAllocationTags',
    }),
  );
  const r = await collectCost(sources({ instanceId: null }));
  expect(r.explorer.note).toMatch(/lacks the permission ce:ListCostAllocationTags/);
  expect(r.budget.view?.actualUsd).toBe(12.5);
  expect(r.live.note).toContain('no training instance deployed');
});

test('on engine=batch the live estimate sums every job attempt of the run, not one instance', async () => {
  const batch = mockClient(BatchClient);
  batch.on(ListJobsCommand).resolves(LIST_JOBS);
  batch.on(DescribeJobsCommand).resolves(DESCRIBE_JOBS);
  ce.on(ListCostAllocationTagsCommand).resolves({ CostAllocationTags: [] });
  const r = await collectCost(
    sources({
      instanceId: null,
      batch: {
        client: new BatchClient({ region: 'us-east-1' }),
        jobQueueName: 'RunQueue-7Hq2',
        runId: 'r1',
        instanceTypes: ['g4dn.xlarge'],
        spot: false,
      },
    }),
  );
  expect(ec2.commandCalls(DescribeInstancesCommand)).toHaveLength(0);
  // Baseline 1 h, the reclaimed nose-tip attempt 1 h, its retry 30 min until now.
  expect(r.live.batch?.hours).toBeCloseTo(2.5, 9);
  const usd = 2.5 * (ON_DEMAND_USD_PER_HOUR['g4dn.xlarge'] ?? Number.NaN);
  expect(r.live.batch?.usd).toBeCloseTo(usd, 9);
  const text = formatCost(r);
  expect(text).toMatch(new RegExp(`live instance estimate\\s+\\$${usd.toFixed(2).replace('.', '\\.')}`));
  expect(text).toMatch(/instances:\s+one per Batch job attempt; 1 job\(s\) running/);
  expect(text).toMatch(/hours:\s+2\.50/);
  batch.restore();
});
