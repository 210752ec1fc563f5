/** Bad command-line usage or configuration: the CLI exits with EXIT_USAGE, since retrying cannot help. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
