import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createCheckpointer } from '../trainer/storage/durable-checkpointer';
import { S3Store } from '../trainer/storage/s3-store';

export interface CheckpointOverheadOptions {
  /** Simulated epochs per mode (without, then with checkpoints). @default 3 */
  epochs?: number;
  /** Length of one simulated epoch without checkpoints. @default 30 (the seed CNN's epoch here is ~1 min at 30 img/s) */
  epochSeconds?: number;
  /** Size of each of the weights, optimizer-state and best-weights files. @default 66e6 (16.56M float32 parameters) */
  fileBytes?: number;
  log?: (line: string) => void;
  /** Upload on a worker thread (S3StoreOptions.uploadInWorker), to compare. @default the store's default (true) */
  uploadInWorker?: boolean;
}

export interface CheckpointOverheadResult {
  /** Extra wall time of epochs with a checkpoint each, over the same epochs without: the target is < 0.02. */
  checkpointOverheadFraction: number;
  /** Time the training loop waited inside save() per checkpoint, and as a fraction of an epoch. */
  checkpointBlockedMsPerSave: number;
  checkpointBlockedFraction: number;
  /**
   * Training-thread time taken by checkpointing (waits in save() plus upload work run between batches) per
   * unit of epoch time: the overhead on a machine with a core to spare, where contention does not blur it.
   */
  checkpointMainThreadFraction: number;
  /** CPU time of this process (all threads: hashing, uploads) per checkpoint, beyond the training work. */
  checkpointCpuSecondsPerSave: number;
  checkpointMegabytes: number;
  checkpointEpochSeconds: number;
  /** Time from the last save() to everything durable in S3 (flush). */
  checkpointFinalFlushMs: number;
  checkpointUploadMegabytesPerSecond: number;
  /**
   * CPU time of the training thread (the process's main thread) per checkpoint, from save() until it is
   * durable in S3, measured with no training running (Linux /proc): what checkpointing takes from training
   * on a machine with a core to spare (the GPU instance), free of this machine's drift.
   */
  checkpointTrainingThreadCpuMsPerSave?: number;
  /** checkpointTrainingThreadCpuMsPerSave over the epoch length: the overhead target (< 0.02) applies here. */
  checkpointTrainingThreadFraction?: number;
}

/**
 * Checkpointing every epoch to a local S3 server (s3rver in a child process, standing in for remote S3)
 * with background uploads on, measured against the same simulated epochs without checkpoints. An epoch is
 * a fixed amount of single-threaded CPU work in batches, yielding between batches like the training
 * loop, so contention from hashing and uploads shows as longer epochs.
 */
export async function benchCheckpointOverhead(
  opts: CheckpointOverheadOptions = {},
): Promise<CheckpointOverheadResult> {
  const epochs = opts.epochs ?? 3;
  const epochSeconds = opts.epochSeconds ?? 30;
  const fileBytes = opts.fileBytes ?? 66e6;
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'facepoints-bench-s3-'));
  const server = await startS3rverProcess(dir, 'bench');
  const env = {
    ...process.env,
    AWS_ENDPOINT_URL_S3: server.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  };
  // As the trainer opens it (openStore), unless told otherwise.
  const store = new S3Store('s3://bench/runs/bench', { env, log, uploadInWorker: opts.uploadInWorker });
  try {
    const batches = 20;
    const workPerBatch = calibrate((epochSeconds * 1000) / batches);
    const files = {
      'state.json': new Uint8Array(
        Buffer.from(JSON.stringify({ epoch: 0, history: new Array(1000).fill(0.01) })),
      ),
      'weights.bin': filled(fileBytes, 1),
      'optimizer.bin': filled(fileBytes, 2),
      'best.bin': filled(fileBytes, 3),
    };
    const megabytes = Object.values(files).reduce((n, f) => n + f.byteLength, 0) / 1e6;

    log(`bench: ${epochs} simulated epochs of ~${epochSeconds} s without checkpoints ...`);
    let plainMs = 0;
    let plainBetweenMs = 0;
    const cpu0 = process.cpuUsage();
    for (let e = 0; e < epochs; e++) {
      const r = await epoch(batches, workPerBatch);
      plainMs += r.ms;
      plainBetweenMs += r.betweenMs;
    }
    const plainCpu = process.cpuUsage(cpu0);

    log(`bench: ${epochs} epochs with a ${megabytes.toFixed(0)} MB checkpoint each ...`);
    const checkpointer = createCheckpointer(store, log);
    let withMs = 0;
    let withBetweenMs = 0;
    let blockedMs = 0;
    const cpu1 = process.cpuUsage();
    for (let e = 0; e < epochs; e++) {
      const r = await epoch(batches, workPerBatch);
      withMs += r.ms;
      withBetweenMs += r.betweenMs;
      // Fresh arrays each epoch, as the trainer serialises anew; one byte differs so every upload is new.
      const snapshot = Object.fromEntries(
        Object.entries(files).map(([k, v]) => [k, k === 'state.json' ? v : changed(v, e)]),
      );
      const t = performance.now();
      await checkpointer.save('baseline', snapshot);
      const dt = performance.now() - t;
      blockedMs += dt;
      withMs += dt;
    }
    const flushStart = performance.now();
    await checkpointer.flush();
    const finalFlushMs = performance.now() - flushStart;
    const withCpu = process.cpuUsage(cpu1);

    log(`bench: ${epochs} more checkpoints without training, for the training thread's CPU time ...`);
    const snapshots = Array.from({ length: epochs }, (_, e) =>
      Object.fromEntries(
        Object.entries(files).map(([k, v]) => [k, k === 'state.json' ? v : changed(v, epochs + e)]),
      ),
    );
    const thread0 = mainThreadCpuMs();
    for (const snapshot of snapshots) await checkpointer.save('baseline', snapshot);
    await checkpointer.flush();
    const thread1 = mainThreadCpuMs();
    const threadMsPerSave = thread0 === null || thread1 === null ? undefined : (thread1 - thread0) / epochs;
    const cpuSeconds = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1e6;
    const uploadSeconds = (withMs + finalFlushMs) / 1000;
    return {
      checkpointOverheadFraction: (withMs - plainMs) / plainMs,
      checkpointBlockedMsPerSave: blockedMs / epochs,
      checkpointBlockedFraction: blockedMs / plainMs,
      checkpointMainThreadFraction: (blockedMs + withBetweenMs - plainBetweenMs) / plainMs,
      checkpointCpuSecondsPerSave: (cpuSeconds(withCpu) - cpuSeconds(plainCpu)) / epochs,
      checkpointMegabytes: megabytes,
      checkpointEpochSeconds: plainMs / epochs / 1000,
      checkpointFinalFlushMs: finalFlushMs,
      checkpointUploadMegabytesPerSecond: (megabytes * epochs) / uploadSeconds,
      ...(threadMsPerSave === undefined
        ? {}
        : {
            checkpointTrainingThreadCpuMsPerSave: threadMsPerSave,
            checkpointTrainingThreadFraction: threadMsPerSave / (plainMs / epochs),
          }),
    };
  } finally {
    store.close();
    await server.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

// Shared memory, as the trainer's checkpoint-state pack() allocates it (the hashing thread reads it in place).
function filled(bytes: number, seed: number): Uint8Array {
  const a = new Uint8Array(new SharedArrayBuffer(bytes));
  for (let i = 0; i < bytes; i += 4096) a[i] = (i / 4096 + seed) & 0xff;
  return a;
}

function changed(a: Uint8Array, epoch: number): Uint8Array {
  const copy = new Uint8Array(new SharedArrayBuffer(a.byteLength));
  copy.set(a);
  copy[0] = epoch & 0xff;
  return copy;
}

/** CPU milliseconds of this process's main thread (Linux: /proc/self/task/PID/stat, 10 ms ticks); null elsewhere. */
function mainThreadCpuMs(): number | null {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat(5), utime and stime, are the 12th and 13th after the command name.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

// The work of one batch: multiply-adds over a buffer the size of a CPU cache, like a small matmul.
const scratch = new Float32Array(1 << 16);
function work(units: number): number {
  let acc = 0;
  for (let u = 0; u < units; u++) {
    for (let i = 0; i < scratch.length; i++) {
      scratch[i] = scratch[i]! * 0.999 + i * 1e-6;
      acc += scratch[i]!;
    }
  }
  return acc;
}

/** Work units that take about `ms` on this machine now. */
function calibrate(ms: number): number {
  work(50); // warm up the JIT first: cold runs are several times slower and would shorten every epoch
  let units = 0;
  const t = performance.now();
  while (performance.now() - t < 500) {
    work(10);
    units += 10;
  }
  const perUnit = (performance.now() - t) / units;
  return Math.max(1, Math.round(ms / perUnit));
}

/** Wall time of one epoch, and the part of it spent between batches (where background uploads run). */
async function epoch(batches: number, units: number): Promise<{ ms: number; betweenMs: number }> {
  const t = performance.now();
  let betweenMs = 0;
  for (let b = 0; b < batches; b++) {
    work(units);
    // The training loop awaits between batches; background uploads progress here.
    const y = performance.now();
    await new Promise((r) => setImmediate(r));
    betweenMs += performance.now() - y;
  }
  return { ms: performance.now() - t, betweenMs };
}

/** s3rver in its own process, as S3 is elsewhere in production: its work does not share our event loop. */
async function startS3rverProcess(
  directory: string,
  bucket: string,
): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const script = `
    const S3rver = require(${JSON.stringify(require.resolve('s3rver'))});
    new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: ${JSON.stringify(directory)}, configureBuckets: [{ name: ${JSON.stringify(bucket)} }] })
      .run().then((a) => console.log(JSON.stringify({ port: a.port })));
  `;
  const child: ChildProcess = spawn(process.execPath, ['-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.on('exit', (code) => reject(new Error(`s3rver exited with code ${code} before listening`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
