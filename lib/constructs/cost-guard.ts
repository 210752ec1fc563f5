import { Stack, Validations } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { PROJECT_TAG } from '../../contracts/deployment-names';

/**
 * What each budget scope sees, printed after deploy and in the README. AWS activates a cost allocation tag
 * only from the moment it is activated (never retroactively) and needs up to 24 hours to do so, so a
 * project-scoped budget sees nothing of a first run.
 */
export const BUDGET_SCOPE_NOTES = {
  account:
    'every cost of this AWS account (facepoints and anything else), from the start of the month; figures lag a few hours',
  project:
    'only costs tagged Project=facepoints, and only after that tag is activated for cost allocation (facepoints cost --activate-tag; not retroactive, up to 24 h): a first run is not counted',
} as const;

export interface CostGuardProps {
  /** Budget name, also used by the training stack's budget action. */
  readonly budgetName: string;
  /** Monthly limit in USD. */
  readonly limitUsd: number;
  /** Receives the 80% actual and 100% forecasted alerts. */
  readonly alertEmail: string;
  /** `project`: only costs tagged Project=facepoints (the tag must be activated for cost allocation); `account`: everything. */
  readonly scope: 'project' | 'account';
}

/** Monthly AWS Budget with email and SNS alerts at 80% actual and 100% forecasted spend. */
export class CostGuard extends Construct {
  readonly topic: sns.Topic;
  readonly budget: budgets.CfnBudget;

  constructor(scope: Construct, id: string, props: CostGuardProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'AlertTopic', {
      displayName: 'facepoints budget alerts',
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowBudgetsToPublish',
        principals: [new iam.ServicePrincipal('budgets.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Budget alerts carry no secrets, and AWS Budgets cannot publish to a topic encrypted with the AWS-managed SNS key; a customer key would cost more than the alerts it protects.',
    });

    // One path per alert: the budget publishes to the topic and the topic mails the address (the address
    // confirms the subscription once); a direct EMAIL subscriber as well would send every alert twice.
    this.topic.addSubscription(new EmailSubscription(props.alertEmail));
    const subscribers = [{ subscriptionType: 'SNS', address: this.topic.topicArn }];
    const alert = (notificationType: 'ACTUAL' | 'FORECASTED', threshold: number) => ({
      notification: {
        notificationType,
        comparisonOperator: 'GREATER_THAN',
        threshold,
        thresholdType: 'PERCENTAGE',
      },
      subscribers,
    });
    this.budget = new budgets.CfnBudget(this, 'Budget', {
      budget: {
        budgetName: props.budgetName,
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: props.limitUsd, unit: 'USD' },
        filterExpression:
          props.scope === 'project'
            ? { tags: { key: PROJECT_TAG.key, values: [PROJECT_TAG.value], matchOptions: ['EQUALS'] } }
            : undefined,
      },
      notificationsWithSubscribers: [alert('ACTUAL', 80), alert('FORECASTED', 100)],
    });
    this.budget.node.addDependency(this.topic);
  }
}
