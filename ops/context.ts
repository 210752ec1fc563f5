import { AwsClients, resolveRegion } from './aws/clients';
import { type Deployment, discoverDeployment, requireBucket } from './deployment';
import { OpsError } from './errors';
import type { CommonOptions } from './options';
import { S3RunReader } from './s3-run-reader';

/** Everything a command needs: the clients, the discovered deployment and a clock tests can set. */
export interface OpsContext {
  options: CommonOptions;
  clients: AwsClients;
  deployment: Deployment;
  now: () => Date;
}

export async function openContext(options: CommonOptions): Promise<OpsContext> {
  // A local S3 stand-in does not care about the region; the SDK still wants one.
  const region =
    options.endpointUrl && !options.region
      ? 'us-east-1'
      : await resolveRegion(options.region, options.profile);
  const clients = new AwsClients({ region, profile: options.profile, s3Endpoint: options.endpointUrl });
  try {
    const deployment = await discoverDeployment(clients, options);
    return { options, clients, deployment, now: () => new Date() };
  } catch (err) {
    clients.destroy();
    throw err;
  }
}

/** Runs a command body with a context whose clients are closed afterwards, whatever the outcome. */
export async function withContext<T>(
  options: CommonOptions,
  body: (ctx: OpsContext) => Promise<T>,
): Promise<T> {
  const ctx = await openContext(options);
  try {
    return await body(ctx);
  } finally {
    ctx.clients.destroy();
  }
}

export function openRunReader(ctx: OpsContext): S3RunReader {
  return new S3RunReader(ctx.clients.s3, requireBucket(ctx.deployment));
}

/** --run, else the training stack's RunId, else the newest run in the bucket. */
export async function resolveRunId(deployment: Deployment, reader: S3RunReader): Promise<string> {
  if (deployment.runId) return deployment.runId;
  const newest = (await reader.listRunIds()).at(-1);
  if (newest === undefined)
    throw new OpsError(
      `no runs in s3://${reader.bucket}/${reader.runsPrefix}: start one with npx cdk deploy, or pass --run`,
    );
  return newest;
}

/** Prints data as JSON (for --json) or as the command's text rendering. */
export function emit<T>(
  options: CommonOptions,
  data: T,
  format: (data: T) => string,
  out: NodeJS.WritableStream = process.stdout,
): void {
  out.write(options.json ? `${JSON.stringify(data, null, 2)}\n` : `${format(data)}\n`);
}
