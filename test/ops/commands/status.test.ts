import {
  DescribeInstancesCommand,
  DescribeSpotPriceHistoryCommand,
  EC2Client,
  EC2ServiceException,
} from '@aws-sdk/client-ec2';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  BatchClient,
  BatchServiceException,
  DescribeJobsCommand,
  ListJobsCommand,
} from '@aws-sdk/client-batch';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import {
  type BatchSources,
  collectStatus,
  formatStatus,
  REDRAW,
  watchStatus,
} from '../../../ops/commands/status';
import { DESCRIBE_JOBS, LIST_JOBS } from '../aws/fixtures/batch-jobs';
import { type RunStatus, STALE_HEARTBEAT_SECONDS } from '../../../contracts/run-status';
import { runLayout } from '../../../contracts/run-layout';
import { S3RunReader } from '../../../ops/s3-run-reader';
import { ON_DEMAND_USD_PER_HOUR } from '../../../contracts/instance-prices';
import { type LocalS3Server, startS3Server } from '../../support/s3-server';
import { localS3Client, runStatus, seedRun } from '../support/run-fixture';

const ec2 = mockClient(EC2Client);
const ec2Client = new EC2Client({ region: 'us-east-1' });
let server: LocalS3Server;
let s3: S3Client;
let reader: S3RunReader;
const now = new Date('2026-11-29T04:00:00Z');

function instanceResponse(state: string, opts: { spot?: boolean; type?: string; reason?: string } = {}) {
  return {
    Reservations: [
      {
        Instances: [
          {
            InstanceId: 'i-0abc',
            InstanceType: (opts.type ?? 'g4dn.xlarge') as never,
            State: { Name: state as never },
            LaunchTime: new Date('2026-11-29T01:00:00Z'),
            InstanceLifecycle: opts.spot ? ('spot' as const) : undefined,
            Placement: { AvailabilityZone: 'us-east-1a' },
            StateTransitionReason: opts.reason ?? '',
          },
        ],
      },
    ],
  };
}

beforeAll(async () => {
  server = await startS3Server({ bucket: 'facepoints-status' });
  s3 = localS3Client(server.endpoint);
  reader = new S3RunReader(s3, server.bucket);
  await seedRun(s3, server.bucket, 'live', {
    status: runStatus('live', { updatedAt: '2026-11-29T03:59:30.000Z' }),
    finished: false,
  });
  await seedRun(s3, server.bucket, 'stale', {
    status: runStatus('stale', { updatedAt: '2026-11-29T03:40:00.000Z' }),
    finished: false,
  });
  await seedRun(s3, server.bucket, 'booting', { status: null, finished: false });
  await seedRun(s3, server.bucket, 'done', {
    status: runStatus('done', { state: 'succeeded', phase: 'done', finishedAt: '2026-11-29T03:00:00.000Z' }),
    finished: true,
  });
});
afterAll(async () => {
  s3?.destroy();
  await server?.close();
});
beforeEach(() => ec2.reset());

test('a live on-demand run: progress, ages, instance and cost so far from the list price', async () => {
  ec2.on(DescribeInstancesCommand).resolves(instanceResponse('running'));
  const r = await collectStatus({ reader, ec2: ec2Client, instanceId: 'i-0abc', now }, 'live');

  expect(r.status?.phase).toBe('specialists');
  expect(r.heartbeatAgeSeconds).toBe(30);
  expect(r.staleHeartbeat).toBeNull();
  expect(r.lastCheckpointAgeSeconds).toBe(180);
  expect(r.instance?.state).toBe('running');
  expect(r.cost?.hours).toBeCloseTo(3, 6);
  expect(r.cost?.usd).toBeCloseTo(3 * (ON_DEMAND_USD_PER_HOUR['g4dn.xlarge'] ?? Number.NaN), 6);

  const text = formatStatus(r);
  expect(text).toMatch(/phase:\s+specialists/);
  expect(text).toMatch(/model:\s+specialists\/nose-tip/);
  expect(text).toMatch(/epoch:\s+412 \/ 1462/);
  expect(text).toMatch(/best dev RMSE:\s+1\.612 px/);
  expect(text).toMatch(/time left:\s+phase 1h 30m, run 2h 30m/);
  expect(text).toMatch(/heartbeat:\s+30s ago/);
  expect(text).toMatch(/last checkpoint:\s+3m 00s ago/);
  expect(text).toContain('i-0abc g4dn.xlarge on-demand, running');
  expect(text).not.toContain('STALE');
});

test('a spot instance is priced at the newest spot price', async () => {
  ec2.on(DescribeInstancesCommand).resolves(instanceResponse('running', { spot: true }));
  ec2.on(DescribeSpotPriceHistoryCommand).resolves({
    SpotPriceHistory: [
      {
        AvailabilityZone: 'us-east-1a',
        InstanceType: 'g4dn.xlarge',
        ProductDescription: 'Linux/UNIX',
        SpotPrice: '0.210000',
        Timestamp: new Date('2026-11-29T02:00:00Z'),
      },
    ],
  });
  const r = await collectStatus({ reader, ec2: ec2Client, instanceId: 'i-0abc', now }, 'live');
  expect(r.cost?.pricing).toBe('spot');
  expect(r.cost?.usd).toBeCloseTo(0.63, 6);
});

test(`a heartbeat older than ${STALE_HEARTBEAT_SECONDS}s on a running instance is flagged`, async () => {
  ec2.on(DescribeInstancesCommand).resolves(instanceResponse('running'));
  const r = await collectStatus({ reader, ec2: ec2Client, instanceId: 'i-0abc', now }, 'stale');
  expect(r.staleHeartbeat).toBe(
    'STALE: no heartbeat for 20m 00s (expected at least every minute) while instance i-0abc is running; check `facepoints logs`',
  );
  expect(formatStatus(r)).toContain('!! STALE: no heartbeat for 20m 00s');
});

test('a run that claims to run on a terminated instance is flagged, and the cost stops at termination', async () => {
  ec2
    .on(DescribeInstancesCommand)
    .resolves(instanceResponse('terminated', { reason: 'Service initiated (2026-11-29 03:30:00 GMT)' }));
  const r = await collectStatus({ reader, ec2: ec2Client, instanceId: 'i-0abc', now }, 'live');
  expect(r.staleHeartbeat).toContain('instance i-0abc is terminated: it stopped without recording its end');
  expect(r.cost?.hours).toBeCloseTo(2.5, 6);
  expect(r.cost?.running).toBe(false);
});

test('before the first heartbeat, and without an instance to ask about', async () => {
  const r = await collectStatus(
    {
      reader,
      ec2: null,
      instanceId: null,
      noInstanceReason: 'none: stack FacepointsTraining is not deployed',
      now,
    },
    'booting',
  );
  expect(r.status).toBeNull();
  expect(r.lastCheckpointAt).not.toBeNull(); // from the checkpoint manifest's LastModified
  const text = formatStatus(r);
  expect(text).toContain('no status.json yet');
  expect(text).toMatch(/instance:\s+none: stack FacepointsTraining is not deployed/);
  expect(ec2.calls()).toHaveLength(0);
});

test('--watch redraws in place and stops once the run has ended and its instance is gone', async () => {
  ec2
    .on(DescribeInstancesCommand)
    .resolvesOnce(instanceResponse('running'))
    .resolves(instanceResponse('terminated'));
  let out = '';
  const sink = {
    write: (s: string) => {
      out += s;
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  let sleeps = 0;
  const final = await watchStatus(
    () => collectStatus({ reader, ec2: ec2Client, instanceId: 'i-0abc', now }, 'done'),
    {
      intervalMs: 30_000,
      out: sink,
      shouldStop: () => sleeps > 5,
      sleep: async () => {
        sleeps++;
      },
    },
  );
  expect(final.instance?.state).toBe('terminated');
  expect(sleeps).toBe(1);
  expect(out.split(REDRAW)).toHaveLength(3); // two frames, each starting with the redraw sequence
  expect(out).toContain('refreshing every 30s; Ctrl-C to stop');
});

test('without ec2:DescribeInstances the run status still shows, with the permission named', async () => {
  ec2.on(DescribeInstancesCommand).rejects(
    new EC2ServiceException({
      name: 'UnauthorizedOperation',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
      message: 'You are not authorized to perform this operation.',
    }),
  );
  const r = await collectStatus({ reader, ec2: ec2Client, instanceId: 'i-0abc', now }, 'live');
  expect(r.status?.phase).toBe('specialists');
  expect(r.instance).toBeNull();
  expect(formatStatus(r)).toMatch(
    /instance:\s+access denied: your AWS identity lacks the permission ec2:DescribeInstances \(instance i-0abc\)/,
  );
});

test('a run split into unit jobs: each unit with its state, epochs, best dev RMSE and lease holder', async () => {
  const put = (key: string, body: unknown) =>
    s3.send(
      new PutObjectCommand({
        Bucket: server.bucket,
        Key: reader.key('split', key),
        Body: JSON.stringify(body),
      }),
    );
  await put(runLayout.config, { runId: 'split', preset: 'quick', models: ['baseline', 'specialists'] });
  await put(runLayout.unitDone('baseline'), {
    unit: 'baseline',
    trainRows: 1600,
    devRows: 400,
    params: 806,
    maxEpochs: 30,
    epochsRun: 24,
    bestEpoch: 14,
    bestDevRmsePx: 2.125,
    stoppedEarly: true,
    trainSeconds: 60,
    finishedAt: '2026-11-29T02:00:00.000Z',
  });
  const unitStatus = (unit: string, overrides: Partial<RunStatus>) =>
    put(runLayout.unitStatus(unit), runStatus('split', { model: unit, ...overrides }));
  await unitStatus('specialists/eye-centers', { epoch: 40, maxEpochs: 100, bestDevRmsePx: 1.5 });
  await put(runLayout.lease('specialists/eye-centers'), {
    unit: 'specialists/eye-centers',
    holder: 'ip-10-0-0-7/1/ab12cd34',
    acquiredAt: '2026-11-29T03:00:00.000Z',
    renewedAt: '2026-11-29T03:59:30.000Z',
    expiresAt: '2026-11-29T04:02:30.000Z',
  });
  await unitStatus('specialists/nose-tip', { state: 'interrupted', interruption: 'SIGTERM', epoch: 7 });
  await unitStatus('specialists/mouth-bottom-lip', { updatedAt: '2026-11-29T03:30:00.000Z', epoch: 3 });

  const r = await collectStatus({ reader, ec2: null, instanceId: null, now }, 'split');
  expect(r.units.map((u) => [u.unit, u.state, u.epoch, u.bestDevRmsePx, u.holder ?? u.note])).toEqual([
    ['baseline', 'done', 24, 2.125, null],
    ['specialists/eye-centers', 'training', 40, 1.5, 'ip-10-0-0-7/1/ab12cd34'],
    ['specialists/nose-tip', 'interrupted', 7, 1.612, 'SIGTERM'],
    ['specialists/mouth-corners-top-lip', 'pending', null, null, null],
    ['specialists/mouth-bottom-lip', 'stalled', 3, 1.612, null],
    ['specialists/eye-corners', 'pending', null, null, null],
    ['specialists/eyebrows', 'pending', null, null, null],
  ]);
  const text = formatStatus(r);
  expect(text).toMatch(/state:\s+units train in separate jobs/);
  expect(text).toMatch(
    /specialists\/eye-centers\s+training\s+40 \/ 100\s+1\.500 px\s+ip-10-0-0-7\/1\/ab12cd34/,
  );
  expect(text).toMatch(/baseline\s+done\s+24 \/ 30\s+2\.125 px/);
});

describe('engine=batch', () => {
  const batchMock = mockClient(BatchClient);
  const sfnMock = mockClient(SFNClient);
  const executionArn = 'arn:aws:states:us-east-1:123456789012:execution:RunStateMachine4F1C-abc:r1';
  const batchSources = (over: Partial<BatchSources> = {}): BatchSources => ({
    batch: new BatchClient({ region: 'us-east-1' }),
    sfn: new SFNClient({ region: 'us-east-1' }),
    jobQueueName: 'RunQueue-7Hq2',
    executionArn,
    instanceTypes: ['g4dn.xlarge'],
    spot: false,
    ...over,
  });
  beforeEach(() => {
    batchMock.reset();
    sfnMock.reset();
  });

  test('shows the execution, each unit job and the cost of every attempt, without an instance id', async () => {
    batchMock.on(ListJobsCommand).resolves(LIST_JOBS);
    batchMock.on(DescribeJobsCommand).resolves(DESCRIBE_JOBS);
    sfnMock.on(DescribeExecutionCommand).resolves({
      executionArn,
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:RunStateMachine4F1C-abc',
      status: 'RUNNING',
      startDate: new Date('2026-11-29T01:00:00Z'),
    });
    const r = await collectStatus(
      { reader, ec2: null, instanceId: null, noInstanceReason: 'one per job', batch: batchSources(), now },
      // A run that has not written its status yet: Batch is what shows progress.
      'r1',
    );
    expect(batchMock.commandCalls(ListJobsCommand)[0]?.args[0].input.jobQueue).toBe('RunQueue-7Hq2');
    expect(r.batch?.execution?.status).toBe('RUNNING');
    expect(r.batch?.jobs.map((j) => [j.unit, j.status, j.attempts])).toEqual([
      ['baseline', 'SUCCEEDED', 1],
      ['specialists/nose-tip', 'RUNNING', 2],
    ]);
    // Baseline 1 h + reclaimed attempt 1 h + the retry since 03:30 (30 min).
    expect(r.batch?.cost?.hours).toBeCloseTo(2.5, 9);
    expect(r.batch?.cost?.usd).toBeCloseTo(2.5 * (ON_DEMAND_USD_PER_HOUR['g4dn.xlarge'] ?? Number.NaN), 9);

    const text = formatStatus(r);
    expect(text).toMatch(/execution:\s+RUNNING, started 2026-11-29T01:00:00.000Z/);
    expect(text).toMatch(/instance:\s+one per job/);
    expect(text).toMatch(/specialists\/nose-tip\s+RUNNING\s+2\s+2c3d-nose\s+5555eeee6666/);
    expect(text).toMatch(/baseline\s+SUCCEEDED\s+1\s+0a1b-base\s+Essential container in task exited/);
    expect(text).toMatch(/cost so far:\s+\$1\.3\d? \(2\.50 job h/);
  });

  test('--watch stops once the execution has ended, not while it runs', async () => {
    batchMock.on(ListJobsCommand).resolves({ jobSummaryList: [] });
    const started = { executionArn, stateMachineArn: 'sm', startDate: new Date('2026-11-29T01:00:00Z') };
    sfnMock
      .on(DescribeExecutionCommand)
      .resolvesOnce({ ...started, status: 'RUNNING' })
      .resolves({ ...started, status: 'SUCCEEDED', stopDate: new Date('2026-11-29T03:59:00Z') });
    let sleeps = 0;
    const final = await watchStatus(
      () => collectStatus({ reader, ec2: null, instanceId: null, batch: batchSources(), now }, 'r1'),
      {
        intervalMs: 30_000,
        out: { write: () => true } as unknown as NodeJS.WritableStream,
        shouldStop: () => sleeps > 5,
        sleep: async () => {
          sleeps++;
        },
      },
    );
    expect(final.batch?.execution?.status).toBe('SUCCEEDED');
    expect(sleeps).toBe(1);
    expect(formatStatus(final)).toContain(`jobs: no jobs of this run in queue RunQueue-7Hq2 yet`);
  });

  test('a denied Batch call blanks only the jobs; the execution still shows', async () => {
    batchMock.on(ListJobsCommand).rejects(
      new BatchServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'not authorized',
      }),
    );
    sfnMock.on(DescribeExecutionCommand).resolves({
      executionArn,
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:RunStateMachine4F1C-abc',
      status: 'FAILED',
      startDate: new Date('2026-11-29T01:00:00Z'),
      stopDate: new Date('2026-11-29T02:00:00Z'),
      error: 'States.TaskFailed',
    });
    const r = await collectStatus(
      { reader, ec2: null, instanceId: null, batch: batchSources(), now },
      'booting',
    );
    const text = formatStatus(r);
    expect(text).toMatch(/execution:\s+FAILED \(States\.TaskFailed\)/);
    expect(text).toContain('jobs: access denied: your AWS identity lacks the permission batch:ListJobs');
    expect(r.batch?.cost).toBeNull();
  });
});
