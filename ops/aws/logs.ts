import {
  type CloudWatchLogsClient,
  FilterLogEventsCommand,
  type FilterLogEventsCommandOutput,
} from '@aws-sdk/client-cloudwatch-logs';
import { OpsError } from '../errors';
import { callAws, type RetryOptions } from './call';

export interface LogLine {
  timestamp: number;
  stream: string;
  message: string;
  eventId: string;
}

export interface LogQuery {
  logGroupName: string;
  /** Only streams whose name starts with this, e.g. `<runId>/` for every job of a Batch run. */
  logStreamNamePrefix?: string;
  /** Epoch milliseconds, inclusive. */
  startTime: number;
  endTime?: number;
}

/**
 * Every event of the group from startTime on, across its streams, oldest first. FilterLogEvents may
 * return empty pages with a nextToken while it is still searching, so only a missing token ends the scan.
 */
export async function fetchLogEvents(
  client: CloudWatchLogsClient,
  query: LogQuery,
  retry?: RetryOptions,
): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  let nextToken: string | undefined;
  do {
    let res: FilterLogEventsCommandOutput;
    try {
      res = await callAws(
        { action: 'logs:FilterLogEvents', target: `log group ${query.logGroupName}` },
        () =>
          client.send(
            new FilterLogEventsCommand({
              logGroupName: query.logGroupName,
              logStreamNamePrefix: query.logStreamNamePrefix,
              startTime: query.startTime,
              endTime: query.endTime,
              nextToken,
            }),
          ),
        retry,
      );
    } catch (err) {
      if (err instanceof Error && err.name === 'ResourceNotFoundException') {
        const region = await client.config.region().catch(() => 'this region');
        throw new OpsError(
          `log group ${query.logGroupName} not found in ${region}: the training stack creates it; deploy FacepointsTraining, or pass --log-group and --region`,
        );
      }
      throw err;
    }
    for (const e of res.events ?? []) {
      lines.push({
        timestamp: e.timestamp ?? 0,
        stream: e.logStreamName ?? '',
        message: (e.message ?? '').replace(/\n$/, ''),
        eventId: e.eventId ?? '',
      });
    }
    nextToken = res.nextToken || undefined;
  } while (nextToken);
  return lines.sort((a, b) => a.timestamp - b.timestamp);
}

export interface FollowOptions {
  intervalMs: number;
  /** Stop following when it returns true (Ctrl-C in the CLI, a counter in tests). */
  shouldStop: () => boolean;
  sleep?: (ms: number) => Promise<void>;
  retry?: RetryOptions;
}

/**
 * Prints new events as they arrive: each poll starts at the newest timestamp seen, and events already
 * printed at that millisecond are skipped by id, so nothing is repeated or lost at the boundary.
 */
export async function followLogEvents(
  client: CloudWatchLogsClient,
  query: LogQuery,
  onLine: (line: LogLine) => void,
  opts: FollowOptions,
): Promise<void> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let from = query.startTime;
  let seenAtFrom = new Set<string>();
  while (!opts.shouldStop()) {
    const lines = await fetchLogEvents(
      client,
      { logGroupName: query.logGroupName, logStreamNamePrefix: query.logStreamNamePrefix, startTime: from },
      opts.retry,
    );
    for (const line of lines) {
      if (line.timestamp === from && seenAtFrom.has(line.eventId)) continue;
      onLine(line);
      if (line.timestamp > from) {
        from = line.timestamp;
        seenAtFrom = new Set();
      }
      seenAtFrom.add(line.eventId);
    }
    if (opts.shouldStop()) break;
    await sleep(opts.intervalMs);
  }
}
