import type { DeployConfig } from '../../contracts/deploy-config';
import { PROJECT_TAG } from '../../contracts/deployment-names';
import { ON_DEMAND_USD_PER_HOUR, PRICES_AS_OF, PRICES_REGION } from '../../contracts/instance-prices';
import type { TagActivation } from '../aws/cost-explorer';
import type { ZoneSpotPrice } from '../aws/instance-types';
import { SEED_TIME_AND_COST } from '../../contracts/seed-reference';
import { formatUsd, formatUsdPerHour } from '../../common/format';
import { describeEngineComparison } from '../../contracts/engine-comparison';
import type { RunEstimate } from './report';

/** Hours and dollars of the run, bounded by maxHours; the budget's view of it. */
export function estimateRun(
  config: DeployConfig,
  spot: ZoneSpotPrice | null,
  tag: TagActivation | null,
): RunEstimate {
  const onDemand = ON_DEMAND_USD_PER_HOUR[config.instanceType] ?? null;
  const hourly = config.spot ? (spot?.usdPerHour ?? null) : onDemand;
  const cap = (p: number | null) => (p === null ? null : Math.round(p * config.maxHours * 100) / 100);
  const capUsd = cap(hourly);
  let budgetNote: string;
  if (config.budgetUsd === 0) budgetNote = 'no budget (budgetUsd=0): only maxHours limits the cost';
  else if (config.budgetScope === 'project' && tag !== 'active')
    budgetNote = `the budget counts costs tagged ${PROJECT_TAG.key}=${PROJECT_TAG.value} only once the tag is active${tag === null ? ' (not checked: --cost-tags)' : ''}: it may not see this run at all; maxHours still applies`;
  else if (capUsd === null)
    budgetNote = `budget ${formatUsd(config.budgetUsd)}/month; no spot price found to compare it with`;
  else if (config.engine === 'batch')
    budgetNote = `each job may cost up to ${formatUsd(capUsd)} (maxHours per attempt); engine=batch has no budget action, so above the ${formatUsd(config.budgetUsd)} budget only the alert emails and the job timeouts apply`;
  else if (capUsd <= config.budgetUsd)
    budgetNote = `the run costs at most ${formatUsd(capUsd)}, under the ${formatUsd(config.budgetUsd)} monthly budget${config.budgetScope === 'account' ? ' (which also counts the rest of the account)' : ''}`;
  else if (config.spot)
    budgetNote = `the run may cost up to ${formatUsd(capUsd)}, above the ${formatUsd(config.budgetUsd)} budget; a spot instance cannot be stopped, so only the alert emails and maxHours apply`;
  else
    budgetNote = `the run may cost up to ${formatUsd(capUsd)}, above the ${formatUsd(config.budgetUsd)} budget: the budget action stops the instance at 100%, after about ${(config.budgetUsd / (hourly ?? 1)).toFixed(1)} h if nothing else is billed`;
  return {
    instanceType: config.instanceType,
    market: config.spot ? 'spot' : 'on-demand',
    preset: config.preset,
    maxHours: config.maxHours,
    expectedHours: null,
    expectedHoursNote:
      `this project has no training speed measured on ${config.instanceType} yet, so only maxHours bounds the run` +
      (config.preset === 'seed'
        ? `; the seed's own run took ${SEED_TIME_AND_COST.total.hours} h on a ${SEED_TIME_AND_COST.instanceType}. Once it trains, npx facepoints status shows the measured speed and time left`
        : '; once it trains, npx facepoints status shows the measured speed and time left'),
    onDemandUsdPerHour: onDemand,
    onDemandPriceSource: `${PRICES_REGION} list price of ${PRICES_AS_OF}; other regions differ`,
    spotUsdPerHour: spot?.usdPerHour ?? null,
    spotZone: spot?.availabilityZone ?? null,
    capUsd,
    capOnDemandUsd: cap(onDemand),
    capSpotUsd: cap(spot?.usdPerHour ?? null),
    budgetUsd: config.budgetUsd,
    budgetScope: config.budgetScope,
    budgetNote,
    engine: config.engine,
    engineComparison: describeEngineComparison(
      config,
      hourly === null
        ? undefined
        : {
            usdPerHour: hourly,
            label: config.spot
              ? `${config.instanceType} spot at ${formatUsdPerHour(hourly)} in ${spot?.availabilityZone}`
              : `${config.instanceType} on-demand list price`,
          },
    ),
  };
}
