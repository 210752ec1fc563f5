import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { OUTPUT_KEYS } from './deployment-names';
import { CostGuard } from './constructs/cost-guard';
import { ResultsBucket, resultsBucketName } from './constructs/results-bucket';

export interface DataStackProps extends StackProps {
  /** The monthly budget; absent: no budget. */
  readonly budget?: { name: string; limitUsd: number; alertEmail: string; scope: 'project' | 'account' };
}

/** What survives `cdk destroy FacepointsTraining`: the bucket with data and results, and the cost guard. */
export class DataStack extends Stack {
  readonly bucket: s3.Bucket;
  readonly costGuard?: CostGuard;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    this.bucket = new ResultsBucket(this, 'Results', { bucketName: resultsBucketName(this.account, this.region) }).bucket;
    new CfnOutput(this, OUTPUT_KEYS.bucketName, { value: this.bucket.bucketName, description: 'Data and results bucket' });
    if (props.budget) {
      this.costGuard = new CostGuard(this, 'CostGuard', {
        budgetName: props.budget.name,
        limitUsd: props.budget.limitUsd,
        alertEmail: props.budget.alertEmail,
        scope: props.budget.scope,
      });
      new CfnOutput(this, OUTPUT_KEYS.budgetName, { value: props.budget.name, description: 'Monthly AWS Budget' });
      new CfnOutput(this, OUTPUT_KEYS.alertTopicArn, { value: this.costGuard.topic.topicArn, description: 'SNS topic of the budget alerts' });
    }
  }
}
