import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_INSTANCE_TYPE,
  ON_DEMAND_USD_PER_HOUR,
  SUPPORTED_INSTANCE_TYPES,
  gpuFamilyOf,
  instanceSize,
  launchInstanceTypes,
} from '../../contracts/instance-prices';

describe('instance prices', () => {
  it('prices every supported type and defaults to the T4 instance with native kernels', () => {
    expect(SUPPORTED_INSTANCE_TYPES).toContain(DEFAULT_INSTANCE_TYPE);
    for (const t of SUPPORTED_INSTANCE_TYPES) expect(ON_DEMAND_USD_PER_HOUR[t]).toBeGreaterThan(0);
    expect(gpuFamilyOf(DEFAULT_INSTANCE_TYPE)).toEqual({
      gpu: 'NVIDIA T4',
      computeCapability: '7.5',
      kernels: 'native',
    });
  });

  it('knows the vCPUs and memory of every supported type, and refuses any other', () => {
    for (const t of SUPPORTED_INSTANCE_TYPES) expect(instanceSize(t).vcpus).toBeGreaterThanOrEqual(4);
    expect(instanceSize('g4dn.xlarge')).toEqual({ vcpus: 4, memoryGiB: 16 });
    expect(instanceSize('g5.4xlarge')).toEqual({ vcpus: 16, memoryGiB: 64 });
    expect(() => instanceSize('g6.xlarge')).toThrow(
      `instance type: expected one of ${SUPPORTED_INSTANCE_TYPES.join(', ')}, found "g6.xlarge"`,
    );
  });

  it('supports only families libtensorflow 2.9.1 (CUDA 11.2) can run on', () => {
    expect(gpuFamilyOf('g5.xlarge')?.kernels).toBe('ptx-jit');
    for (const t of ['g6.xlarge', 'g6e.xlarge', 'p3.2xlarge', 'p5.48xlarge', 'g4dn.12xlarge', 'm5.large'])
      expect(gpuFamilyOf(t)).toBeUndefined();
  });

  it('is importable without aws-cdk-lib (the operator cost command reads it)', () => {
    const source = readFileSync(join(__dirname, '../../contracts/instance-prices.ts'), 'utf8');
    expect(source).not.toMatch(/from ['"](aws-cdk-lib|constructs)/);
  });

  it('matches the price table in the README', () => {
    const doc = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    for (const t of SUPPORTED_INSTANCE_TYPES) {
      expect(doc).toMatch(
        new RegExp(
          `\\| ${t.replace('.', '\\.')} \\|[^\\n]*\\| \\$${(ON_DEMAND_USD_PER_HOUR[t] ?? Number.NaN).toFixed(3)} \\|`,
        ),
      );
    }
  });
});

describe('launchInstanceTypes', () => {
  it('is the asked-for type alone on demand, whose price was chosen', () => {
    expect(launchInstanceTypes('g4dn.xlarge', false)).toEqual(['g4dn.xlarge']);
  });

  it('adds the next two larger sizes of the same GPU family for spot, cheapest first', () => {
    expect(launchInstanceTypes('g4dn.xlarge', true)).toEqual(['g4dn.xlarge', 'g4dn.2xlarge', 'g4dn.4xlarge']);
    expect(launchInstanceTypes('g5.8xlarge', true)).toEqual(['g5.8xlarge', 'g5.16xlarge']);
  });
});
