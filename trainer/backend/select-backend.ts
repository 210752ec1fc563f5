import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { BACKENDS, type BackendName } from '../config';
import { registerWasmTrainingKernels } from './wasm-kernels';

export interface SelectedBackend {
  name: BackendName;
  /** Name of the GPU the native backend sees, or null on CPU backends. */
  gpuName: string | null;
  /** Threads the backend computes with (the wasm build that runs in Node is single-threaded). */
  threads: number;
}

export interface SelectBackendOptions {
  /** Force one backend; when absent the first that loads, in BACKENDS order, is used. */
  backend?: BackendName;
  /** Fail at once unless a GPU backend loads and a GPU is visible. */
  requireGpu: boolean;
  log: (line: string) => void;
}

/** The npm package that provides each backend (null: part of @tensorflow/tfjs). */
export const BACKEND_PACKAGES: Record<BackendName, string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs',
};

const GPU_BACKENDS: readonly BackendName[] = ['tensorflow-gpu'];

/** Error thrown when no acceptable backend loads; `attempts` lists each backend tried and why it failed. */
export class BackendUnavailableError extends Error {
  constructor(
    message: string,
    readonly attempts: ReadonlyArray<{ backend: BackendName; reason: string }>,
  ) {
    super(message);
    this.name = 'BackendUnavailableError';
  }
}

type Loader = () => Promise<{ gpuName: string | null; threads: number }>;

/**
 * Picks the fastest backend that works here, in the order tfjs-node-gpu, tfjs-node, wasm, cpu, and makes it
 * the active tfjs backend. The native packages are optional dependencies: a failed require is logged and
 * skipped. A forced backend that cannot load, or `requireGpu` without a working GPU backend, is an error.
 */
export async function selectBackend(opts: SelectBackendOptions): Promise<SelectedBackend> {
  const candidates: readonly BackendName[] = opts.backend
    ? [opts.backend]
    : opts.requireGpu
      ? GPU_BACKENDS
      : BACKENDS;
  if (opts.requireGpu && opts.backend && !GPU_BACKENDS.includes(opts.backend)) {
    throw new BackendUnavailableError(
      `--require-gpu: expected a GPU backend (${GPU_BACKENDS.join(', ')}), but --backend ${opts.backend} was forced`,
      [{ backend: opts.backend, reason: 'not a GPU backend' }],
    );
  }
  const attempts: Array<{ backend: BackendName; reason: string }> = [];
  for (const name of candidates) {
    try {
      const { gpuName, threads } = await LOADERS[name]();
      if (opts.requireGpu && gpuName === null) {
        throw new Error(
          `${BACKEND_PACKAGES[name]} loaded but TensorFlow runs on the CPU (no GPU device: a missing CUDA 11 or cuDNN 8 library, or no GPU passed to the container)`,
        );
      }
      opts.log(
        `backend: ${name} (${BACKEND_PACKAGES[name]}${gpuName ? `, GPU ${gpuName}` : ''}, ${threads} thread${threads === 1 ? '' : 's'})`,
      );
      return { name, gpuName, threads };
    } catch (err) {
      const reason = firstLine(err);
      attempts.push({ backend: name, reason });
      opts.log(`backend: skipping ${name}: ${reason}`);
    }
  }
  const tried = attempts.map((a) => `${a.backend}: ${a.reason}`).join('; ');
  if (opts.requireGpu) {
    throw new BackendUnavailableError(
      `--require-gpu: no GPU backend works (tried ${tried}). Run in the GPU container (CUDA 11, cuDNN 8) ` +
        `on a GPU instance, or drop --require-gpu to train on the CPU.`,
      attempts,
    );
  }
  if (opts.backend) {
    throw new BackendUnavailableError(`--backend ${opts.backend} cannot be used here (${tried})`, attempts);
  }
  throw new BackendUnavailableError(`no tfjs backend could be started (tried ${tried})`, attempts);
}

const LOADERS: Record<BackendName, Loader> = {
  'tensorflow-gpu': async () => {
    await loadNative('@tensorflow/tfjs-node-gpu');
    return { gpuName: gpuNameOf(tf.backend(), visibleGpuName()), threads: os.cpus().length };
  },
  tensorflow: async () => {
    await loadNative('@tensorflow/tfjs-node');
    return { gpuName: null, threads: os.cpus().length };
  },
  wasm: async () => {
    // The binaries ship inside the package; pointing at them keeps tfjs from fetching anything.
    const wasmDir = path.dirname(
      require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'),
    );
    try {
      setWasmPaths(`${wasmDir}${path.sep}`);
    } catch {
      // Already initialised by an earlier selection in this process: the paths are already set.
    }
    registerWasmTrainingKernels();
    await activate('wasm');
    return { gpuName: null, threads: 1 };
  },
  cpu: async () => {
    await activate('cpu');
    return { gpuName: null, threads: 1 };
  },
};

async function loadNative(pkg: string): Promise<void> {
  try {
    // Both native packages register a backend named 'tensorflow' on the shared tfjs-core when required.
    require(pkg);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'MODULE_NOT_FOUND'
        ? `${pkg} is not installed (optional dependency; its install needs network access to download libtensorflow)`
        : `${pkg} failed to load: ${firstLine(err)}`,
    );
  }
  await activate('tensorflow');
}

async function activate(name: string): Promise<void> {
  if (tf.findBackendFactory(name) === null) throw new Error(`tfjs has no backend named '${name}' registered`);
  const ok = await tf.setBackend(name);
  if (!ok || tf.getBackend() !== name) throw new Error(`tfjs backend '${name}' failed to initialise`);
}

/**
 * The GPU the loaded native backend computes on, or null when it runs on the CPU. TensorFlow itself is
 * asked first: tfjs-node's backend reports whether libtensorflow placed its context on a GPU device, which
 * is false when a CUDA or cuDNN library is missing even though the driver and `nvidia-smi` see the GPU (the
 * costly case: CPU training at GPU prices). The name comes from `nvidia-smi` when TensorFlow uses a GPU.
 */
export function gpuNameOf(backend: unknown, smiName: string | null): string | null {
  const usesGpu = (backend as { isUsingGpuDevice?: unknown } | null)?.isUsingGpuDevice === true;
  if (!usesGpu) return null;
  return smiName ?? 'GPU (name unknown: nvidia-smi is not available)';
}

/** The GPU's name from the driver's own tool, which the NVIDIA Container Toolkit mounts into containers. */
function visibleGpuName(): string | null {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const first = out.split('\n')[0]?.trim();
    return first ? first : null;
  } catch {
    return null;
  }
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] ?? message;
}
