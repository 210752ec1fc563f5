import { STACK_NAMES, OUTPUT_KEYS } from '../contracts/deployment-names';
import type { AwsClients } from './aws/clients';
import { accountIdFromArn, getStackOutputs } from './aws/stack-outputs';
import { OpsError } from './errors';
import type { CommonOptions } from './options';

/** What the operator commands know about the deployed stacks, after flags override the stack outputs. */
export interface Deployment {
  region: string;
  bucket: string | null;
  /** The run the training stack was deployed for (its RunId output), or the --run flag. */
  runId: string | null;
  /** The run id the training stack's instance works on; the instance is shown only for that run. */
  stackRunId: string | null;
  instanceId: string | null;
  instanceType: string | null;
  spot: boolean | null;
  logGroupName: string | null;
  /** `batch` when the training stack runs the units as AWS Batch jobs; null for the single instance. */
  engine: 'batch' | null;
  /** Only with engine=batch: the run's job queue and the execution the deploy started. */
  jobQueueName: string | null;
  executionArn: string | null;
  budgetName: string | null;
  accountId: string | null;
  /** Which stacks exist; null when they were not consulted (--endpoint-url). */
  stacks: { data: boolean; training: boolean } | null;
}

/**
 * Reads both stacks' outputs (either may carry any key) and lets flags override them. With
 * --endpoint-url the target is a local S3 stand-in, which has no CloudFormation, so stacks are skipped.
 */
export async function discoverDeployment(clients: AwsClients, opts: CommonOptions): Promise<Deployment> {
  const region = clients.target.region;
  const dep: Deployment = {
    region,
    bucket: opts.bucket ?? null,
    runId: opts.run ?? null,
    stackRunId: null,
    instanceId: null,
    instanceType: null,
    spot: null,
    logGroupName: null,
    engine: null,
    jobQueueName: null,
    executionArn: null,
    budgetName: null,
    accountId: null,
    stacks: null,
  };
  if (opts.endpointUrl) return dep;

  const [data, training] = await Promise.all([
    getStackOutputs(clients.cloudFormation, STACK_NAMES.persistent),
    getStackOutputs(clients.cloudFormation, STACK_NAMES.training),
  ]);
  const out = { ...(data?.outputs ?? {}), ...(training?.outputs ?? {}) };
  const pick = (key: string) => out[key] ?? null;
  dep.stacks = { data: data !== null, training: training !== null };
  dep.bucket ??= pick(OUTPUT_KEYS.bucketName);
  dep.stackRunId = pick(OUTPUT_KEYS.runId);
  dep.runId ??= dep.stackRunId;
  dep.instanceId = pick(OUTPUT_KEYS.instanceId);
  dep.instanceType = pick(OUTPUT_KEYS.instanceType);
  const spot = pick(OUTPUT_KEYS.spot);
  dep.spot = spot === null ? null : spot.toLowerCase() === 'true';
  dep.logGroupName = pick(OUTPUT_KEYS.logGroupName);
  dep.engine = pick(OUTPUT_KEYS.engine) === 'batch' ? 'batch' : null;
  dep.jobQueueName = pick(OUTPUT_KEYS.jobQueueName);
  dep.executionArn = pick(OUTPUT_KEYS.executionArn);
  dep.budgetName = pick(OUTPUT_KEYS.budgetName);
  dep.accountId = accountIdFromArn(data?.stackId ?? training?.stackId ?? '');
  return dep;
}

export function requireBucket(dep: Deployment): string {
  if (dep.bucket) return dep.bucket;
  if (dep.stacks && !dep.stacks.data) {
    throw new OpsError(
      `stack ${STACK_NAMES.persistent} not found in ${dep.region}: deploy with npx cdk deploy, or pass --bucket and --run (or --region if it lives elsewhere)`,
    );
  }
  throw new OpsError(
    `no bucket: stack ${STACK_NAMES.persistent} has no output ${OUTPUT_KEYS.bucketName}; pass --bucket`,
  );
}

export function requireTrainingOutput(
  dep: Deployment,
  value: string | null,
  key: string,
  flagHint: string,
): string {
  if (value) return value;
  if (dep.stacks === null)
    throw new OpsError(`--endpoint-url skips the stacks, so ${key} is unknown: ${flagHint}`);
  if (!dep.stacks.training) {
    throw new OpsError(
      `stack ${STACK_NAMES.training} not found in ${dep.region}: deploy it with npx cdk deploy ${STACK_NAMES.training} (or pass --region if it lives elsewhere)`,
    );
  }
  throw new OpsError(
    `stack ${STACK_NAMES.training} has no output ${key}: redeploy it with npx cdk deploy ${STACK_NAMES.training}`,
  );
}
