import type { BatchClient } from '@aws-sdk/client-batch';
import type { BudgetsClient } from '@aws-sdk/client-budgets';
import type { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { Command } from 'commander';
import { PROJECT_TAG } from '../../contracts/deployment-names';
import { describeBudget, type BudgetView } from '../aws/budget';
import {
  activateTag,
  getTagActivation,
  getTaggedCostByDayAndService,
  type TagActivation,
  type TaggedCost,
} from '../aws/cost-explorer';
import { listJobsByName } from '../aws/batch';
import { describeInstance } from '../aws/instance';
import { type BatchCostEstimate, batchJobPrefix, estimateBatchCost } from '../batch-run';
import { emit, withContext } from '../context';
import { formatUsd, formatUsdPerHour, renderFields, renderTable } from '../../common/format';
import { type LiveCostEstimate, estimateLiveCost } from '../live-cost';
import { integerOption } from '../../common/cli-options';
import { type CommonOptions, withCommonOptions } from '../options';
import { SEED_TIME_AND_COST } from '../../contracts/seed-reference';

export interface CostReport {
  checkedAt: string;
  live: {
    estimate: LiveCostEstimate | null;
    /** engine=batch: every job attempt of the run, instead of one instance. */
    batch: BatchCostEstimate | null;
    note: string | null;
    freshness: string;
  };
  explorer: {
    tag: string;
    activation: TagActivation | null;
    cost: TaggedCost | null;
    note: string | null;
    freshness: string;
  };
  budget: { view: BudgetView | null; note: string | null; freshness: string };
  seed: typeof SEED_EXPERIMENT;
}

/** The seed's whole experiment, the figure every cost view is compared against (`seed` in --json). */
const SEED_EXPERIMENT = {
  usd: SEED_TIME_AND_COST.total.usd,
  hours: SEED_TIME_AND_COST.total.hours,
  instanceType: SEED_TIME_AND_COST.instanceType,
  usdPerHour: SEED_TIME_AND_COST.hourlyPriceUsd,
} as const;

function seedComparisonLine(seed: typeof SEED_EXPERIMENT): string {
  return `seed experiment for comparison: $${seed.usd.toFixed(2)} over ${seed.hours} hours on a ${seed.instanceType} at $${seed.usdPerHour}/h`;
}

export interface CostSources {
  ec2: EC2Client;
  costExplorer: CostExplorerClient;
  budgets: BudgetsClient;
  instanceId: string | null;
  /** Set on an engine=batch deployment: the live estimate sums the run's job attempts. */
  batch?: {
    client: BatchClient;
    jobQueueName: string;
    runId: string;
    instanceTypes: string[];
    spot: boolean;
  };
  accountId: string | null;
  budgetName: string | null;
  days: number;
  now: Date;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The three views, each gathered on its own: a missing permission or an absent instance blanks one
 * view with the reason, and the others still show.
 */
export async function collectCost(src: CostSources): Promise<CostReport> {
  const { now } = src;
  const tag = `${PROJECT_TAG.key}=${PROJECT_TAG.value}`;

  const live = async (): Promise<CostReport['live']> => {
    const freshness = `live, computed ${now.toISOString()}`;
    if (src.batch) {
      const b = src.batch;
      try {
        const jobs = await listJobsByName(b.client, b.jobQueueName, batchJobPrefix(b.runId));
        const batch = estimateBatchCost(jobs, b.instanceTypes, b.spot, now);
        return { estimate: null, batch, note: null, freshness };
      } catch (err) {
        return { estimate: null, batch: null, note: message(err), freshness };
      }
    }
    if (!src.instanceId)
      return {
        estimate: null,
        batch: null,
        note: 'no training instance deployed (stack FacepointsTraining absent)',
        freshness,
      };
    try {
      const instance = await describeInstance(src.ec2, src.instanceId);
      if (!instance)
        return {
          estimate: null,
          batch: null,
          note: `instance ${src.instanceId} is no longer known to EC2; see Cost Explorer below`,
          freshness,
        };
      return { estimate: await estimateLiveCost(src.ec2, instance, now), batch: null, note: null, freshness };
    } catch (err) {
      return { estimate: null, batch: null, note: message(err), freshness };
    }
  };

  const explorer = async (): Promise<CostReport['explorer']> => {
    const freshness = 'Cost Explorer: lags up to 24 h; days marked * are still estimated';
    try {
      const activation = await getTagActivation(src.costExplorer, PROJECT_TAG.key);
      if (activation === 'inactive') {
        return {
          tag,
          activation,
          cost: null,
          note: `cost allocation tag ${PROJECT_TAG.key} is not activated, so Cost Explorer cannot filter by it: run \`facepoints cost --activate-tag\` (figures appear within 24 h)`,
          freshness,
        };
      }
      if (activation === 'unseen') {
        return {
          tag,
          activation,
          cost: null,
          note: `tag ${PROJECT_TAG.key} has not appeared in billing data yet (up to 24 h after the first deploy); then run \`facepoints cost --activate-tag\``,
          freshness,
        };
      }
      const cost = await getTaggedCostByDayAndService(src.costExplorer, PROJECT_TAG, src.days, now);
      return { tag, activation, cost, note: null, freshness };
    } catch (err) {
      return { tag, activation: null, cost: null, note: message(err), freshness };
    }
  };

  const budget = async (): Promise<CostReport['budget']> => {
    const freshness = 'AWS Budgets: refreshed a few times a day';
    if (!src.budgetName || !src.accountId)
      return {
        view: null,
        note: 'no budget known: stack FacepointsData has no BudgetName output',
        freshness,
      };
    try {
      const view = await describeBudget(src.budgets, src.accountId, src.budgetName);
      return {
        view,
        note: null,
        freshness: view.lastUpdated
          ? `AWS Budgets: last refreshed ${view.lastUpdated.toISOString()}`
          : freshness,
      };
    } catch (err) {
      return { view: null, note: message(err), freshness };
    }
  };

  const [l, e, b] = await Promise.all([live(), explorer(), budget()]);
  return { checkedAt: now.toISOString(), live: l, explorer: e, budget: b, seed: SEED_EXPERIMENT };
}

export function formatCost(r: CostReport): string {
  const est = r.live.estimate;
  const overview = renderTable(
    [{ header: 'VIEW' }, { header: 'AMOUNT', right: true }, { header: 'AS OF' }],
    [
      ['live instance estimate', formatUsd(est?.usd ?? r.live.batch?.usd), r.live.freshness],
      [
        `Cost Explorer, last ${r.explorer.cost ? dayCount(r.explorer.cost) : '?'} days`,
        formatUsd(r.explorer.cost?.totalUsd),
        r.explorer.freshness,
      ],
      [
        `budget ${r.budget.view?.name ?? ''} (${r.budget.view?.timeUnit.toLowerCase() ?? '-'})`,
        formatUsd(r.budget.view?.actualUsd),
        r.budget.freshness,
      ],
      [
        'seed experiment (whole)',
        formatUsd(r.seed.usd),
        `${r.seed.hours} h on ${r.seed.instanceType}, slide deck`,
      ],
    ],
  );
  const parts = [overview, ''];

  parts.push('Live estimate (instance hours x price)');
  const jobs = r.live.batch;
  parts.push(
    jobs
      ? renderFields([
          ['instances', `one per Batch job attempt; ${jobs.running} job(s) running`],
          ['hours', jobs.hours.toFixed(2)],
          ['price', `${formatUsdPerHour(jobs.usdPerHour)} (${jobs.priceSource})`],
          ['cost', formatUsd(jobs.usd)],
        ])
      : est
        ? renderFields([
            [
              'instance',
              `${est.instanceId} ${est.instanceType} ${est.pricing}${est.running ? ', running' : ''}`,
            ],
            ['hours', est.hours === null ? '-' : est.hours.toFixed(2)],
            ['price', `${formatUsdPerHour(est.usdPerHour)} (${est.priceSource})`],
            ['cost', formatUsd(est.usd)],
          ])
        : `  ${r.live.note}`,
  );
  parts.push('', `Cost Explorer, tag ${r.explorer.tag}, by day and service`);
  const c = r.explorer.cost;
  if (!c) parts.push(`  ${r.explorer.note}`);
  else if (c.rows.length === 0) parts.push(`  no tagged cost from ${c.start} to ${c.end} (exclusive)`);
  else {
    parts.push(
      renderTable(
        [{ header: 'DAY' }, { header: 'SERVICE' }, { header: 'USD', right: true }],
        [
          ...c.rows.map((row) => [row.date + (row.estimated ? ' *' : ''), row.service, row.usd.toFixed(2)]),
          ['total', '', c.totalUsd.toFixed(2)],
        ],
      ),
    );
  }
  parts.push('', 'AWS Budget');
  const v = r.budget.view;
  if (!v) parts.push(`  ${r.budget.note}`);
  else {
    const fired = v.alerts.filter((a) => a.fired);
    parts.push(
      renderFields([
        ['budget', `${v.name}, ${formatUsd(v.limitUsd)} ${v.timeUnit.toLowerCase()}`],
        ['actual', formatUsd(v.actualUsd)],
        ['forecast', formatUsd(v.forecastUsd)],
        [
          'alerts',
          v.alerts
            .map((a) => `${a.type.toLowerCase()} ${a.threshold}${a.fired ? ' FIRED' : ''}`)
            .join(', ') || 'none configured',
        ],
        [
          'fired',
          fired.length === 0 ? 'none' : fired.map((a) => `${a.type.toLowerCase()} ${a.threshold}`).join(', '),
        ],
      ]),
    );
  }
  parts.push('', seedComparisonLine(r.seed));
  return parts.join('\n');
}

function dayCount(c: TaggedCost): number {
  return Math.round((Date.parse(c.end) - Date.parse(c.start)) / 86400_000);
}

interface CostFlags extends CommonOptions {
  days: number;
  activateTag?: boolean;
}

export function registerCostCommand(program: Command): void {
  withCommonOptions(program.command('cost'))
    .description('what the project has cost: live estimate, Cost Explorer by day and service, and the budget')
    .option(
      '--days <n>',
      'days of Cost Explorer history, today included (each query costs $0.01)',
      integerOption('--days', { min: 1, wording: 'expects' }),
      7,
    )
    .option(
      '--activate-tag',
      `activate the ${PROJECT_TAG.key} cost allocation tag in Billing, then exit`,
      false,
    )
    .action(async (flags: CostFlags) => {
      await withContext(flags, async (ctx) => {
        if (flags.activateTag) {
          await activateTag(ctx.clients.costExplorer, PROJECT_TAG.key);
          emit(
            flags,
            { activated: PROJECT_TAG.key },
            () =>
              `cost allocation tag ${PROJECT_TAG.key} activated; Cost Explorer shows tagged cost within 24 hours`,
          );
          return;
        }
        const dep = ctx.deployment;
        const report = await collectCost({
          ec2: ctx.clients.ec2,
          costExplorer: ctx.clients.costExplorer,
          budgets: ctx.clients.budgets,
          instanceId: dep.instanceId,
          batch:
            dep.engine === 'batch' && dep.jobQueueName && dep.stackRunId
              ? {
                  client: ctx.clients.batch,
                  jobQueueName: dep.jobQueueName,
                  runId: dep.stackRunId,
                  instanceTypes: dep.instanceType ? dep.instanceType.split(',') : [],
                  spot: dep.spot ?? false,
                }
              : undefined,
          accountId: dep.accountId,
          budgetName: dep.budgetName,
          days: flags.days,
          now: ctx.now(),
        });
        emit(flags, report, formatCost);
      });
    });
}
