import { compareEngines } from '../../../contracts/engine-comparison';
import { ON_DEMAND_USD_PER_HOUR } from '../../../contracts/instance-prices';
import { SPECIALISTS } from '../../../contracts/keypoints';
import { describePlanEngines, planUnitHours } from '../../../trainer/run/engine-estimate';
import type { PlannedUnit, RunPlan } from '../../../trainer/run/plan';

/** Only the fields the engine estimate reads; the rest of a unit does not matter to it. */
function unit(name: string, seconds: number | null, done = false): PlannedUnit {
  return {
    kind: name === 'mean' ? 'computed' : 'trained',
    unit: name,
    estimatedSeconds: seconds,
    done,
  } as unknown as PlannedUnit;
}

const specialistUnits = (seconds: (i: number) => number, done = false) =>
  SPECIALISTS.map((s, i) => unit(`specialists/${s.name}`, seconds(i), done));

const plan = (units: PlannedUnit[]): RunPlan => ({ units, imagesPerSecond: {} });

describe('planUnitHours', () => {
  it("takes the baseline's and each specialist's estimated hours from the plan", () => {
    const hours = planUnitHours(
      plan([unit('mean', null), unit('baseline', 1800), ...specialistUnits((i) => 3600 * (i + 1))]),
    );
    expect(hours).toEqual({ baseline: 0.5, specialists: [1, 2, 3, 4, 5, 6], report: 0 });
  });

  it('counts finished units as nothing left to pay for', () => {
    const hours = planUnitHours(plan([unit('baseline', 1800, true), ...specialistUnits(() => 7200)]));
    expect(hours?.baseline).toBe(0);
    expect(hours?.specialists).toEqual([2, 2, 2, 2, 2, 2]);
  });

  it('has nothing to compare without specialists or without a measured speed', () => {
    expect(planUnitHours(plan([unit('mean', null), unit('cnn', 600)]))).toBeNull();
    expect(planUnitHours(plan([unit('baseline', null), ...specialistUnits(() => 60)]))).toBeNull();
  });
});

describe('describePlanEngines', () => {
  const units = [unit('baseline', 3600), ...specialistUnits(() => 7200)];

  it('compares the instance with Batch at 2 and 6 in parallel, priced for the EC2 type it runs on', () => {
    const lines = describePlanEngines(plan(units), 'g5.xlarge');
    const usdPerHour = ON_DEMAND_USD_PER_HOUR['g5.xlarge']!;
    const six = compareEngines({
      hours: { baseline: 1, specialists: [2, 2, 2, 2, 2, 2], report: 0 },
      maxParallel: 6,
      usdPerHour,
    });
    expect(lines[0]).toMatch(
      /^engines at this g5\.xlarge's measured speed and on-demand price \(\$\d\.\d{3}\/h, /,
    );
    expect(lines).toHaveLength(4);
    expect(lines[1]).toBe(
      `  instance     ${six.instance.wallHours.toFixed(1)} h  $${six.instance.usd.toFixed(2)}`,
    );
    expect(lines[1]).toMatch(/ 13\.\d h /);
    expect(lines[2]).toMatch(/^ {2}batch x2 +\d+\.\d h {2}\$/);
    expect(lines[3]).toBe(
      `  batch x6      ${six.batch.wallHours.toFixed(1)} h  $${six.batch.usd.toFixed(2)}`,
    );
    // Six specialists side by side end much sooner than one after another, for a few more instance starts.
    expect(six.batch.wallHours).toBeLessThan(six.instance.wallHours / 3);
  });

  it("on a laptop says the speed is this machine's and prices the default instance type", () => {
    expect(describePlanEngines(plan(units), null)[0]).toMatch(
      /^engines at this machine's measured speed \(a GPU instance is faster\), priced as g4dn\.xlarge on-demand \(/,
    );
  });

  it('prints nothing for a run without specialists', () => {
    expect(describePlanEngines(plan([unit('mlp', 60)]), null)).toEqual([]);
  });
});
