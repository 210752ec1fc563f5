import { S3Client } from '@aws-sdk/client-s3';
import { promises as fs } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** The part of s3rver 3.7's API used here (the package ships no type declarations). */
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

/** A real S3 server (s3rver) on loopback, for tests and benchmarks. */
export interface LocalS3Server {
  /** e.g. `http://127.0.0.1:39123`; stays the same across stop()/restart(). */
  endpoint: string;
  /** A bucket that exists when the server starts. */
  bucket: string;
  /** Folder holding the objects; kept across stop()/restart(), removed by close(). */
  directory: string;
  /**
   * Environment that points the AWS SDK at this server the standard way (`AWS_ENDPOINT_URL_S3`, region,
   * dummy credentials): pass it to child processes or apply it with `useLocalS3Env`.
   */
  env: Record<string, string>;
  /** Stop serving (connections are refused) but keep the objects. */
  stop(): Promise<void>;
  /** Serve again on the same port and folder. */
  restart(): Promise<void>;
  /** Stop serving and delete the folder. */
  close(): Promise<void>;
}

// s3rver is a devDependency: load it lazily so importing this module never fails where it is absent.
function loadS3rver(): S3rverConstructor {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('s3rver') as S3rverConstructor;
}

/**
 * Starts s3rver on 127.0.0.1 with port 0 (or `port`) in a fresh temp folder, with bucket `bucket`
 * (default `facepoints-test`) created.
 */
export async function startS3Server(
  opts: { bucket?: string; port?: number; directory?: string } = {},
): Promise<LocalS3Server> {
  const S3rver = loadS3rver();
  const bucket = opts.bucket ?? 'facepoints-test';
  const directory = opts.directory ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'facepoints-s3-')));
  let server: S3rverInstance | null = null;
  let port = opts.port ?? 0;

  const start = async (): Promise<void> => {
    const s = new S3rver({
      address: '127.0.0.1',
      port,
      silent: true,
      directory,
      configureBuckets: [{ name: bucket }],
    });
    const info = await s.run();
    port = info.port;
    server = s;
  };
  const stop = async (): Promise<void> => {
    const s = server;
    if (!s) return;
    server = null;
    // The SDK keeps connections alive; without closing them, close() would wait for their idle timeout.
    s.httpServer?.closeAllConnections();
    await s.close();
  };

  await start();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    directory,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    },
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    close: async () => {
      await stop();
      await fs.rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * Sets the server's environment on this process (for code that builds its own S3 client) and returns a
 * function that restores the previous values.
 */
export function useLocalS3Env(server: LocalS3Server): () => void {
  const previous: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(server.env)) {
    previous[k] = process.env[k];
    process.env[k] = v;
  }
  return () => {
    for (const [k, v] of Object.entries(previous)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/** An SDK client for a server on loopback, with the dummy credentials s3rver accepts. */
export function localS3Client(endpoint: string): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
}
