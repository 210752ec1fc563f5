/**
 * GPU instance types the training stack accepts, and what they cost. Read by the CDK app (validation,
 * outputs) and by the operator `cost` command, so this module must not import aws-cdk-lib.
 *
 * Why only g4dn and g5: @tensorflow/tfjs-node-gpu 4.22 bundles libtensorflow 2.9.1 (built on CUDA 11.2, cuDNN 8.1; the image brings CUDA 11.8 and cuDNN 8.5 libraries).
 * Its own kernels are compiled natively up to sm_75 (T4 on g4dn) and carry compute_80 PTX, which the host
 * driver JIT-compiles for sm_86 (A10G on g5; the first start takes minutes); cuDNN 8.1 and cuBLAS 11.2
 * ship sm_86 kernels. The L4/L40S of g6/g6e (sm_89) would need the same PTX JIT for TensorFlow's kernels,
 * and the image's cuDNN 8.5 predates that architecture (support came with cuDNN 8.6), and
 * nobody has run this stack there: they are refused rather than left to fail after the instance is billed.
 * Only single-GPU sizes: the trainer uses one GPU.
 */

export interface GpuInstanceFamily {
  /** GPU model. */
  gpu: string;
  /** CUDA compute capability of the GPU. */
  computeCapability: string;
  /** How libtensorflow 2.9.1 runs on it. */
  kernels: 'native' | 'ptx-jit';
}

export const GPU_FAMILIES: Record<string, GpuInstanceFamily> = {
  g4dn: { gpu: 'NVIDIA T4', computeCapability: '7.5', kernels: 'native' },
  g5: { gpu: 'NVIDIA A10G', computeCapability: '8.6', kernels: 'ptx-jit' },
};

/**
 * On-Demand price in USD per hour, Linux, US East (N. Virginia), from the Amazon EC2 On-Demand pricing
 * page (https://aws.amazon.com/ec2/pricing/on-demand/, the same figures the AWS Price List API returns),
 * as quoted on 2026-11-29. Other regions cost more or less; spot is usually 50-70% cheaper.
 */
export const ON_DEMAND_USD_PER_HOUR: Record<string, number> = {
  'g4dn.xlarge': 0.526,
  'g4dn.2xlarge': 0.752,
  'g4dn.4xlarge': 1.204,
  'g4dn.8xlarge': 2.176,
  'g4dn.16xlarge': 4.352,
  'g5.xlarge': 1.006,
  'g5.2xlarge': 1.212,
  'g5.4xlarge': 1.624,
  'g5.8xlarge': 2.448,
  'g5.16xlarge': 4.096,
};

/**
 * vCPUs and memory of each supported type (Amazon EC2 accelerated computing instance specifications). The
 * Batch job definition asks for what the smallest allowed type can give, so that every one can run it.
 */
export const INSTANCE_SIZES: Record<string, { vcpus: number; memoryGiB: number }> = {
  'g4dn.xlarge': { vcpus: 4, memoryGiB: 16 },
  'g4dn.2xlarge': { vcpus: 8, memoryGiB: 32 },
  'g4dn.4xlarge': { vcpus: 16, memoryGiB: 64 },
  'g4dn.8xlarge': { vcpus: 32, memoryGiB: 128 },
  'g4dn.16xlarge': { vcpus: 64, memoryGiB: 256 },
  'g5.xlarge': { vcpus: 4, memoryGiB: 16 },
  'g5.2xlarge': { vcpus: 8, memoryGiB: 32 },
  'g5.4xlarge': { vcpus: 16, memoryGiB: 64 },
  'g5.8xlarge': { vcpus: 32, memoryGiB: 128 },
  'g5.16xlarge': { vcpus: 64, memoryGiB: 256 },
};

/** The size of a supported type; an unsupported one is a programming error (the config refuses it first). */
export function instanceSize(instanceType: string): { vcpus: number; memoryGiB: number } {
  const size = INSTANCE_SIZES[instanceType];
  if (!size)
    throw new Error(
      `instance type: expected one of ${SUPPORTED_INSTANCE_TYPES.join(', ')}, found "${instanceType}"`,
    );
  return size;
}

export const PRICES_AS_OF = '2026-11-29';
export const PRICES_REGION = 'us-east-1';
export const PRICES_SOURCE = 'https://aws.amazon.com/ec2/pricing/on-demand/';

export const SUPPORTED_INSTANCE_TYPES: readonly string[] = Object.keys(ON_DEMAND_USD_PER_HOUR);

export const DEFAULT_INSTANCE_TYPE = 'g4dn.xlarge';

/** `g4dn` of `g4dn.xlarge`. */
function familyOf(instanceType: string): string {
  return instanceType.split('.', 1)[0] ?? '';
}

/** The GPU family of a supported instance type, or undefined for anything else. */
export function gpuFamilyOf(instanceType: string): GpuInstanceFamily | undefined {
  if (!SUPPORTED_INSTANCE_TYPES.includes(instanceType)) return undefined;
  return GPU_FAMILIES[familyOf(instanceType)];
}

/**
 * The types a launch may use, best first: the asked-for type, and for spot the next two larger sizes of
 * the same GPU family (same GPU, more vCPUs and memory, a higher price), which draw on other spot pools
 * when the first one has no capacity. On demand the asked-for type only: its price is what was chosen.
 */
export function launchInstanceTypes(instanceType: string, spot: boolean): string[] {
  if (!spot) return [instanceType];
  const family = familyOf(instanceType);
  const price = (t: string) => ON_DEMAND_USD_PER_HOUR[t] ?? Number.POSITIVE_INFINITY;
  const sameFamily = SUPPORTED_INSTANCE_TYPES.filter((t) => familyOf(t) === family).sort(
    (a, b) => price(a) - price(b),
  );
  const from = sameFamily.indexOf(instanceType);
  return from < 0 ? [instanceType] : sameFamily.slice(from, from + 3);
}
