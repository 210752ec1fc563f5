import type { Command } from 'commander';
import {
  BUDGET_NAME,
  STACK_NAMES,
  TRAINING_LOG_GROUP,
  resultsBucketName,
} from '../contracts/deployment-names';
import { DATA_PREFIX, RUNS_PREFIX } from '../contracts/run-layout';
import { BOOTSTRAP_STACK_NAME } from './aws/bootstrap-stack';
import { resolveRegion } from './aws/clients';
import { OpsError } from './errors';
import { GPU_VCPU_QUOTAS } from './aws/service-quotas';

export interface OperatorPolicyTarget {
  accountId: string;
  region: string;
  /** @default resultsBucketName(accountId, region) */
  bucket?: string;
  /** @default BUDGET_NAME */
  budgetName?: string;
  /** @default 'aws' */
  partition?: string;
}

export interface OperatorPolicyDocument {
  Version: '2012-10-17';
  Statement: Array<{ Sid: string; Effect: 'Allow'; Action: string[]; Resource: string[] }>;
}

/**
 * The least privilege of `facepoints status|logs|cost|results|runs|preflight`: one statement per thing read, each
 * action on the narrowest resource the Service Authorization Reference allows for it. Pricing is not
 * called by any command (spot prices come from EC2, on-demand prices from contracts/instance-prices.ts).
 */
export function operatorPolicy(t: OperatorPolicyTarget): OperatorPolicyDocument {
  const p = t.partition ?? 'aws';
  const bucketArn = `arn:${p}:s3:::${t.bucket ?? resultsBucketName(t.accountId, t.region)}`;
  const logGroupArn = `arn:${p}:logs:${t.region}:${t.accountId}:log-group:${TRAINING_LOG_GROUP}`;
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ReadStackOutputs',
        Effect: 'Allow',
        Action: ['cloudformation:DescribeStacks'],
        Resource: Object.values(STACK_NAMES).map(
          (name) => `arn:${p}:cloudformation:${t.region}:${t.accountId}:stack/${name}/*`,
        ),
      },
      {
        // Unconditional: S3 answers a read of a missing file (a run without status.json yet) with 404
        // only to a caller that may list the bucket; a prefix condition never matches a GetObject, nor the
        // HeadBucket of `facepoints preflight`.
        Sid: 'ListRuns',
        Effect: 'Allow',
        Action: ['s3:ListBucket'],
        Resource: [bucketArn],
      },
      {
        Sid: 'ReadRuns',
        Effect: 'Allow',
        Action: ['s3:GetObject'],
        Resource: [`${bucketArn}/${RUNS_PREFIX}*`],
      },
      {
        // FilterLogEvents is authorized on the log group; both ARN forms are listed because CloudWatch
        // Logs has matched policies against `log-group:NAME` and `log-group:NAME:*`.
        Sid: 'ReadTrainerLogs',
        Effect: 'Allow',
        Action: ['logs:FilterLogEvents'],
        Resource: [logGroupArn, `${logGroupArn}:*`],
      },
      {
        // No resource-level permissions for these (Service Authorization Reference, Amazon EC2): "*" only.
        Sid: 'ReadInstanceAndSpotPrice',
        Effect: 'Allow',
        Action: ['ec2:DescribeInstances', 'ec2:DescribeSpotPriceHistory'],
        Resource: ['*'],
      },
      {
        // engine=batch: the run's jobs (Service Authorization Reference, AWS Batch: ListJobs and DescribeJobs
        // have no resource types, "*" only) and its execution, whose state machine CDK names at deploy time.
        Sid: 'ReadBatchRun',
        Effect: 'Allow',
        Action: ['batch:ListJobs', 'batch:DescribeJobs'],
        Resource: ['*'],
      },
      {
        Sid: 'ReadRunExecution',
        Effect: 'Allow',
        Action: ['states:DescribeExecution'],
        Resource: [`arn:${p}:states:${t.region}:${t.accountId}:execution:*`],
      },
      {
        // Cost Explorer: ListCostAllocationTags and UpdateCostAllocationTagsStatus have no resource types,
        // GetCostAndUsage only an optional billing view this command does not name (Service Authorization
        // Reference, AWS Cost Explorer Service): "*" only.
        Sid: 'ReadCost',
        Effect: 'Allow',
        Action: ['ce:GetCostAndUsage', 'ce:ListCostAllocationTags'],
        Resource: ['*'],
      },
      // Only `facepoints cost --activate-tag` writes: drop this statement to keep the operator read-only.
      {
        Sid: 'ActivateCostTag',
        Effect: 'Allow',
        Action: ['ce:UpdateCostAllocationTagsStatus'],
        Resource: ['*'],
      },
      // `facepoints preflight` (sts:GetCallerIdentity needs no permission; HeadBucket and the data listing
      // are s3:ListBucket, granted above).
      {
        Sid: 'ReadBootstrapVersion',
        Effect: 'Allow',
        Action: ['cloudformation:DescribeStacks'],
        Resource: [`arn:${p}:cloudformation:${t.region}:${t.accountId}:stack/${BOOTSTRAP_STACK_NAME}/*`],
      },
      {
        // GetServiceQuota may be limited to the quota's ARN (Service Authorization Reference, Service Quotas).
        Sid: 'ReadGpuQuotas',
        Effect: 'Allow',
        Action: ['servicequotas:GetServiceQuota'],
        Resource: Object.values(GPU_VCPU_QUOTAS).map(
          (q) => `arn:${p}:servicequotas:${t.region}:${t.accountId}:${q.serviceCode}/${q.quotaCode}`,
        ),
      },
      {
        // No resource-level permissions for these describes: "*" only. Spot prices: see above.
        Sid: 'ReadInstanceTypeOfferings',
        Effect: 'Allow',
        Action: ['ec2:DescribeInstanceTypes', 'ec2:DescribeInstanceTypeOfferings'],
        Resource: ['*'],
      },
      {
        // A ranged read of each Kaggle file's first bytes, to check its header.
        Sid: 'ReadDataHeaders',
        Effect: 'Allow',
        Action: ['s3:GetObject'],
        Resource: [`${bucketArn}/${DATA_PREFIX}*`],
      },
      {
        // DescribeBudget and DescribeNotificationsForBudget are both authorized as budgets:ViewBudget.
        Sid: 'ReadBudget',
        Effect: 'Allow',
        Action: ['budgets:ViewBudget'],
        Resource: [`arn:${p}:budgets::${t.accountId}:budget/${t.budgetName ?? BUDGET_NAME}`],
      },
    ],
  };
}

interface OperatorPolicyFlags {
  account: string;
  region?: string;
  profile?: string;
  bucket?: string;
  budgetName: string;
  partition: string;
}

export function registerOperatorPolicyCommand(program: Command): void {
  program
    .command('operator-policy')
    .description(
      'print the IAM policy (JSON) the operator commands need, to attach to the user or role that runs them',
    )
    .requiredOption('--account <id>', 'AWS account id (12 digits) of the deployment')
    .option('--region <region>', "region of the stacks (default: AWS_REGION, else the profile's region)")
    .option('--profile <name>', 'AWS named profile whose region is the default')
    .option(
      '--bucket <name>',
      'bucket holding the runs (default: the name the data stack gives it in this account and region)',
    )
    .option('--budget-name <name>', 'monthly budget of the data stack', BUDGET_NAME)
    .option('--partition <name>', 'ARN partition: aws, aws-cn or aws-us-gov', 'aws')
    .action(async (flags: OperatorPolicyFlags) => {
      if (!/^\d{12}$/.test(flags.account))
        throw new OpsError(`--account expects a 12-digit AWS account id, got "${flags.account}"`);
      const region = await resolveRegion(flags.region, flags.profile);
      const policy = operatorPolicy({
        accountId: flags.account,
        region,
        bucket: flags.bucket,
        budgetName: flags.budgetName,
        partition: flags.partition,
      });
      process.stdout.write(`${JSON.stringify(policy, null, 2)}\n`);
    });
}
