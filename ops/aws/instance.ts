import {
  DescribeInstancesCommand,
  DescribeSpotPriceHistoryCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { callAws, callAwsOrNull, type RetryOptions } from './call';

export interface InstanceInfo {
  instanceId: string;
  instanceType: string;
  /** pending, running, shutting-down, terminated, stopping, stopped; `not-found` once EC2 has forgotten it. */
  state: string;
  spot: boolean;
  availabilityZone: string | null;
  launchTime: Date | null;
  /** When the instance left `running`, parsed from StateTransitionReason; null while it runs. */
  stoppedAt: Date | null;
  stateReason: string | null;
}

/** One instance, or null when EC2 no longer knows it (terminated instances vanish after about an hour). */
export async function describeInstance(
  client: EC2Client,
  instanceId: string,
  retry?: RetryOptions,
): Promise<InstanceInfo | null> {
  const res = await callAwsOrNull(
    { action: 'ec2:DescribeInstances', target: `instance ${instanceId}` },
    () => client.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })),
    (err) => err instanceof Error && err.name === 'InvalidInstanceID.NotFound',
    retry,
  );
  const inst = res?.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
  if (!inst) return null;
  const state = inst.State?.Name ?? 'unknown';
  return {
    instanceId,
    instanceType: inst.InstanceType ?? 'unknown',
    state,
    spot: inst.InstanceLifecycle === 'spot',
    availabilityZone: inst.Placement?.AvailabilityZone ?? null,
    launchTime: inst.LaunchTime ? new Date(inst.LaunchTime) : null,
    stoppedAt:
      state === 'running' || state === 'pending' ? null : parseTransitionTime(inst.StateTransitionReason),
    stateReason: inst.StateReason?.Message ?? inst.StateTransitionReason ?? null,
  };
}

/** EC2 writes e.g. "User initiated (2026-11-29 03:12:44 GMT)" when an instance stops or terminates. */
export function parseTransitionTime(reason: string | undefined): Date | null {
  const m = reason?.match(/\((\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) GMT\)/);
  return m ? new Date(`${m[1]}T${m[2]}Z`) : null;
}

export interface SpotPrice {
  usdPerHour: number;
  availabilityZone: string;
  timestamp: Date;
}

/**
 * The newest Linux spot price of an instance type, in one zone when given. Spot prices change at most a
 * few times a day, so the last six hours hold at least one entry.
 */
export async function getSpotPrice(
  client: EC2Client,
  instanceType: string,
  availabilityZone: string | null,
  now: Date,
  retry?: RetryOptions,
): Promise<SpotPrice | null> {
  let nextToken: string | undefined;
  let newest: SpotPrice | null = null;
  do {
    const res = await callAws(
      { action: 'ec2:DescribeSpotPriceHistory', target: instanceType },
      () =>
        client.send(
          new DescribeSpotPriceHistoryCommand({
            InstanceTypes: [instanceType as never],
            ProductDescriptions: ['Linux/UNIX'],
            AvailabilityZone: availabilityZone ?? undefined,
            StartTime: new Date(now.getTime() - 6 * 3600 * 1000),
            EndTime: now,
            NextToken: nextToken,
          }),
        ),
      retry,
    );
    for (const p of res.SpotPriceHistory ?? []) {
      if (!p.SpotPrice || !p.Timestamp) continue;
      const entry = {
        usdPerHour: Number(p.SpotPrice),
        availabilityZone: p.AvailabilityZone ?? '',
        timestamp: new Date(p.Timestamp),
      };
      if (!newest || entry.timestamp > newest.timestamp) newest = entry;
    }
    nextToken = res.NextToken || undefined;
  } while (nextToken);
  return newest;
}
