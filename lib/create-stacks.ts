import { Annotations, type App, Aws, type Environment, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DataStack } from './data-stack';
import { BUDGET_SCOPE_NOTES } from './constructs/cost-guard';
import {
  type DeployConfig,
  DeployConfigError,
  UNDEPLOYABLE_CONFIG,
  parseDeployConfig,
} from '../contracts/deploy-config';
import { localDataFolders } from '../common/local-data-folders';
import {
  BUDGET_NAME,
  PROJECT_TAG,
  RUN_TAG_KEY,
  STACK_NAMES,
  resultsBucketName,
} from '../contracts/deployment-names';
import { TrainingStack } from './training-stack';

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
export function createStacks(app: App, config: DeployConfig, env?: Environment): FacepointsStacks {
  const budget =
    config.budgetUsd > 0 && config.alertEmail
      ? {
          name: BUDGET_NAME,
          limitUsd: config.budgetUsd,
          alertEmail: config.alertEmail,
          scope: config.budgetScope,
        }
      : undefined;
  const data = new DataStack(app, STACK_NAMES.persistent, {
    description: 'facepoints: data and results bucket (retained), trainer logs and the monthly cost guard',
    budget,
    env,
  });
  const training = new TrainingStack(app, STACK_NAMES.training, {
    description: `facepoints: GPU training run ${config.runId} that powers itself off`,
    config,
    bucketName: resultsBucketName(Aws.ACCOUNT_ID, Aws.REGION),
    budgetName: budget?.name,
    env,
  });
  // Deploy order only: the training stack reads the bucket and budget by name.
  training.addStackDependency(
    data,
    'the training instance reads the bucket and the budget action needs the budget',
  );

  Tags.of(app).add(PROJECT_TAG.key, PROJECT_TAG.value);
  // Only the training stack belongs to one run; the bucket and budget serve every run.
  Tags.of(training).add(RUN_TAG_KEY, config.runId);

  if (budget?.scope === 'project') {
    Annotations.of(data).addWarningV2(
      'facepoints:budget-scope',
      `budgetScope=project: the budget counts ${BUDGET_SCOPE_NOTES.project}`,
    );
  }

  const nag = new AwsSolutionsChecks(app);
  Validations.of(app).addPlugins(nag);
  return { data, training, nag };
}

/**
 * What bin/app.ts builds: the stacks from the app's context. An invalid context still yields both stacks
 * (from UNDEPLOYABLE_CONFIG), so `cdk destroy` and `cdk ls` work without the deploy's flags; each stack
 * then carries every problem as an error, which `cdk deploy`, `diff` and `synth` refuse before building or
 * uploading anything.
 */
export function createStacksFromContext(
  app: App,
  env?: Environment,
  now: Date = new Date(),
): FacepointsStacks {
  let config: DeployConfig;
  let problems: DeployConfigError | null = null;
  try {
    config = parseDeployConfig((key) => app.node.tryGetContext(key), localDataFolders, now);
  } catch (err) {
    if (!(err instanceof DeployConfigError)) throw err;
    config = UNDEPLOYABLE_CONFIG;
    problems = err;
  }
  const stacks = createStacks(app, config, env);
  if (problems)
    for (const stack of [stacks.data, stacks.training]) Annotations.of(stack).addError(problems.message);
  return stacks;
}
