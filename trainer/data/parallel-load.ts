import { promises as fs } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { DataError } from './dataset';

/**
 * Parsing training.csv on several cores (opt-in, LoadOptions.threads): the file is cut at line starts
 * into one byte range per worker thread, each range is parsed by the same byte-level reader, and the
 * parts are joined in order. Parsing is CPU-bound (~0.8 s of one core for a full-size file), so machines
 * with spare physical cores gain; on 2 vCPUs that share one core it was measured slower.
 */

/** What one worker returns for its byte range. */
export interface RangeResult {
  rows: number;
  lines: number;
  trailingBlankLine: number;
  pixels: Uint8Array;
  labels: Float32Array;
}

/** Where the cut points are searched: lines of training.csv are ~34 KB, so a 1 MB window always holds one. */
const SEARCH_WINDOW = 1 << 20;

/** Byte offsets [0, b1, ..., size] that cut the file into `parts` ranges, each starting a line. */
export async function lineAlignedCuts(file: string, size: number, parts: number): Promise<number[]> {
  const cuts = [0];
  const handle = await fs.open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(SEARCH_WINDOW);
    for (let p = 1; p < parts; p++) {
      const from = Math.floor((size * p) / parts);
      if (from <= cuts[cuts.length - 1]) continue;
      const { bytesRead } = await handle.read(buf, 0, buf.length, from);
      const lf = buf.subarray(0, bytesRead).indexOf(0x0a);
      if (lf >= 0 && from + lf + 1 < size) cuts.push(from + lf + 1);
    }
  } finally {
    await handle.close();
  }
  cuts.push(size);
  return cuts;
}

/** The code each worker runs: load the module (through tsx when it is TypeScript source) and call it. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('worker_threads');
if (workerData.tsLoader) require(workerData.tsLoader);
const mod = require(workerData.module);
mod[workerData.exportName](workerData.file, workerData.range, (bytes) => parentPort.postMessage({ progress: bytes }))
  .then((r) => parentPort.postMessage({ result: r }, [r.pixels.buffer, r.labels.buffer]))
  .catch((e) => parentPort.postMessage({ error: { name: e.name, message: e.message, file: e.file, line: e.line, column: e.column, detail: e.detail } }));
`;

interface WorkerError {
  name: string;
  message: string;
  file?: string;
  line?: number;
  column?: number;
  detail?: string;
}

/**
 * Runs `module[exportName](file, range, onBytes)` for each range in its own worker thread. Returns the
 * results in range order, or throws the error of the earliest failing range, its line numbers made
 * absolute (a range counts its lines from 1).
 */
export async function parseRangesInWorkers(
  file: string,
  cuts: number[],
  module: string,
  exportName: string,
  onProgress?: (bytes: number) => void,
): Promise<RangeResult[]> {
  const tsLoader = module.endsWith('.ts') ? require.resolve('tsx/cjs') : undefined;
  const progress = new Array<number>(cuts.length - 1).fill(0);
  const outcomes = await Promise.all(
    cuts.slice(0, -1).map(
      (start, i) =>
        new Promise<{ result?: RangeResult; error?: WorkerError }>((resolve) => {
          const worker = new Worker(WORKER_SOURCE, {
            eval: true,
            workerData: { file, module, exportName, tsLoader, range: { start, end: cuts[i + 1] } },
          });
          worker.on('message', (msg: { progress?: number; result?: RangeResult; error?: WorkerError }) => {
            if (msg.progress !== undefined) {
              progress[i] = msg.progress;
              onProgress?.(progress.reduce((a, b) => a + b, 0));
            } else {
              resolve(msg);
              void worker.terminate();
            }
          });
          worker.on('error', (err) => resolve({ error: { name: err.name, message: err.message } }));
          worker.on('exit', (code) =>
            resolve({ error: { name: 'Error', message: `a CSV worker stopped with exit code ${code}` } }),
          );
        }),
    ),
  );
  let linesBefore = 0;
  for (let i = 0; i < outcomes.length; i++) {
    const { result, error } = outcomes[i];
    if (error) {
      if (error.name === 'DataError' && error.line !== undefined) {
        throw new DataError(
          error.file ?? file,
          linesBefore + error.line,
          error.column ?? 1,
          error.detail ?? error.message,
        );
      }
      throw new Error(error.message);
    }
    const r = result!;
    if (i > 0 && r.rows > 0 && outcomes[i - 1].result!.trailingBlankLine) {
      const blank = linesBefore - outcomes[i - 1].result!.lines + outcomes[i - 1].result!.trailingBlankLine;
      throw new DataError(
        file,
        blank,
        1,
        `expected a data row, found an empty line (line ${linesBefore + 1} has data again)`,
      );
    }
    linesBefore += r.lines;
  }
  return outcomes.map((o) => o.result!);
}
