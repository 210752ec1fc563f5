import {
  BatchClient,
  BatchServiceException,
  DescribeJobsCommand,
  ListJobsCommand,
} from '@aws-sdk/client-batch';
import { mockClient } from 'aws-sdk-client-mock';
import { listJobsByName } from '../../../ops/aws/batch';
import { DESCRIBE_JOBS, LIST_JOBS } from './fixtures/batch-jobs';

const batch = mockClient(BatchClient);
const client = new BatchClient({ region: 'us-east-1' });
const noWait = { sleep: async () => {} };

beforeEach(() => batch.reset());

test("lists the run's jobs by name prefix across pages and reads attempts and units from DescribeJobs", async () => {
  batch
    .on(ListJobsCommand)
    .resolvesOnce({ ...LIST_JOBS, jobSummaryList: LIST_JOBS.jobSummaryList?.slice(0, 1), nextToken: 'p2' })
    .resolvesOnce({ ...LIST_JOBS, jobSummaryList: LIST_JOBS.jobSummaryList?.slice(1) });
  batch.on(DescribeJobsCommand).resolves(DESCRIBE_JOBS);

  const jobs = await listJobsByName(client, 'RunQueue-7Hq2', 'r1-', noWait);

  const listInput = batch.commandCalls(ListJobsCommand)[1]?.args[0].input;
  expect(listInput).toEqual({
    jobQueue: 'RunQueue-7Hq2',
    filters: [{ name: 'JOB_NAME', values: ['r1-*'] }],
    nextToken: 'p2',
  });
  expect(batch.commandCalls(DescribeJobsCommand)[0]?.args[0].input).toEqual({
    jobs: ['0a1b-base', '2c3d-nose'],
  });
  expect(jobs.map((j) => [j.units, j.status])).toEqual([
    ['baseline', 'SUCCEEDED'],
    ['specialists/nose-tip', 'RUNNING'],
  ]);
  const nose = jobs[1]!;
  expect(nose.startedAt).toEqual(new Date('2026-11-29T03:30:00Z'));
  expect(nose.attempts).toEqual([
    expect.objectContaining({
      startedAt: new Date('2026-11-29T02:10:00Z'),
      stoppedAt: new Date('2026-11-29T03:10:00Z'),
      statusReason: 'Host EC2 (instance i-0aa11bb22cc33dd44) terminated.',
    }),
  ]);
  expect(nose.current?.logStreamName).toBe('r1/default/33cc');
  expect(jobs[0]?.current).toBeNull();
});

test('no jobs yet is an empty list without a DescribeJobs call; a missing permission names batch:ListJobs', async () => {
  batch.on(ListJobsCommand).resolves({ jobSummaryList: [] });
  expect(await listJobsByName(client, 'RunQueue-7Hq2', 'r1-', noWait)).toEqual([]);
  expect(batch.commandCalls(DescribeJobsCommand)).toHaveLength(0);

  batch.reset();
  batch.on(ListJobsCommand).rejects(
    new BatchServiceException({
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
      message: 'User is not authorized to perform: batch:ListJobs',
    }),
  );
  await expect(listJobsByName(client, 'RunQueue-7Hq2', 'r1-', noWait)).rejects.toThrow(
    'lacks the permission batch:ListJobs (job queue RunQueue-7Hq2)',
  );
});
