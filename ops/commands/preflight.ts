import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { STSClient } from '@aws-sdk/client-sts';
import type { Command } from 'commander';
import { JUPYTER_IMAGE } from '../../contracts/jupyter-image';
import { resolveRegion } from '../aws/clients';
import { COST_EXPLORER_REGION } from '../aws/cost-explorer';
import { emit } from '../context';
import { readDockerfileBaseImages } from '../preflight/base-images';
import { type PreflightClients, collectPreflight } from '../preflight/collect';
import { loadContext, parseContextFlag } from '../preflight/context';
import { formatPreflight } from '../preflight/format';
import { runCommand } from '../preflight/run-command';

interface PreflightFlags {
  context: string[];
  region?: string;
  profile?: string;
  json?: boolean;
  strict?: boolean;
  costTags?: boolean;
}

/** The Dockerfile cdk deploy builds, found from this module upwards (source tree or dist/). */
export function findDockerfile(from: string = __dirname): string | null {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'docker', 'Dockerfile');
    if (existsSync(file)) return file;
    if (path.dirname(dir) === dir) return null;
  }
}

function openClients(region: string, profile: string | undefined, costTags: boolean): PreflightClients {
  const base = { region, ...(profile ? { profile } : {}) };
  return {
    sts: new STSClient(base),
    cloudFormation: new CloudFormationClient(base),
    serviceQuotas: new ServiceQuotasClient(base),
    ec2: new EC2Client(base),
    s3: new S3Client(base),
    costExplorer: costTags ? new CostExplorerClient({ ...base, region: COST_EXPLORER_REGION }) : null,
  };
}

export function registerPreflightCommand(program: Command): void {
  program
    .command('preflight')
    .description(
      'check the account, region, Docker and data before a first cdk deploy (read-only), and estimate the run',
    )
    .option(
      '-c, --context <key=value>',
      'deploy setting, as for cdk deploy (repeatable); cdk.json "context" is read too',
      parseContextFlag,
      [],
    )
    .option('--region <region>', "AWS region to deploy to (default: AWS_REGION, else the profile's region)")
    .option('--profile <name>', 'AWS named profile (default: AWS_PROFILE or the default credential chain)')
    .option('--json', 'print JSON for scripts instead of lines', false)
    .option('--strict', 'exit 2 when there are warnings but no failures', false)
    .option(
      '--cost-tags',
      'also check the Project cost allocation tag (one Cost Explorer request, billed $0.01)',
      false,
    )
    .action(async (flags: PreflightFlags) => {
      let region: string | null = null;
      let regionProblem: string | undefined;
      try {
        region = await resolveRegion(flags.region, flags.profile);
      } catch (err) {
        regionProblem = err instanceof Error ? err.message : String(err);
      }
      const dockerfile = findDockerfile();
      let dockerfileImages: string[] | null = null;
      if (dockerfile) dockerfileImages = await readDockerfileBaseImages(dockerfile);
      const clients = openClients(region ?? 'us-east-1', flags.profile, flags.costTags ?? false);
      try {
        const report = await collectPreflight({
          context: loadContext({ flags: flags.context }),
          contextFlags: flags.context,
          region,
          regionProblem,
          clients,
          run: runCommand,
          dockerfileImages,
          dockerfileProblem: dockerfile ? undefined : 'docker/Dockerfile not found above this program',
          jupyterImage: JUPYTER_IMAGE,
          strict: flags.strict ?? false,
          now: new Date(),
        });
        emit(flags, report, formatPreflight);
        process.exitCode = report.exitCode;
      } finally {
        for (const c of Object.values(clients)) c?.destroy();
      }
    });
}
