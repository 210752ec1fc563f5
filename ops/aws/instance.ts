import { DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { callAwsOrNull, type RetryOptions } from './call';
import { getSpotPricesByZone, type ZoneSpotPrice } from './instance-types';

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
): Promise<ZoneSpotPrice | null> {
  const zones = await getSpotPricesByZone(client, instanceType, now, 6, retry, availabilityZone ?? undefined);
  let newest: ZoneSpotPrice | null = null;
  for (const z of zones) if (!newest || z.timestamp > newest.timestamp) newest = z;
  return newest;
}
