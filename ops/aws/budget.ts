import {
  type BudgetsClient,
  DescribeBudgetCommand,
  DescribeNotificationsForBudgetCommand,
} from '@aws-sdk/client-budgets';
import { OpsError } from '../errors';
import { callAws, callAwsOrNull, type RetryOptions } from './call';

/** AWS Budgets is a global service served from us-east-1. */
export const BUDGETS_REGION = 'us-east-1';

export interface BudgetAlert {
  /** ACTUAL or FORECASTED. */
  type: string;
  /** e.g. `80%` or `$40.00`. */
  threshold: string;
  /** True when AWS has sent it (NotificationState ALARM). */
  fired: boolean;
}

export interface BudgetView {
  name: string;
  limitUsd: number;
  actualUsd: number | null;
  forecastUsd: number | null;
  /** MONTHLY, QUARTERLY, ... */
  timeUnit: string;
  /** AWS refreshes budget figures a few times a day; this is when it last did. */
  lastUpdated: Date | null;
  alerts: BudgetAlert[];
}

function amount(spend: { Amount?: string } | undefined): number | null {
  return spend?.Amount === undefined ? null : Number(spend.Amount);
}

export async function describeBudget(
  client: BudgetsClient,
  accountId: string,
  budgetName: string,
  retry?: RetryOptions,
): Promise<BudgetView> {
  const res = await callAwsOrNull(
    { action: 'budgets:ViewBudget', target: `budget ${budgetName}` },
    () => client.send(new DescribeBudgetCommand({ AccountId: accountId, BudgetName: budgetName })),
    (err) => err instanceof Error && err.name === 'NotFoundException',
    retry,
  );
  if (!res)
    throw new OpsError(
      `budget ${budgetName} not found in account ${accountId}: deploy the FacepointsData stack or check the stack output BudgetName`,
    );
  const budget = res.Budget;
  if (!budget) throw new OpsError(`budget ${budgetName}: DescribeBudget returned no Budget object`);

  const alerts: BudgetAlert[] = [];
  let token: string | undefined;
  do {
    const res = await callAws(
      { action: 'budgets:ViewBudget', target: `notifications of budget ${budgetName}` },
      () =>
        client.send(
          new DescribeNotificationsForBudgetCommand({
            AccountId: accountId,
            BudgetName: budgetName,
            NextToken: token,
          }),
        ),
      retry,
    );
    for (const n of res.Notifications ?? []) {
      const value = n.Threshold ?? 0;
      const threshold = n.ThresholdType === 'ABSOLUTE_VALUE' ? `$${value.toFixed(2)}` : `${value}%`;
      alerts.push({
        type: n.NotificationType ?? 'ACTUAL',
        threshold,
        fired: n.NotificationState === 'ALARM',
      });
    }
    token = res.NextToken || undefined;
  } while (token);

  return {
    name: budgetName,
    limitUsd: amount(budget.BudgetLimit) ?? 0,
    actualUsd: amount(budget.CalculatedSpend?.ActualSpend),
    forecastUsd: amount(budget.CalculatedSpend?.ForecastedSpend),
    timeUnit: budget.TimeUnit ?? 'MONTHLY',
    lastUpdated: budget.LastUpdatedTime ? new Date(budget.LastUpdatedTime) : null,
    alerts,
  };
}
