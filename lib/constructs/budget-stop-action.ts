import { Stack, Validations } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface BudgetStopActionProps {
  /** Name of the budget (in the persistent stack) whose 100% actual spend triggers the action. */
  readonly budgetName: string;
  /** The instance to stop. */
  readonly instanceId: string;
  /** Told when the action runs. */
  readonly alertEmail: string;
}

/**
 * Stops the training instance when the budget's actual spend reaches 100%. It lives in the training stack
 * so that the persistent stack never depends on the instance.
 */
export class BudgetStopAction extends Construct {
  readonly executionRole: iam.Role;
  readonly action: budgets.CfnBudgetsAction;

  constructor(scope: Construct, id: string, props: BudgetStopActionProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('budgets.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'Lets AWS Budgets stop the facepoints training instance through SSM',
    });
    const instanceArn = stack.formatArn({
      service: 'ec2',
      resource: 'instance',
      resourceName: props.instanceId,
    });
    const viaSsm = { 'ForAnyValue:StringEquals': { 'aws:CalledVia': ['ssm.amazonaws.com'] } };
    this.executionRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'StartStopAutomation',
        actions: ['ssm:StartAutomationExecution'],
        resources: [
          `arn:${stack.partition}:ssm:${stack.region}:*:automation-definition/AWS-StopEC2Instance:*`,
        ],
      }),
    );
    this.executionRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'StopThisInstance',
        actions: ['ec2:StopInstances'],
        resources: [instanceArn],
        conditions: viaSsm,
      }),
    );
    // DescribeInstanceStatus has no resource-level permissions: `*` is the only possible resource.
    this.executionRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadInstanceStatus',
        actions: ['ec2:DescribeInstanceStatus'],
        resources: ['*'],
        conditions: viaSsm,
      }),
    );

    Validations.of(this.executionRole).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ec2:DescribeInstanceStatus has no resource-level permissions, and the statement only applies to calls made through SSM.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:*:automation-definition/AWS-StopEC2Instance:*]',
        reason:
          'The AWS-owned stop-instance automation document lives in an AWS account and has one ARN per version: only its name can be pinned.',
      },
    );

    this.action = new budgets.CfnBudgetsAction(this, 'Action', {
      budgetName: props.budgetName,
      actionType: 'RUN_SSM_DOCUMENTS',
      actionThreshold: { type: 'PERCENTAGE', value: 100 },
      notificationType: 'ACTUAL',
      approvalModel: 'AUTOMATIC',
      executionRoleArn: this.executionRole.roleArn,
      definition: {
        ssmActionDefinition: {
          subtype: 'STOP_EC2_INSTANCES',
          region: stack.region,
          instanceIds: [props.instanceId],
        },
      },
      subscribers: [{ type: 'EMAIL', address: props.alertEmail }],
    });
    this.action.node.addDependency(this.executionRole);
  }
}
