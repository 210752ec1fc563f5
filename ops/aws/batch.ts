import {
  type BatchClient,
  DescribeJobsCommand,
  type JobDetail,
  ListJobsCommand,
} from '@aws-sdk/client-batch';
import { callAws, type RetryOptions } from './call';

/** One attempt of a Batch job: each ran in its own container, often on its own instance. */
export interface BatchAttempt {
  startedAt: Date | null;
  stoppedAt: Date | null;
  /** The ECS container instance that hosted it (Batch does not name the EC2 instance). */
  containerInstanceArn: string | null;
  logStreamName: string | null;
  statusReason: string | null;
}

export interface BatchJob {
  jobId: string;
  jobName: string;
  /** SUBMITTED, PENDING, RUNNABLE, STARTING, RUNNING, SUCCEEDED or FAILED. */
  status: string;
  statusReason: string | null;
  /** The job's `units` parameter (`baseline`, `specialists/<name>`); null for the report job. */
  units: string | null;
  createdAt: Date | null;
  startedAt: Date | null;
  stoppedAt: Date | null;
  /** Finished attempts, then the running one (DescribeJobs lists a running attempt only once it ends). */
  attempts: BatchAttempt[];
  /** The attempt that runs now, if any: its container instance and log stream. */
  current: { containerInstanceArn: string | null; logStreamName: string | null } | null;
}

const DESCRIBE_LIMIT = 100;
const date = (ms: number | undefined) => (ms === undefined ? null : new Date(ms));

/**
 * Every job of the queue whose name starts with namePrefix, in any status. ListJobs with a JOB_NAME filter
 * returns all statuses (the filter replaces jobStatus); DescribeJobs then adds attempts and parameters.
 */
export async function listJobsByName(
  client: BatchClient,
  jobQueue: string,
  namePrefix: string,
  retry?: RetryOptions,
): Promise<BatchJob[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const res = await callAws(
      { action: 'batch:ListJobs', target: `job queue ${jobQueue}` },
      () =>
        client.send(
          new ListJobsCommand({
            jobQueue,
            filters: [{ name: 'JOB_NAME', values: [`${namePrefix}*`] }],
            nextToken,
          }),
        ),
      retry,
    );
    for (const j of res.jobSummaryList ?? []) if (j.jobId) ids.push(j.jobId);
    nextToken = res.nextToken || undefined;
  } while (nextToken);

  const jobs: BatchJob[] = [];
  for (let i = 0; i < ids.length; i += DESCRIBE_LIMIT) {
    const chunk = ids.slice(i, i + DESCRIBE_LIMIT);
    const res = await callAws(
      { action: 'batch:DescribeJobs', target: `${chunk.length} jobs of queue ${jobQueue}` },
      () => client.send(new DescribeJobsCommand({ jobs: chunk })),
      retry,
    );
    for (const j of res.jobs ?? []) jobs.push(toBatchJob(j));
  }
  return jobs;
}

function toBatchJob(j: JobDetail): BatchJob {
  const attempts = (j.attempts ?? []).map(
    (a): BatchAttempt => ({
      startedAt: date(a.startedAt),
      stoppedAt: date(a.stoppedAt),
      containerInstanceArn: a.container?.containerInstanceArn ?? null,
      logStreamName: a.container?.logStreamName ?? null,
      statusReason: a.statusReason ?? a.container?.reason ?? null,
    }),
  );
  const running = j.status === 'RUNNING' || j.status === 'STARTING';
  return {
    jobId: j.jobId ?? '',
    jobName: j.jobName ?? '',
    status: j.status ?? 'UNKNOWN',
    statusReason: j.statusReason ?? null,
    units: j.parameters?.units ?? null,
    createdAt: date(j.createdAt),
    startedAt: date(j.startedAt),
    stoppedAt: date(j.stoppedAt),
    attempts,
    current: running
      ? {
          containerInstanceArn: j.container?.containerInstanceArn ?? null,
          logStreamName: j.container?.logStreamName ?? null,
        }
      : null,
  };
}
