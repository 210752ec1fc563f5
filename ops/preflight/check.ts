import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import type { STSClient } from '@aws-sdk/client-sts';
import type { RetryOptions } from '../aws/call';
import type { ContextValues } from './context';
import type { CheckId, PreflightCheck } from './report';
import type { CommandRunner } from './run-command';

export interface PreflightClients {
  sts: STSClient;
  cloudFormation: CloudFormationClient;
  serviceQuotas: ServiceQuotasClient;
  ec2: EC2Client;
  s3: S3Client;
  /** Only with --cost-tags: each Cost Explorer request is billed. */
  costExplorer: CostExplorerClient | null;
}

export interface PreflightInputs {
  /** The merged CDK context (see loadContext), parsed by the app's own parser. */
  context: ContextValues;
  /** The `-c` flags as given, to point out keys the app does not read. */
  contextFlags: string[];
  /** null when no region could be resolved; `regionProblem` says why. */
  region: string | null;
  regionProblem?: string;
  clients: PreflightClients;
  run: CommandRunner;
  /** Base images of docker/Dockerfile; null when the Dockerfile was not found (`dockerfileProblem`). */
  dockerfileImages: string[] | null;
  dockerfileProblem?: string;
  jupyterImage: string;
  strict: boolean;
  now: Date;
  retry?: RetryOptions;
}

export function check(
  id: CheckId,
  title: string,
  state: PreflightCheck['state'],
  detail: string,
  fix: string | null = null,
): PreflightCheck {
  return { id, title, state, detail, fix };
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export const TITLES: Record<CheckId, string> = {
  config: 'configuration',
  credentials: 'credentials',
  bootstrap: 'CDK bootstrap',
  docker: 'Docker buildx',
  quota: 'GPU vCPU quota',
  zones: 'zones and price',
  'base-images': 'base images',
  'cost-tag': 'cost tag',
  bucket: 'results bucket',
  data: 'Kaggle data',
};

/** The fix of a check whose AWS call failed: a missing permission is named in the detail by callAws. */
export const PERMISSION_FIX = 'add the permission, or run `npx facepoints operator-policy` for the policy';
