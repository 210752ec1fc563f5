import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { types } from 'node:util';
import { startWorker, type WorkerClient } from '../workers/worker-rpc';

/** Requests of sha256-worker.ts. */
export interface Sha256Protocol {
  /** Hex SHA-256 of `body`. */
  digest(body: Uint8Array): string;
}

/**
 * SHA-256 off the training thread. Hashing a 198 MB checkpoint took ~0.8 s of the main thread per save,
 * with createHash and with WebCrypto alike (Node 20 runs WebCrypto digests on the calling thread): 2-3% of
 * a 30 s epoch. A body in shared memory (checkpoint-state's pack) reaches the worker without a copy;
 * any other body would be copied by postMessage, which costs the main thread about as much as hashing it.
 * The worker is started on first use and shared by the process; one that failed is replaced.
 */
let worker: WorkerClient<Sha256Protocol> | null = null;

function sha256Worker(): WorkerClient<Sha256Protocol> {
  if (!worker?.alive) {
    // Idle, the worker alone does not keep the process alive; a pending digest holds it.
    worker = startWorker<Sha256Protocol>(path.join(__dirname, 'sha256-worker.js'), {
      name: 'sha256',
      workerData: undefined,
      unrefWhenIdle: true,
    });
  }
  return worker;
}

/**
 * Hex SHA-256 of `body`. A body in shared memory is hashed on a worker thread; any other is hashed here,
 * since handing it over would copy it at about the cost of hashing.
 */
export function sha256Hex(body: Uint8Array): Promise<string> {
  if (types.isSharedArrayBuffer(body.buffer)) return sha256Worker().call('digest', body);
  return Promise.resolve(createHash('sha256').update(body).digest('hex'));
}
