import {
  DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand,
  DescribeSpotPriceHistoryCommand,
  type EC2Client,
  type _InstanceType,
} from '@aws-sdk/client-ec2';
import { callAws, type RetryOptions } from './call';

/** The default vCPUs of an instance type (what the vCPU quotas count), or null when EC2 does not know it here. */
export async function getDefaultVcpus(
  client: EC2Client,
  instanceType: string,
  retry?: RetryOptions,
): Promise<number | null> {
  try {
    const res = await callAws(
      { action: 'ec2:DescribeInstanceTypes', target: instanceType },
      () => client.send(new DescribeInstanceTypesCommand({ InstanceTypes: [instanceType as _InstanceType] })),
      retry,
    );
    return res.InstanceTypes?.find((t) => t.InstanceType === instanceType)?.VCpuInfo?.DefaultVCpus ?? null;
  } catch (err) {
    // A type this region does not have is refused as a bad parameter, not returned empty.
    if (err instanceof Error && err.name === 'InvalidInstanceType') return null;
    throw err;
  }
}

/** The availability zones of the client's region where the instance type is offered, sorted. */
export async function getOfferedZones(
  client: EC2Client,
  instanceType: string,
  retry?: RetryOptions,
): Promise<string[]> {
  const zones = new Set<string>();
  let token: string | undefined;
  do {
    const res = await callAws(
      { action: 'ec2:DescribeInstanceTypeOfferings', target: instanceType },
      () =>
        client.send(
          new DescribeInstanceTypeOfferingsCommand({
            LocationType: 'availability-zone',
            Filters: [{ Name: 'instance-type', Values: [instanceType] }],
            NextToken: token,
          }),
        ),
      retry,
    );
    for (const o of res.InstanceTypeOfferings ?? [])
      if (o.InstanceType === instanceType && o.Location) zones.add(o.Location);
    token = res.NextToken || undefined;
  } while (token);
  return [...zones].sort();
}

export interface ZoneSpotPrice {
  availabilityZone: string;
  usdPerHour: number;
  timestamp: Date;
}

/**
 * The newest Linux spot price of the type in each zone (or only in `availabilityZone`) over the last
 * `hours` hours, cheapest first. EC2 lists a zone's price when it changes, so a quiet zone may have no
 * entry in a short window.
 */
export async function getSpotPricesByZone(
  client: EC2Client,
  instanceType: string,
  now: Date,
  hours = 6,
  retry?: RetryOptions,
  availabilityZone?: string,
): Promise<ZoneSpotPrice[]> {
  const newest = new Map<string, ZoneSpotPrice>();
  let token: string | undefined;
  do {
    const res = await callAws(
      { action: 'ec2:DescribeSpotPriceHistory', target: instanceType },
      () =>
        client.send(
          new DescribeSpotPriceHistoryCommand({
            InstanceTypes: [instanceType as _InstanceType],
            ProductDescriptions: ['Linux/UNIX'],
            AvailabilityZone: availabilityZone,
            StartTime: new Date(now.getTime() - hours * 3600_000),
            EndTime: now,
            NextToken: token,
          }),
        ),
      retry,
    );
    for (const p of res.SpotPriceHistory ?? []) {
      if (!p.SpotPrice || !p.Timestamp || !p.AvailabilityZone) continue;
      const entry = {
        availabilityZone: p.AvailabilityZone,
        usdPerHour: Number(p.SpotPrice),
        timestamp: new Date(p.Timestamp),
      };
      const seen = newest.get(entry.availabilityZone);
      if (!seen || entry.timestamp > seen.timestamp) newest.set(entry.availabilityZone, entry);
    }
    token = res.NextToken || undefined;
  } while (token);
  return [...newest.values()].sort(
    (a, b) => a.usdPerHour - b.usdPerHour || a.availabilityZone.localeCompare(b.availabilityZone),
  );
}
