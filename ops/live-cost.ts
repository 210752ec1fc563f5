import type { EC2Client } from '@aws-sdk/client-ec2';
import { ON_DEMAND_USD_PER_HOUR, PRICES_AS_OF, PRICES_REGION } from '../contracts/instance-prices';
import { type InstanceInfo, getSpotPrice } from './aws/instance';

export interface LiveCostEstimate {
  instanceId: string;
  instanceType: string;
  pricing: 'spot' | 'on-demand';
  usdPerHour: number | null;
  /** Where the price came from, e.g. `spot price history 2026-11-29T03:00Z (us-east-1a)`. */
  priceSource: string;
  hours: number | null;
  usd: number | null;
  /** True while the instance runs: the estimate grows until it terminates. */
  running: boolean;
  /** When the estimate was computed; it is as fresh as the command run. */
  asOf: string;
}

/**
 * Instance hours times the hourly price: spot instances at the zone's newest spot price, others at the
 * on-demand list price. Covers the instance only (EBS, S3 and CloudWatch are cents at this scale).
 */
export async function estimateLiveCost(
  ec2: EC2Client,
  instance: InstanceInfo,
  now: Date,
): Promise<LiveCostEstimate> {
  const running = instance.state === 'running' || instance.state === 'pending';
  const end = running ? now : (instance.stoppedAt ?? null);
  const hours =
    instance.launchTime && end
      ? Math.max(0, (end.getTime() - instance.launchTime.getTime()) / 3600_000)
      : null;
  let usdPerHour: number | null = null;
  let priceSource: string;
  if (instance.spot) {
    const spot = await getSpotPrice(ec2, instance.instanceType, instance.availabilityZone, now);
    usdPerHour = spot?.usdPerHour ?? null;
    priceSource = spot
      ? `spot price history ${spot.timestamp.toISOString()} (${spot.availabilityZone})`
      : `no spot price found for ${instance.instanceType}`;
  } else {
    usdPerHour = ON_DEMAND_USD_PER_HOUR[instance.instanceType] ?? null;
    priceSource =
      usdPerHour !== null
        ? `on-demand list price, ${PRICES_REGION}, as of ${PRICES_AS_OF}`
        : `no list price known for ${instance.instanceType}`;
  }
  return {
    instanceId: instance.instanceId,
    instanceType: instance.instanceType,
    pricing: instance.spot ? 'spot' : 'on-demand',
    usdPerHour,
    priceSource,
    hours,
    usd: hours !== null && usdPerHour !== null ? hours * usdPerHour : null,
    running,
    asOf: now.toISOString(),
  };
}
