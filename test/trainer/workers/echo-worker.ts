import { serve } from '../../../trainer/workers/worker-rpc';

/** Requests of the test worker. */
export interface EchoProtocol {
  echo(value: { text: string; bytes: Uint8Array }): { text: string; bytes: Uint8Array };
  fail(message: string): never;
  exit(code: number): void;
}

serve<EchoProtocol, { failStart: boolean }>(async (data) => {
  if (data.failStart) throw new Error('no model to load');
  return {
    echo: async (value) => value,
    fail(message) {
      throw Object.assign(new RangeError(message), { code: 'E_TEST', $metadata: { httpStatusCode: 503 } });
    },
    exit: (code) => process.exit(code),
  };
});
