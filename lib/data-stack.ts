import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { OUTPUT_KEYS, TRAINING_LOG_GROUP } from '../contracts/deployment-names';
import { BUDGET_SCOPE_NOTES, CostGuard } from './constructs/cost-guard';
import { ResultsBucket } from './constructs/results-bucket';

export interface DataStackProps extends StackProps {
  /** The monthly budget; absent: no budget. */
  readonly budget?: { name: string; limitUsd: number; alertEmail: string; scope: 'project' | 'account' };
}

/**
 * What survives `cdk destroy FacepointsTraining`: the bucket with data and results, the trainer's log
 * group and the cost guard. Termination protection keeps `cdk destroy --all` from removing it too.
 */
export class DataStack extends Stack {
  readonly bucket: s3.Bucket;
  readonly logGroup: logs.LogGroup;
  readonly costGuard?: CostGuard;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, { terminationProtection: true, ...props });
    this.bucket = new ResultsBucket(this, 'Results').bucket;
    new CfnOutput(this, OUTPUT_KEYS.bucketName, {
      value: this.bucket.bucketName,
      description: 'Data and results bucket',
    });
    this.logGroup = new logs.LogGroup(this, 'TrainerLogs', {
      logGroupName: TRAINING_LOG_GROUP,
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    if (props.budget) {
      this.costGuard = new CostGuard(this, 'CostGuard', {
        budgetName: props.budget.name,
        limitUsd: props.budget.limitUsd,
        alertEmail: props.budget.alertEmail,
        scope: props.budget.scope,
      });
      new CfnOutput(this, OUTPUT_KEYS.budgetName, {
        value: props.budget.name,
        description: 'Monthly AWS Budget',
      });
      new CfnOutput(this, OUTPUT_KEYS.budgetScope, {
        value: BUDGET_SCOPE_NOTES[props.budget.scope],
        description: 'What the budget counts',
      });
      new CfnOutput(this, OUTPUT_KEYS.alertTopicArn, {
        value: this.costGuard.topic.topicArn,
        description: `SNS topic of the budget alerts; confirm the subscription email sent to ${props.budget.alertEmail}`,
      });
    }
  }
}
