import * as path from 'node:path';
import { startWorker } from '../../../trainer/workers/worker-rpc';
import type { EchoProtocol } from './echo-worker';

const ECHO = path.join(__dirname, 'echo-worker.js');

function echoWorker(failStart = false) {
  return startWorker<EchoProtocol, { failStart: boolean }>(ECHO, {
    name: 'echo',
    workerData: { failStart },
  });
}

describe('worker-rpc', () => {
  it('answers each request with its own reply, calls sent before the worker is ready included', async () => {
    const worker = echoWorker();
    try {
      const replies = await Promise.all(
        [1, 2, 3].map((n) => worker.call('echo', { text: `r${n}`, bytes: new Uint8Array([n]) })),
      );
      await worker.ready;
      expect(replies.map((r) => [r.text, Array.from(r.bytes)])).toEqual([
        ['r1', [1]],
        ['r2', [2]],
        ['r3', [3]],
      ]);
    } finally {
      await worker.terminate();
    }
  });

  it('rejects with an Error carrying the thrown name, message and plain fields', async () => {
    const worker = echoWorker();
    try {
      const err = await worker.call('fail', 'bucket on fire').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err).toMatchObject({
        name: 'RangeError',
        message: 'bucket on fire',
        code: 'E_TEST',
        $metadata: { httpStatusCode: 503 },
      });
      // The worker still serves after a failed request.
      expect((await worker.call('echo', { text: 'ok', bytes: new Uint8Array(0) })).text).toBe('ok');
    } finally {
      await worker.terminate();
    }
  });

  it('rejects ready and every call when the worker fails to start', async () => {
    const worker = echoWorker(true);
    await expect(worker.ready).rejects.toThrow('no model to load');
    await expect(worker.call('echo', { text: 'x', bytes: new Uint8Array(0) })).rejects.toThrow(
      'no model to load',
    );
    expect(worker.alive).toBe(false);
  });

  it('rejects pending and later calls once the worker exits', async () => {
    const worker = echoWorker();
    await expect(worker.call('exit', 3)).rejects.toThrow('echo worker exited with code 3');
    expect(worker.alive).toBe(false);
    await expect(worker.call('echo', { text: 'x', bytes: new Uint8Array(0) })).rejects.toThrow(
      'echo worker exited with code 3',
    );
  });
});
