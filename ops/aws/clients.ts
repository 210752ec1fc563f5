import { BatchClient } from '@aws-sdk/client-batch';
import { BudgetsClient } from '@aws-sdk/client-budgets';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { s3ClientConfig } from '../../common/s3-client';
import { OpsError } from '../errors';
import { BUDGETS_REGION } from './budget';
import { COST_EXPLORER_REGION } from './cost-explorer';

export interface AwsTarget {
  region: string;
  /** Named profile of ~/.aws/config; the SDK's default chain when absent. */
  profile?: string;
  /** S3-compatible endpoint (a local S3 server); path-style addressing is used with it. */
  s3Endpoint?: string;
}

/** One client per service, created on first use so that a command only builds what it calls. */
export class AwsClients {
  private cache = new Map<string, unknown>();
  constructor(readonly target: AwsTarget) {}

  private get<T>(name: string, make: () => T): T {
    if (!this.cache.has(name)) this.cache.set(name, make());
    return this.cache.get(name) as T;
  }

  private base(region = this.target.region) {
    return { region, ...(this.target.profile ? { profile: this.target.profile } : {}) };
  }

  /** Closes the clients' sockets, so that the command's process ends as soon as its work is done. */
  destroy(): void {
    for (const client of this.cache.values()) (client as { destroy(): void }).destroy();
    this.cache.clear();
  }

  /**
   * The trainer's S3 settings (path-style addressing with an endpoint, checksums only where required,
   * timeouts), with the endpoint from --endpoint-url and the region and credentials from --region and
   * --profile rather than from the environment.
   */
  get s3(): S3Client {
    return this.get(
      's3',
      () =>
        new S3Client({ ...s3ClientConfig({ AWS_ENDPOINT_URL_S3: this.target.s3Endpoint }), ...this.base() }),
    );
  }
  get cloudFormation(): CloudFormationClient {
    return this.get('cfn', () => new CloudFormationClient(this.base()));
  }
  get ec2(): EC2Client {
    return this.get('ec2', () => new EC2Client(this.base()));
  }
  get logs(): CloudWatchLogsClient {
    return this.get('logs', () => new CloudWatchLogsClient(this.base()));
  }
  get costExplorer(): CostExplorerClient {
    return this.get('ce', () => new CostExplorerClient(this.base(COST_EXPLORER_REGION)));
  }
  get batch(): BatchClient {
    return this.get('batch', () => new BatchClient(this.base()));
  }
  get sfn(): SFNClient {
    return this.get('sfn', () => new SFNClient(this.base()));
  }
  get budgets(): BudgetsClient {
    return this.get('budgets', () => new BudgetsClient(this.base(BUDGETS_REGION)));
  }
}

/**
 * The region from --region, then AWS_REGION / AWS_DEFAULT_REGION, then the profile's `region` in
 * ~/.aws/config (read by the SDK's own resolver, so the rules match the AWS CLI's).
 */
export async function resolveRegion(
  flag: string | undefined,
  profile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const direct = flag ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (direct) return direct;
  try {
    const region = await new S3Client(profile ? { profile } : {}).config.region();
    if (region) return region;
  } catch {
    // The SDK throws "Region is missing" when nothing configures one: fall through to our message.
  }
  throw new OpsError(
    `no AWS region: pass --region or set AWS_REGION${profile ? ` (profile ${profile} sets none)` : ''}`,
  );
}
