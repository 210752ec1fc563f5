import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

/** The client settings as plain data, so that a worker thread can receive them (a client object cannot cross). */
export type S3ClientSettings = Pick<
  S3ClientConfig,
  'region' | 'endpoint' | 'forcePathStyle' | 'requestChecksumCalculation' | 'responseChecksumValidation'
> & {
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  requestHandler?: { connectionTimeout: number; requestTimeout: number };
};

/**
 * An S3 client configured the SDK's standard way: credentials and region from the default chain
 * (environment, shared config, instance role), endpoint from `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`.
 * With an endpoint override (a local S3 server) path-style addressing is used, since such servers do not
 * serve `BUCKET.host` names.
 */
export function createS3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  return new S3Client(s3ClientConfig(env));
}

/**
 * The settings createS3Client uses, as plain data (also handed to the upload worker). Values found in
 * `env` are passed explicitly so that a client built from a given environment keeps it; anything missing
 * is left to the SDK's default chain (shared config files, instance role).
 */
export function s3ClientConfig(env: NodeJS.ProcessEnv = process.env): S3ClientSettings {
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          accessKeyId: env.AWS_ACCESS_KEY_ID,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
          sessionToken: env.AWS_SESSION_TOKEN,
        }
      : undefined;
  return {
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(credentials ? { credentials } : {}),
    forcePathStyle: endpoint !== undefined,
    // No CRC32 of every body (the SDK's default computes one in JS on the training thread: ~9% of a
    // checkpoint's CPU): checkpoints carry their own sha256 manifest, verified on every read, and TLS
    // protects the transfer. Operations whose API requires a checksum still get one.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Without a request timeout a half-open connection would stall the upload queue forever.
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 120_000 },
  };
}

/** HTTP status of an SDK error, when the service answered. */
export function httpStatusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

/** True when the object does not exist (GetObject/HeadObject 404). */
export function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string } | null)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || httpStatusOf(err) === 404;
}

// Errors that a retry can fix even though S3 answered with a 4xx.
const TRANSIENT_NAMES = new Set([
  'ExpiredToken',
  'RequestTimeTooSkewed',
  'RequestTimeout',
  'SlowDown',
  'TokenRefreshRequired',
]);

/**
 * True when retrying cannot help: S3 answered and refused (missing bucket, access denied, bad request).
 * Network errors and 5xx/429 answers are transient.
 */
export function isPermanentS3Error(err: unknown): boolean {
  const status = httpStatusOf(err);
  const name = (err as { name?: string } | null)?.name ?? '';
  if (status === undefined || TRANSIENT_NAMES.has(name)) return false;
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/** One line describing an SDK or network error. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    const status = httpStatusOf(err);
    return [err.name !== 'Error' ? err.name : code, status ? `HTTP ${status}` : undefined, err.message]
      .filter(Boolean)
      .join(': ');
  }
  return String(err);
}
