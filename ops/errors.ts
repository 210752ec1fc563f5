/**
 * An error the operator can act on: the message says what was expected, what was found and how to fix
 * it. The `facepoints` entry point prints the message alone, without a stack trace.
 */
export class OpsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OpsError';
  }
}
