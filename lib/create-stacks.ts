import { App, Aws, Tags, Validations } from 'aws-cdk-lib';
import { resultsBucketName } from './constructs/results-bucket';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DataStack } from './data-stack';
import { DeployConfig } from './deploy-config';
import { PROJECT_TAG, RUN_TAG_KEY, STACK_NAMES } from './deployment-names';
import { TrainingStack } from './training-stack';

/** Name of the monthly budget; the training stack's budget action refers to it by name. */
export const BUDGET_NAME = 'facepoints-monthly';

export interface FacepointsStacks {
  data: DataStack;
  training: TrainingStack;
  /** The cdk-nag pack registered on the app; `validateScope(app)` lists its unacknowledged findings. */
  nag: AwsSolutionsChecks;
}

/**
 * Builds both stacks from a validated configuration. The data stack never refers to the training stack,
 * so `cdk destroy FacepointsTraining` leaves the bucket and the budget alone.
 */
export function createStacks(app: App, config: DeployConfig): FacepointsStacks {
  const budget =
    config.budgetUsd > 0 && config.alertEmail
      ? { name: BUDGET_NAME, limitUsd: config.budgetUsd, alertEmail: config.alertEmail, scope: config.budgetScope }
      : undefined;
  const data = new DataStack(app, STACK_NAMES.persistent, {
    description: 'facepoints: data and results bucket (retained) and the monthly cost guard',
    budget,
  });
  const training = new TrainingStack(app, STACK_NAMES.training, {
    description: `facepoints: GPU training run ${config.runId} that powers itself off`,
    config,
    bucketName: resultsBucketName(Aws.ACCOUNT_ID, Aws.REGION),
    budgetName: budget?.name,
  });
  // Deploy order only: the training stack reads the bucket and budget by name.
  training.addStackDependency(data, "the training instance reads the bucket and the budget action needs the budget");

  Tags.of(app).add(PROJECT_TAG.key, PROJECT_TAG.value);
  // Only the training stack belongs to one run; the bucket and budget serve every run.
  Tags.of(training).add(RUN_TAG_KEY, config.runId);

  const nag = new AwsSolutionsChecks(app);
  Validations.of(app).addPlugins(nag);
  return { data, training, nag };
}
