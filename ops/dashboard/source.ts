import { RUNS_PREFIX } from '../../contracts/run-layout';
import { openStore } from '../../trainer/storage/open-store';
import { S3Store } from '../../trainer/storage/s3-store';
import { collectStatus, statusSources } from '../commands/status';
import { AwsClients, resolveRegion } from '../aws/clients';
import { type OpsContext, openContext } from '../context';
import { requireBucket } from '../deployment';
import type { CommonOptions } from '../options';
import { listRunIds, type DashboardSource } from './snapshot';

/**
 * A dashboard read that gives up quickly: the page polls again at the next interval and says it is
 * reconnecting meanwhile, instead of hanging on the trainer's five-minute read retries.
 */
export const DASHBOARD_READ_GIVE_UP_MS = 5_000;

export interface OpenedSource {
  source: DashboardSource;
  /** --run, else the training stack's run, else the newest run of the store; null while the store has none. */
  defaultRunId: () => Promise<string | null>;
  close: () => void;
}

/** `--out URL` reads that store (file:// or s3://, with --region, --profile and --endpoint-url); without it, the deployment's bucket, with its instance's cost. */
export async function openDashboardSource(flags: CommonOptions & { out?: string }): Promise<OpenedSource> {
  const now = () => new Date();
  if (flags.out?.startsWith('s3://')) {
    // The flags' region, profile and endpoint, as for the other commands; the trainer's environment
    // variable (AWS_ENDPOINT_URL_S3) still names the endpoint when --endpoint-url is not given.
    const s3Endpoint = flags.endpointUrl ?? process.env.AWS_ENDPOINT_URL_S3;
    const region =
      s3Endpoint && !flags.region ? 'us-east-1' : await resolveRegion(flags.region, flags.profile);
    const clients = new AwsClients({ region, profile: flags.profile, s3Endpoint });
    const store = new S3Store(flags.out, {
      client: clients.s3,
      uploadInWorker: false,
      readGiveUpMs: DASHBOARD_READ_GIVE_UP_MS,
    });
    return {
      source: { store, now },
      defaultRunId: async () => flags.run ?? (await listRunIds(store)).at(-1) ?? null,
      close: () => clients.destroy(),
    };
  }
  if (flags.out) {
    const store = openStore(flags.out);
    return {
      source: { store, now },
      defaultRunId: async () => flags.run ?? (await listRunIds(store)).at(-1) ?? null,
      close: () => {},
    };
  }
  const ctx = await openContext(flags);
  try {
    const store = new S3Store(
      { bucket: requireBucket(ctx.deployment), prefix: RUNS_PREFIX },
      { client: ctx.clients.s3, uploadInWorker: false, readGiveUpMs: DASHBOARD_READ_GIVE_UP_MS },
    );
    return {
      source: { store, now, awsStatus: (runId) => deploymentStatus(ctx, runId) },
      defaultRunId: async () => ctx.deployment.runId ?? (await listRunIds(store)).at(-1) ?? null,
      close: () => ctx.clients.destroy(),
    };
  } catch (err) {
    ctx.clients.destroy();
    throw err;
  }
}

/** `facepoints status` of the given run: its instance and cost only when the training stack works on it. */
async function deploymentStatus(ctx: OpsContext, runId: string) {
  const { sources } = await statusSources({ ...ctx, deployment: { ...ctx.deployment, runId } });
  return collectStatus(sources, runId);
}
