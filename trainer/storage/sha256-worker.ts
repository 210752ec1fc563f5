import { createHash } from 'node:crypto';
import { types } from 'node:util';
import { Worker } from 'node:worker_threads';

// Plain JavaScript evaluated in the worker, so it runs the same from sources (tsx, ts-jest) and from dist/.
const WORKER_SOURCE = `
const { parentPort } = require('worker_threads');
const { createHash } = require('crypto');
parentPort.on('message', ({ id, body }) => {
  parentPort.postMessage({ id, hex: createHash('sha256').update(body).digest('hex') });
});
`;

/**
 * SHA-256 off the training thread. Hashing a 198 MB checkpoint took ~0.8 s of the main thread per save,
 * with createHash and with WebCrypto alike (Node 20 runs WebCrypto digests on the calling thread): 2-3% of
 * a 30 s epoch. A body in shared memory (checkpoint-state's pack) reaches the worker without a copy;
 * any other body would be copied by postMessage, which costs the main thread about as much as hashing it.
 */
class Sha256Worker {
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, { resolve(hex: string): void; reject(err: Error): void }>();
  private nextId = 1;

  digest(body: Uint8Array): Promise<string> {
    const worker = this.start();
    return new Promise<string>((resolve, reject) => {
      const id = this.nextId++;
      this.waiting.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, body });
    }).finally(() => {
      if (this.waiting.size === 0) this.worker?.unref();
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.on('message', ({ id, hex }: { id: number; hex: string }) => {
      const w = this.waiting.get(id);
      this.waiting.delete(id);
      w?.resolve(hex);
    });
    const fail = (err: Error): void => {
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
      this.worker = null;
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`sha256 worker exited with code ${code}`)));
    // Idle, the worker alone does not keep the process alive; a pending digest refs it.
    worker.unref();
    this.worker = worker;
    return worker;
  }
}

const shared = new Sha256Worker();

/**
 * Hex SHA-256 of `body`. A body in shared memory is hashed on a worker thread (started on first use, shared
 * by the process); any other is hashed here, since handing it over would copy it at about the cost of hashing.
 */
export function sha256Hex(body: Uint8Array): Promise<string> {
  if (types.isSharedArrayBuffer(body.buffer)) return shared.digest(body);
  return Promise.resolve(createHash('sha256').update(body).digest('hex'));
}
