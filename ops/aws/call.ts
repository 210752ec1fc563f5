import { OpsError } from '../errors';

/** What a call does, in the words of its IAM action (e.g. `ce:GetCostAndUsage`), for error messages. */
export interface CallDescription {
  /** IAM action the call needs, e.g. `ec2:DescribeInstances`. */
  action: string;
  /** What the call was about, e.g. `budget facepoints-monthly`; appended to messages. */
  target?: string;
}

export interface RetryOptions {
  /** Attempts in total, the first included. @default 5 */
  attempts?: number;
  /** Delay before the first retry; doubles each time. @default 500 */
  baseDelayMs?: number;
  /** Injected by tests so that retries take no time. @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

// Error names the services use for rate limiting: Cost Explorer says LimitExceededException, EC2
// RequestLimitExceeded, most others ThrottlingException.
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'SlowDown',
  'RequestThrottled',
  'RequestThrottledException',
]);
const ACCESS_DENIED = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnauthorizedOperation',
  'UnauthorizedException',
]);
const NO_CREDENTIALS = new Set([
  'CredentialsProviderError',
  'TokenProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
]);

function errorName(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { name?: unknown; Code?: unknown; code?: unknown };
    for (const v of [e.name, e.Code, e.code]) if (typeof v === 'string' && v !== 'Error') return v;
  }
  return '';
}

export function isThrottling(err: unknown): boolean {
  return THROTTLING.has(errorName(err));
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs one AWS call. The SDK already retries throttling on the wire; this layer retries what still
 * comes back throttled (a long Cost Explorer backlog, a mocked client) and turns the errors an operator
 * can fix (no credentials, a missing permission) into messages that say how.
 */
export async function callAws<T>(
  what: CallDescription,
  fn: () => Promise<T>,
  retry: RetryOptions = {},
): Promise<T> {
  const attempts = retry.attempts ?? 5;
  const sleep = retry.sleep ?? defaultSleep;
  let delay = retry.baseDelayMs ?? 500;
  const about = what.target ? ` (${what.target})` : '';
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const name = errorName(err);
      const detail = err instanceof Error ? err.message : String(err);
      if (THROTTLING.has(name)) {
        if (attempt < attempts) {
          await sleep(delay);
          delay *= 2;
          continue;
        }
        throw new OpsError(
          `${what.action}${about} is still throttled by AWS after ${attempts} attempts (${name}: ${detail}); wait a minute and retry`,
        );
      }
      if (ACCESS_DENIED.has(name)) {
        throw new OpsError(
          `access denied: your AWS identity lacks the permission ${what.action}${about}; add it to your IAM policy or use --profile with a role that has it (${name}: ${detail})`,
        );
      }
      if (NO_CREDENTIALS.has(name) || /Could not load credentials/i.test(detail)) {
        throw new OpsError(
          `no usable AWS credentials for ${what.action}${about}: run \`aws configure\` or \`aws sso login\`, pass --profile NAME, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (${name || 'error'}: ${detail})`,
        );
      }
      throw err;
    }
  }
}

/**
 * callAws for a lookup: null when the service answers that the thing looked up does not exist
 * (`isMissing` knows how each service says so); every other error as callAws reports it.
 */
export async function callAwsOrNull<T>(
  what: CallDescription,
  fn: () => Promise<T>,
  isMissing: (err: unknown) => boolean,
  retry?: RetryOptions,
): Promise<T | null> {
  try {
    return await callAws(what, fn, retry);
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}
