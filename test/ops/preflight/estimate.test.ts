import { UNDEPLOYABLE_CONFIG, type DeployConfig } from '../../../contracts/deploy-config';
import { estimateRun } from '../../../ops/preflight/estimate';
import { verdictOf } from '../../../ops/preflight/report';

const config = (over: Partial<DeployConfig>): DeployConfig => ({
  ...UNDEPLOYABLE_CONFIG,
  runId: '20261202-120000',
  budgetUsd: 50,
  alertEmail: 'me@example.com',
  ...over,
});
const SPOT = {
  availabilityZone: 'eu-west-1b',
  usdPerHour: 0.171,
  timestamp: new Date('2026-12-02T08:30:00Z'),
};

test('on demand above the budget: the budget action stops the instance after budget / price hours', () => {
  const e = estimateRun(config({ instanceType: 'g5.xlarge', maxHours: 72, budgetUsd: 20 }), SPOT, null);
  expect(e).toMatchObject({
    onDemandUsdPerHour: 1.006,
    capUsd: 72.43,
    capOnDemandUsd: 72.43,
    capSpotUsd: 12.31,
  });
  expect(e.budgetNote).toBe(
    'the run may cost up to $72.43, above the $20.00 budget: the budget action stops the instance at 100%, after about 19.9 h if nothing else is billed',
  );
});

test('spot above the budget: only the alerts and maxHours apply, since a spot instance cannot be stopped', () => {
  const e = estimateRun(config({ spot: true, maxHours: 168, budgetUsd: 10 }), SPOT, null);
  expect(e).toMatchObject({ market: 'spot', capUsd: 28.73 });
  expect(e.budgetNote).toContain(
    'a spot instance cannot be stopped, so only the alert emails and maxHours apply',
  );
});

test('no budget, and a project-scoped budget whose tag is not active', () => {
  expect(estimateRun(config({ budgetUsd: 0 }), null, null).budgetNote).toBe(
    'no budget (budgetUsd=0): only maxHours limits the cost',
  );
  expect(estimateRun(config({ budgetScope: 'project' }), null, 'inactive').budgetNote).toContain(
    'it may not see this run at all',
  );
  expect(estimateRun(config({ budgetScope: 'project' }), null, 'active').budgetNote).toContain(
    'under the $50.00 monthly budget',
  );
});

test('the verdict: a failure blocks (1); warnings pass (0), or exit 2 with --strict; skips never count', () => {
  const c = (state: 'pass' | 'warn' | 'fail' | 'skip') => ({
    id: 'docker' as const,
    title: 't',
    state,
    detail: '',
    fix: null,
  });
  expect(verdictOf([c('pass'), c('warn'), c('fail')], false)).toEqual({ verdict: 'blocked', exitCode: 1 });
  expect(verdictOf([c('pass'), c('warn')], false)).toEqual({ verdict: 'warnings', exitCode: 0 });
  expect(verdictOf([c('pass'), c('warn')], true)).toEqual({ verdict: 'warnings', exitCode: 2 });
  expect(verdictOf([c('pass'), c('skip')], true)).toEqual({ verdict: 'ready', exitCode: 0 });
});

test('compares the engines for the seed preset at the chosen market price, and says what Batch has no budget action for', () => {
  const onDemand = estimateRun(config({ maxParallel: 3 }), SPOT, null);
  expect(onDemand.engine).toBe('instance');
  expect(onDemand.engineComparison).toBe(
    'instance 82.8 h $43.53; batch x3 29.2 h $44.08 (at $0.526/h, 9 min start per instance); hours as the seed measured them on a g2.2xlarge, g4dn.xlarge on-demand list price',
  );
  const batch = estimateRun(config({ engine: 'batch', spot: true, maxHours: 24 }), SPOT, null);
  expect(batch.engineComparison).toBe(
    'instance 82.8 h $14.15; batch x2 42.9 h $14.33 (at $0.171/h, 9 min start per instance); hours as the seed measured them on a g2.2xlarge, g4dn.xlarge spot at $0.171/h in eu-west-1b',
  );
  expect(batch.budgetNote).toBe(
    'each job may cost up to $4.10 (maxHours per attempt); engine=batch has no budget action, so above the $50.00 budget only the alert emails and the job timeouts apply',
  );
  expect(estimateRun(config({ preset: 'quick' }), SPOT, null).engineComparison).toBe(
    'no measured hours for preset quick: facepoints train --preset quick --dry-run measures its speed',
  );
});
