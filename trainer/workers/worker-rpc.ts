import { existsSync } from 'node:fs';
import { parentPort, Worker, workerData } from 'node:worker_threads';

/**
 * Typed requests to a worker thread and their replies. A protocol is an interface of request names, each a
 * function of one structured-cloneable argument to its reply, e.g. `{ digest(body: Uint8Array): string }`.
 * The main thread starts the worker with startWorker() and calls it; the worker's module calls serve().
 */
export type Protocol<P> = { [K in keyof P]: (request: never) => unknown };

export type RequestOf<P, K extends keyof P> = P[K] extends (request: infer R) => unknown ? R : never;
export type ReplyOf<P, K extends keyof P> = P[K] extends (request: never) => infer R ? Awaited<R> : never;

/** What a worker does for each request; a throw (or rejection) reaches the caller as an Error with its message. */
export type Handlers<P> = {
  [K in keyof P]: (request: RequestOf<P, K>) => ReplyOf<P, K> | Promise<ReplyOf<P, K>>;
};

/** An error as plain data: its name, message and the plain-valued fields it carries (code, $metadata, line...). */
interface CarriedError {
  name: string;
  message: string;
  fields: Record<string, unknown>;
}

type Call = { id: number; method: string; request: unknown };
type Answer =
  | { kind: 'ready' }
  | { kind: 'failed'; error: CarriedError }
  | { kind: 'reply'; id: number; reply: unknown }
  | { kind: 'error'; id: number; error: CarriedError };

export interface StartOptions<D> {
  /** Names the worker in messages, e.g. "upload" for "upload worker exited with code 1". */
  name: string;
  /** Handed to the worker's serve() callback (structured clone: SharedArrayBuffers stay shared). */
  workerData: D;
  /** Let the process exit while no request is pending; otherwise the worker holds it until terminated. @default false */
  unrefWhenIdle?: boolean;
}

/**
 * Starts the worker module `file`, the compiled `x-worker.js` next to the caller
 * (`path.join(__dirname, 'x-worker.js')`). Run from TypeScript sources (ts-jest, tsx) that file does not
 * exist, and its `.ts` source next to it runs through tsx instead.
 */
export function startWorker<P extends Protocol<P>, D = undefined>(
  file: string,
  opts: StartOptions<D>,
): WorkerClient<P> {
  return new WorkerClient<P>(file, opts);
}

interface Settle {
  resolve(): void;
  reject(err: Error): void;
}

interface Pending {
  resolve(reply: unknown): void;
  reject(err: Error): void;
}

/** The main thread's handle on one worker: call() sends a request and resolves with its reply. */
export class WorkerClient<P extends Protocol<P>> {
  /** Resolves once the worker serves requests; rejects when it failed to start. Calls may be sent before. */
  readonly ready: Promise<void>;
  private readonly worker: Worker;
  private readonly waiting = new Map<number, Pending>();
  private readonly unrefWhenIdle: boolean;
  private readonly started: Settle;
  private nextId = 1;
  private failure: Error | null = null;

  constructor(file: string, opts: StartOptions<unknown>) {
    const { path, execArgv } = entry(file);
    this.worker = new Worker(path, { workerData: opts.workerData, execArgv });
    this.unrefWhenIdle = opts.unrefWhenIdle ?? false;
    let started: Settle | undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      started = { resolve, reject };
    });
    this.started = started!;
    // Callers that only call() learn of a failed start from the call; the rejection is theirs to await.
    this.ready.catch(() => undefined);
    this.worker.on('message', (answer: Answer) => this.receive(answer));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`${opts.name} worker exited with code ${code}`)));
    if (this.unrefWhenIdle) this.worker.unref();
  }

  /** False once the worker failed or exited: later calls reject, and a new worker must be started. */
  get alive(): boolean {
    return this.failure === null;
  }

  call<K extends keyof P & string>(method: K, request: RequestOf<P, K>): Promise<ReplyOf<P, K>> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<ReplyOf<P, K>>((resolve, reject) => {
      const id = this.nextId++;
      this.waiting.set(id, { resolve: resolve as (reply: unknown) => void, reject });
      if (this.unrefWhenIdle) this.worker.ref();
      this.worker.postMessage({ id, method, request } satisfies Call);
    });
  }

  /** Stops the thread; requests still pending reject. */
  async terminate(): Promise<void> {
    await this.worker.terminate();
  }

  private receive(answer: Answer): void {
    if (answer.kind === 'ready') {
      this.started.resolve();
      return;
    }
    if (answer.kind === 'failed') {
      this.fail(revive(answer.error));
      void this.worker.terminate();
      return;
    }
    const pending = this.waiting.get(answer.id);
    if (!pending) return;
    this.waiting.delete(answer.id);
    this.idle();
    if (answer.kind === 'reply') pending.resolve(answer.reply);
    else pending.reject(revive(answer.error));
  }

  /** The first failure ends the worker for good: its start and every pending and later call reject with it. */
  private fail(err: Error): void {
    this.failure ??= err;
    this.started.reject(this.failure);
    for (const pending of this.waiting.values()) pending.reject(this.failure);
    this.waiting.clear();
    this.idle();
  }

  private idle(): void {
    if (this.unrefWhenIdle && this.waiting.size === 0) this.worker.unref();
  }
}

/**
 * The worker side: `start` receives the workerData and returns the handlers (it may first set up, e.g. load
 * a model); a throw there fails the worker's start. Call once, at the top level of the worker module.
 */
export function serve<P extends Protocol<P>, D = undefined>(
  start: (data: D) => Handlers<P> | Promise<Handlers<P>>,
): void {
  const port = parentPort;
  if (!port) throw new Error('serve: expected to run in a worker thread, found the main thread');
  const post = (answer: Answer): void => port.postMessage(answer);
  Promise.resolve()
    .then(() => start(workerData as D))
    .then(
      (handlers) => {
        const table = handlers as Record<string, (request: unknown) => unknown>;
        port.on('message', ({ id, method, request }: Call) => {
          Promise.resolve()
            .then(() => {
              const handler = table[method];
              if (!handler) throw new Error(`expected a request this worker serves, found "${method}"`);
              return handler(request);
            })
            .then(
              (reply) => post({ kind: 'reply', id, reply }),
              (err: unknown) => post({ kind: 'error', id, error: carry(err) }),
            );
        });
        post({ kind: 'ready' });
      },
      (err: unknown) => post({ kind: 'failed', error: carry(err) }),
    );
}

/** The compiled worker when it exists, else its TypeScript source through tsx (ts-jest and tsx runs). */
function entry(file: string): { path: string; execArgv: string[] } {
  if (existsSync(file) || !file.endsWith('.js')) return { path: file, execArgv: [] };
  return { path: `${file.slice(0, -3)}.ts`, execArgv: ['--require', require.resolve('tsx/cjs')] };
}

function carry(err: unknown): CarriedError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(err)) if (isPlain(value, 1)) fields[key] = value;
  return { name: err.name, message: err.message, fields };
}

/** Primitives, and objects of primitives one level deep (an SDK error's $metadata): safe to clone. */
function isPlain(value: unknown, depth: number): boolean {
  if (value === null || ['string', 'number', 'boolean', 'undefined', 'bigint'].includes(typeof value))
    return true;
  if (depth === 0 || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype)
    return false;
  return Object.values(value).every((v) => isPlain(v, depth - 1));
}

function revive(e: CarriedError): Error {
  const err = Object.assign(new Error(e.message), e.fields);
  err.name = e.name;
  return err;
}
