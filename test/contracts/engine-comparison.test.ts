import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  START_HOURS,
  compareEngines,
  formatEngineComparison,
  makespan,
  seedUnitHours,
} from '../../contracts/engine-comparison';
import { ON_DEMAND_USD_PER_HOUR } from '../../contracts/instance-prices';

describe('makespan', () => {
  it('starts each job, in order, on the first free slot', () => {
    expect(makespan([3, 1, 1, 1], 2)).toBe(3);
    // The same jobs in another order end later: the Map state starts them in list order.
    expect(makespan([1, 1, 1, 3], 2)).toBe(4);
    expect(makespan([2, 2, 2], 1)).toBe(6);
    expect(makespan([2, 2, 2], 10)).toBe(2);
    expect(makespan([], 3)).toBe(0);
  });

  it('refuses a parallelism below one', () => {
    expect(() => makespan([1], 0)).toThrow(
      'makespan: expected a whole number of parallel slots of at least 1, found 0',
    );
  });
});

describe('compareEngines', () => {
  it("splits the seed's measured 81 specialist hours evenly (every specialist sees about 1e7 images)", () => {
    expect(seedUnitHours()).toEqual({ baseline: 1.6, specialists: Array(6).fill(13.5), report: 0 });
  });

  it('on the seed hours: Batch with two in parallel halves the wall time for eight starts instead of one', () => {
    const c = compareEngines({ hours: seedUnitHours(), maxParallel: 2, usdPerHour: 0.526 });
    // One start, the baseline, six specialists of 13.5 h in turn.
    expect(c.instance.wallHours).toBeCloseTo(START_HOURS + 1.6 + 81, 9);
    expect(c.instance.usd).toBeCloseTo(82.75 * 0.526, 9);
    // Baseline job, three rounds of two specialist jobs, the report job: each with its own start.
    expect(c.batch.wallHours).toBeCloseTo(0.15 + 1.6 + 3 * (0.15 + 13.5) + 0.15, 9);
    expect(c.batch.instanceHours).toBeCloseTo(1.6 + 81 + 8 * 0.15, 9);
    expect(c.batch.usd).toBeCloseTo(83.8 * 0.526, 9);
    expect(formatEngineComparison(c)).toBe(
      'instance 82.8 h $43.53; batch x2 42.9 h $44.08 (at $0.526/h, 9 min start per instance)',
    );
  });

  it('with six in parallel the specialists take as long as one, at the same cost', () => {
    const two = compareEngines({ hours: seedUnitHours(), maxParallel: 2, usdPerHour: 1 });
    const six = compareEngines({ hours: seedUnitHours(), maxParallel: 6, usdPerHour: 1 });
    expect(six.batch.wallHours).toBeCloseTo(0.15 + 1.6 + 13.65 + 0.15, 9);
    expect(six.batch.usd).toBeCloseTo(two.batch.usd, 9);
    // One job at a time is slower than the instance: every job pays its own start.
    const one = compareEngines({ hours: seedUnitHours(), maxParallel: 1, usdPerHour: 1 });
    expect(one.batch.wallHours).toBeGreaterThan(one.instance.wallHours);
  });
});

describe('README, "Parallel specialists on AWS Batch"', () => {
  it('shows the table this module computes for g4dn.xlarge on demand', () => {
    const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    const usdPerHour = ON_DEMAND_USD_PER_HOUR['g4dn.xlarge'] ?? Number.NaN;
    const row = (engine: string, f: { wallHours: number; instanceHours: number; usd: number }) =>
      `| ${engine} | ${f.wallHours.toFixed(1)} h | ${f.instanceHours.toFixed(1)} h | $${f.usd.toFixed(2)} |`;
    const compare = (maxParallel: number) =>
      compareEngines({ hours: seedUnitHours(), maxParallel, usdPerHour });
    const table = [
      `| engine | wall time | instance hours | cost at $${usdPerHour}/h |`,
      '|---|---|---|---|',
      row('instance', compare(1).instance),
      ...[1, 2, 3, 6].map((n) => row(`batch, maxParallel=${n}`, compare(n).batch)),
    ].join('\n');
    expect(readme).toContain(table);
    expect(readme).toContain(`with ${START_HOURS * 60} minutes for every instance start`);
  });
});
