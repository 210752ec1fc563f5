import {
  BudgetsClient,
  BudgetsServiceException,
  DescribeBudgetCommand,
  DescribeNotificationsForBudgetCommand,
  NotFoundException,
  ThrottlingException,
} from '@aws-sdk/client-budgets';
import { mockClient } from 'aws-sdk-client-mock';
import { describeBudget } from '../../../ops/aws/budget';

const budgets = mockClient(BudgetsClient);
const client = new BudgetsClient({ region: 'us-east-1' });
const noWait = { sleep: async () => {} };

// Shaped like the documented DescribeBudget response (amounts are strings, LastUpdatedTime a timestamp).
const budgetResponse = {
  Budget: {
    BudgetName: 'facepoints-monthly',
    BudgetLimit: { Amount: '40.0', Unit: 'USD' },
    CostFilters: {},
    TimeUnit: 'MONTHLY' as const,
    TimePeriod: { Start: new Date('2026-11-01T00:00:00Z'), End: new Date('2087-06-15T00:00:00Z') },
    CalculatedSpend: {
      ActualSpend: { Amount: '33.512', Unit: 'USD' },
      ForecastedSpend: { Amount: '51.2', Unit: 'USD' },
    },
    BudgetType: 'COST' as const,
    LastUpdatedTime: new Date('2026-11-29T01:14:00Z'),
  },
};

beforeEach(() => budgets.reset());

test('limit, actual, forecast and which alerts fired, across notification pages', async () => {
  budgets.on(DescribeBudgetCommand).resolves(budgetResponse);
  budgets
    .on(DescribeNotificationsForBudgetCommand)
    .resolvesOnce({
      Notifications: [
        {
          NotificationType: 'ACTUAL',
          ComparisonOperator: 'GREATER_THAN',
          Threshold: 50,
          ThresholdType: 'PERCENTAGE',
          NotificationState: 'ALARM',
        },
      ],
      NextToken: 'n2',
    })
    .resolvesOnce({
      Notifications: [
        {
          NotificationType: 'ACTUAL',
          ComparisonOperator: 'GREATER_THAN',
          Threshold: 100,
          ThresholdType: 'PERCENTAGE',
          NotificationState: 'OK',
        },
        {
          NotificationType: 'FORECASTED',
          ComparisonOperator: 'GREATER_THAN',
          Threshold: 40,
          ThresholdType: 'ABSOLUTE_VALUE',
          NotificationState: 'ALARM',
        },
      ],
    });

  const view = await describeBudget(client, '123456789012', 'facepoints-monthly', noWait);

  expect(view).toEqual({
    name: 'facepoints-monthly',
    limitUsd: 40,
    actualUsd: 33.512,
    forecastUsd: 51.2,
    timeUnit: 'MONTHLY',
    lastUpdated: new Date('2026-11-29T01:14:00Z'),
    alerts: [
      { type: 'ACTUAL', threshold: '50%', fired: true },
      { type: 'ACTUAL', threshold: '100%', fired: false },
      { type: 'FORECASTED', threshold: '$40.00', fired: true },
    ],
  });
  expect(budgets.commandCalls(DescribeNotificationsForBudgetCommand)[1]?.args[0].input).toMatchObject({
    AccountId: '123456789012',
    NextToken: 'n2',
  });
});

test('ThrottlingException is retried', async () => {
  budgets
    .on(DescribeBudgetCommand)
    .rejectsOnce(new ThrottlingException({ $metadata: {}, message: 'Rate exceeded' }))
    .resolves(budgetResponse);
  budgets.on(DescribeNotificationsForBudgetCommand).resolves({ Notifications: [] });
  expect((await describeBudget(client, '123456789012', 'facepoints-monthly', noWait)).actualUsd).toBeCloseTo(
    33.512,
  );
  expect(budgets.commandCalls(DescribeBudgetCommand)).toHaveLength(2);
});

test('a missing budget and a missing permission say what to do', async () => {
  budgets.on(DescribeBudgetCommand).rejects(
    new NotFoundException({
      $metadata: {},
      message: 'Unable to get budget: facepoints-monthly - the budget does not exist.',
    }),
  );
  await expect(describeBudget(client, '123456789012', 'facepoints-monthly', noWait)).rejects.toThrow(
    'budget facepoints-monthly not found in account 123456789012: deploy the FacepointsData stack',
  );

  budgets.reset();
  budgets.on(DescribeBudgetCommand).rejects(
    new BudgetsServiceException({
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: 'User: arn:aws:iam::123456789012:user/dev is not authorized to perform: budgets:ViewBudget',
    }),
  );
  await expect(describeBudget(client, '123456789012', 'facepoints-monthly', noWait)).rejects.toThrow(
    /lacks the permission budgets:ViewBudget/,
  );
});
