import {
  type CostExplorerClient,
  GetCostAndUsageCommand,
  ListCostAllocationTagsCommand,
  UpdateCostAllocationTagsStatusCommand,
} from '@aws-sdk/client-cost-explorer';
import { OpsError } from '../errors';
import { callAws, type RetryOptions } from './call';

/** Cost Explorer has a single endpoint, in us-east-1, whatever region the stacks are in. */
export const COST_EXPLORER_REGION = 'us-east-1';

export interface Tag {
  key: string;
  value: string;
}

export interface DailyServiceCost {
  /** `YYYY-MM-DD`, UTC. */
  date: string;
  service: string;
  usd: number;
  /** Cost Explorer marks days whose figures may still change. */
  estimated: boolean;
}

export interface TaggedCost {
  start: string;
  /** Exclusive, as in the API. */
  end: string;
  rows: DailyServiceCost[];
  totalUsd: number;
}

function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** The last `days` days, today included: End is exclusive in Cost Explorer, so it is tomorrow. */
export function costPeriod(days: number, now: Date): { start: string; end: string } {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return {
    start: isoDate(new Date(today - (days - 1) * 86400_000)),
    end: isoDate(new Date(today + 86400_000)),
  };
}

/**
 * Unblended cost of the resources carrying `tag`, by day and service. Each request costs $0.01, so
 * callers ask once per command, not per refresh.
 */
export async function getTaggedCostByDayAndService(
  client: CostExplorerClient,
  tag: Tag,
  days: number,
  now: Date,
  retry?: RetryOptions,
): Promise<TaggedCost> {
  const period = costPeriod(days, now);
  const rows: DailyServiceCost[] = [];
  let token: string | undefined;
  do {
    const res = await callAws(
      { action: 'ce:GetCostAndUsage', target: `tag ${tag.key}=${tag.value}` },
      () =>
        client.send(
          new GetCostAndUsageCommand({
            TimePeriod: { Start: period.start, End: period.end },
            Granularity: 'DAILY',
            Metrics: ['UnblendedCost'],
            Filter: { Tags: { Key: tag.key, Values: [tag.value], MatchOptions: ['EQUALS'] } },
            GroupBy: [{ Type: 'DIMENSION', Key: 'SERVICE' }],
            NextPageToken: token,
          }),
        ),
      retry,
    );
    for (const day of res.ResultsByTime ?? []) {
      for (const g of day.Groups ?? []) {
        const usd = Number(g.Metrics?.UnblendedCost?.Amount ?? 0);
        if (usd === 0) continue;
        rows.push({
          date: day.TimePeriod?.Start ?? '',
          service: g.Keys?.[0] ?? 'unknown',
          usd,
          estimated: day.Estimated ?? false,
        });
      }
    }
    token = res.NextPageToken || undefined;
  } while (token);
  return { ...period, rows, totalUsd: rows.reduce((s, r) => s + r.usd, 0) };
}

/**
 * `active` / `inactive` as in the Billing console; `unseen` while the tag has not yet appeared on a
 * billed resource (up to 24 hours after the first tagged resource exists), when it cannot be activated.
 */
export type TagActivation = 'active' | 'inactive' | 'unseen';

export async function getTagActivation(
  client: CostExplorerClient,
  tagKey: string,
  retry?: RetryOptions,
): Promise<TagActivation> {
  let token: string | undefined;
  do {
    const res = await callAws(
      { action: 'ce:ListCostAllocationTags', target: `tag ${tagKey}` },
      () =>
        client.send(
          new ListCostAllocationTagsCommand({ TagKeys: [tagKey], Type: 'UserDefined', NextToken: token }),
        ),
      retry,
    );
    const found = res.CostAllocationTags?.find((t) => t.TagKey === tagKey);
    if (found) return found.Status === 'Active' ? 'active' : 'inactive';
    token = res.NextToken || undefined;
  } while (token);
  return 'unseen';
}

/** Activates the tag as a cost allocation tag; data for it then appears in Cost Explorer within 24 hours. */
export async function activateTag(
  client: CostExplorerClient,
  tagKey: string,
  retry?: RetryOptions,
): Promise<void> {
  const res = await callAws(
    { action: 'ce:UpdateCostAllocationTagsStatus', target: `tag ${tagKey}` },
    () =>
      client.send(
        new UpdateCostAllocationTagsStatusCommand({
          CostAllocationTagsStatus: [{ TagKey: tagKey, Status: 'Active' }],
        }),
      ),
    retry,
  );
  const failure = res.Errors?.find((e) => e.TagKey === tagKey) ?? res.Errors?.[0];
  if (failure) {
    throw new OpsError(
      `could not activate cost allocation tag ${tagKey}: ${failure.Code ?? 'error'}: ${failure.Message ?? 'no message'}` +
        ' (a tag can be activated only after it has appeared on a billed resource, up to 24 hours after deploy)',
    );
  }
}
