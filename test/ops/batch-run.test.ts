import { ON_DEMAND_USD_PER_HOUR } from '../../contracts/instance-prices';
import type { BatchJob } from '../../ops/aws/batch';
import { batchJobHours, batchJobPrefix, estimateBatchCost, unitJobs } from '../../ops/batch-run';

const now = new Date('2026-11-29T04:00:00Z');
const d = (iso: string) => new Date(iso);

function job(name: string, over: Partial<BatchJob> = {}): BatchJob {
  return {
    jobId: `id-${name}`,
    jobName: name,
    status: 'SUCCEEDED',
    statusReason: null,
    units: null,
    createdAt: d('2026-11-29T01:00:00Z'),
    startedAt: null,
    stoppedAt: null,
    attempts: [],
    current: null,
    ...over,
  };
}

const baseline = job('r1-baseline', {
  units: 'baseline',
  attempts: [
    {
      startedAt: d('2026-11-29T01:00:00Z'),
      stoppedAt: d('2026-11-29T02:00:00Z'),
      containerInstanceArn: null,
      logStreamName: null,
      statusReason: null,
    },
  ],
});
// One reclaimed hour, then a retry running for 30 minutes.
const nose = job('r1-nose-tip', {
  units: 'specialists/nose-tip',
  status: 'RUNNING',
  startedAt: d('2026-11-29T03:30:00Z'),
  attempts: [
    {
      startedAt: d('2026-11-29T02:00:00Z'),
      stoppedAt: d('2026-11-29T03:00:00Z'),
      containerInstanceArn: 'arn:aws:ecs:us-east-1:1:container-instance/c/old',
      logStreamName: null,
      statusReason: 'Host EC2 (instance i-0a) terminated.',
    },
  ],
  current: {
    containerInstanceArn: 'arn:aws:ecs:us-east-1:1:container-instance/c/abc123',
    logStreamName: 'r1/default/t',
  },
});

test('the job prefix replaces dots as the state machine does', () => {
  expect(batchJobPrefix('2026-11-29.a')).toBe('2026-11-29_a-');
});

test('one row per unit, baseline first and report last, newest job per unit, other runs ignored', () => {
  const rerun = job('r1-baseline', {
    jobId: 'id-rerun',
    units: 'baseline',
    status: 'RUNNABLE',
    createdAt: d('2026-11-29T03:50:00Z'),
  });
  const report = job('r1-report', { status: 'PENDING' });
  const otherRun = job('r10-baseline', { units: 'baseline' });
  const rows = unitJobs([report, nose, baseline, rerun, otherRun], 'r1');
  expect(rows.map((r) => [r.unit, r.jobId, r.status, r.attempts])).toEqual([
    ['baseline', 'id-rerun', 'RUNNABLE', 0],
    ['specialists/nose-tip', 'id-r1-nose-tip', 'RUNNING', 2],
    ['report', 'id-r1-report', 'PENDING', 0],
  ]);
  expect(rows[1]?.containerInstance).toBe('abc123');
});

test('job hours add every finished attempt and the running one until now', () => {
  expect(batchJobHours([baseline, nose], now)).toBeCloseTo(2.5, 9);
  expect(batchJobHours([job('r1-report', { status: 'RUNNABLE' })], now)).toBe(0);
});

test('cost is job hours at the dearest allowed type, an upper bound with spot', () => {
  const c = estimateBatchCost([baseline, nose], ['g4dn.xlarge', 'g5.xlarge'], true, now);
  expect(c.usdPerHour).toBe(ON_DEMAND_USD_PER_HOUR['g5.xlarge']);
  expect(c.usd).toBeCloseTo(2.5 * (ON_DEMAND_USD_PER_HOUR['g5.xlarge'] ?? Number.NaN), 9);
  expect(c.running).toBe(1);
  expect(c.priceSource).toContain('g5.xlarge');
  expect(c.priceSource).toContain('upper bound');

  const unknown = estimateBatchCost([baseline], ['p9.mega'], false, now);
  expect(unknown.usd).toBeNull();
  expect(unknown.priceSource).toBe('no list price known for p9.mega');
});
