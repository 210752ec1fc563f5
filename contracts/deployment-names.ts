/**
 * Names shared by the CDK app and the operator commands: stack names, output keys and tags. This file
 * must not import aws-cdk-lib, so that the `facepoints` command can read it without the CDK.
 */

export const STACK_NAMES = {
  /** Bucket and cost guard; survives `cdk destroy FacepointsTraining`. */
  persistent: 'FacepointsData',
  /** VPC, instance, log group and budget action: everything billed by the hour. */
  training: 'FacepointsTraining',
} as const;

export const OUTPUT_KEYS = {
  bucketName: 'BucketName',
  budgetName: 'BudgetName',
  alertTopicArn: 'AlertTopicArn',
  /** What the monthly budget counts, in words (printed after deploy). */
  budgetScope: 'BudgetScope',
  runId: 'RunId',
  instanceId: 'InstanceId',
  instanceType: 'InstanceType',
  spot: 'Spot',
  logGroupName: 'LogGroupName',
  preset: 'Preset',
  /** Shell commands printed after deploy: follow the container log, see the run's status, open a shell. */
  watchLogsCommand: 'WatchLogsCommand',
  statusCommand: 'StatusCommand',
  sessionCommand: 'SessionCommand',
  /** Only with jupyter=true: prints JupyterLab's token. */
  jupyterTokenCommand: 'JupyterTokenCommand',
  /** Only with engine=batch: the run's queue, state machine and the execution the deploy started. */
  engine: 'Engine',
  jobQueueName: 'JobQueueName',
  stateMachineArn: 'StateMachineArn',
  executionArn: 'ExecutionArn',
  executionCommand: 'ExecutionCommand',
  /** Wall time and cost of the preset on each engine, from measured speed (printed after deploy). */
  engineComparison: 'EngineComparison',
} as const;

/**
 * Log group of the trainer container, one stream per run attempt. It lives in the persistent stack, so an
 * interrupted run's logs outlive `cdk destroy FacepointsTraining`.
 */
export const TRAINING_LOG_GROUP = '/facepoints/training';

/** The part of the bucket's name before S3's account-regional suffix. */
export const BUCKET_NAME_PREFIX = 'facepoints';

/**
 * The bucket's name: fixed per account and region, so the training stack and the operator commands can
 * name it without a CloudFormation export tying the stacks together. It lives in the account's regional
 * namespace (`-<account>-<region>-an`), where no other account can create a bucket: a retained bucket's
 * name can never be claimed by someone else between a destroy and the next deploy.
 */
export function resultsBucketName(account: string, region: string): string {
  return `${BUCKET_NAME_PREFIX}-${account}-${region}-an`;
}

/** Name of the monthly budget; the training stack's budget action and the operator commands refer to it by name. */
export const BUDGET_NAME = 'facepoints-monthly';

/** Cost allocation tag on every resource (activate it once in the Billing console or with `facepoints cost --activate-tag`). */
export const PROJECT_TAG = { key: 'Project', value: 'facepoints' } as const;
export const RUN_TAG_KEY = 'facepoints:run-id';
