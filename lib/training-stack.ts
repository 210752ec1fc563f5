import { join } from 'node:path';
import {
  Annotations,
  CfnOutput,
  Duration,
  IgnoreMode,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { DATA_PREFIX, RUNS_PREFIX } from '../contracts/run-layout';
import { renderBootUserData } from './boot/boot-user-data';
import { BatchCompute } from './constructs/batch-compute';
import { TrainerJobDefinition } from './constructs/batch-job-definition';
import { BatchRun } from './constructs/batch-run';
import { BudgetStopAction } from './constructs/budget-stop-action';
import { DataUpload } from './constructs/data-upload';
import { JupyterToken } from './constructs/jupyter-token';
import { acknowledgeRunAccess, grantRunAccess } from './constructs/run-access';
import { TrainingInstance } from './constructs/training-instance';
import { TrainingNetwork } from './constructs/training-network';
import type { DeployConfig } from '../contracts/deploy-config';
import { OUTPUT_KEYS, TRAINING_LOG_GROUP } from '../contracts/deployment-names';
import { launchInstanceTypes } from '../contracts/instance-prices';
import { describeEngineComparison } from '../contracts/engine-comparison';
import { JUPYTER_IMAGE } from '../contracts/jupyter-image';

/** Build context of the trainer image: the repository root, trimmed by its .dockerignore. */
export const REPOSITORY_ROOT = join(__dirname, '..');
export const DOCKERFILE = 'docker/Dockerfile';

export interface TrainingStackProps extends StackProps {
  readonly config: DeployConfig;
  /** Name of the persistent stack's bucket. */
  readonly bucketName: string;
  /** The persistent stack's budget, stopped-at by a budget action; absent: no budget action. */
  readonly budgetName?: string;
}

/** What both engines share: the bucket, the run's prefix, the network, the log group and the image. */
interface RunBasics {
  config: DeployConfig;
  bucket: s3.IBucket;
  runPrefix: string;
  network: TrainingNetwork;
  upload?: DataUpload;
  budgetName?: string;
}

/** Everything billed by the hour for one run: VPC, image, and the instance or the Batch environment. */
export class TrainingStack extends Stack {
  /** The role the trainer runs with: the instance role, or the Batch job role. */
  readonly role: iam.Role;
  /** engine=instance only. */
  readonly instance?: TrainingInstance;
  /** engine=batch only. */
  readonly batch?: { compute: BatchCompute; job: TrainerJobDefinition; run: BatchRun };
  readonly logGroup: logs.ILogGroup;
  readonly image: DockerImageAsset;

  constructor(scope: Construct, id: string, props: TrainingStackProps) {
    super(scope, id, props);
    const { config } = props;
    // Imported by name, not by reference: no export ties the persistent stack to this one.
    const bucket = s3.Bucket.fromBucketName(this, 'ResultsBucket', props.bucketName);
    const runPrefix = `${RUNS_PREFIX}${config.runId}/`;

    if (config.engine === 'batch' && config.allowedCidr !== undefined)
      Annotations.of(this).addWarningV2(
        'facepoints:batch-allowed-cidr',
        `allowedCidr=${config.allowedCidr} is not used with engine=batch: Batch's instances take no inbound connections`,
      );
    const network = new TrainingNetwork(this, 'Network', {
      allowedCidr: config.engine === 'instance' ? config.allowedCidr : undefined,
      jupyter: config.jupyter,
    });

    // The persistent stack owns the log group, so a run's logs survive this stack's destroy.
    this.logGroup = logs.LogGroup.fromLogGroupName(this, 'TrainerLogs', TRAINING_LOG_GROUP);

    this.image = new DockerImageAsset(this, 'TrainerImage', {
      directory: REPOSITORY_ROOT,
      file: DOCKERFILE,
      platform: Platform.LINUX_AMD64,
      ignoreMode: IgnoreMode.DOCKER,
    });

    const upload = config.dataDir
      ? new DataUpload(this, 'DataUpload', { bucket, dataDir: config.dataDir })
      : undefined;
    const basics: RunBasics = { config, bucket, runPrefix, network, upload, budgetName: props.budgetName };

    const output = (key: string, value: string, description: string) =>
      new CfnOutput(this, key, { value, description });
    output(OUTPUT_KEYS.runId, config.runId, 'Run id; deploy again with -c runId=<this> to resume it');
    output(OUTPUT_KEYS.spot, String(config.spot), 'Spot instance');
    output(OUTPUT_KEYS.preset, config.preset, 'Trainer preset');
    output(OUTPUT_KEYS.logGroupName, this.logGroup.logGroupName, 'Log group of the trainer container');
    output(
      OUTPUT_KEYS.watchLogsCommand,
      `aws logs tail ${this.logGroup.logGroupName} --follow --log-stream-name-prefix ${config.runId}/ --region ${this.region}`,
      'Follow the trainer output',
    );
    output(
      OUTPUT_KEYS.statusCommand,
      `npx facepoints status --run ${config.runId} --region ${this.region}`,
      'Progress of the run',
    );

    output(OUTPUT_KEYS.engineComparison, describeEngineComparison(config), 'The two engines for this preset');

    if (config.engine === 'batch') {
      this.role = new iam.Role(this, 'JobRole', {
        assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
        description: 'facepoints Batch trainer jobs: the data prefix and this run directory',
      });
      this.batch = this.buildBatchEngine(basics);
    } else {
      this.role = new iam.Role(this, 'InstanceRole', {
        assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
        description: 'facepoints training instance: its bucket prefixes, its image, its log group, SSM',
        managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
      });
      this.instance = this.buildInstanceEngine(basics);
    }
  }

  /** One self-terminating GPU instance that trains every unit in turn. */
  private buildInstanceEngine({ config, bucket, runPrefix, network, upload, budgetName }: RunBasics) {
    grantRunAccess(this.role, bucket, runPrefix);
    this.image.repository.grantPull(this.role);
    this.logGroup.grantWrite(this.role);
    let jupyterToken: JupyterToken | undefined;
    if (config.jupyter) {
      jupyterToken = new JupyterToken(this, 'JupyterToken');
      jupyterToken.secret.grantRead(this.role);
    }
    acknowledgeRunAccess(this.role, runPrefix, true);
    Validations.of(this.role).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
        reason:
          'The AWS-maintained SSM core policy is the documented minimum for Session Manager, which replaces inbound SSH.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ecr:GetAuthorizationToken (added by grantPull) has no resource-level permissions; image pulls themselves are limited to the asset repository.',
      },
    );

    const userData = ec2.UserData.custom(
      renderBootUserData({
        region: this.region,
        imageUri: this.image.imageUri,
        runId: config.runId,
        preset: config.preset,
        dataUri: `s3://${bucket.bucketName}/${DATA_PREFIX}`,
        outUri: `s3://${bucket.bucketName}/${RUNS_PREFIX.replace(/\/$/, '')}`,
        logGroupName: this.logGroup.logGroupName,
        instanceType: config.instanceType,
        maxHours: config.maxHours,
        maxAttempts: config.maxAttempts,
        jupyter: jupyterToken
          ? { image: JUPYTER_IMAGE, tokenSecretArn: jupyterToken.secret.secretArn }
          : undefined,
      }),
    );

    const instance = new TrainingInstance(this, 'Trainer', {
      vpc: network.vpc,
      securityGroup: network.securityGroup,
      role: this.role,
      instanceTypes: launchInstanceTypes(config.instanceType, config.spot),
      userData,
      spot: config.spot,
      keyPairName: config.keyPairName,
    });
    // The role's policy must exist before the instance boots and asks for the image and the data.
    instance.fleet.node.addDependency(this.role);
    if (upload) instance.fleet.node.addDependency(upload);

    if (budgetName && config.alertEmail) {
      new BudgetStopAction(this, 'StopAtBudget', {
        budgetName,
        instanceId: instance.instanceId,
        alertEmail: config.alertEmail,
      });
    }

    const output = (key: string, value: string, description: string) =>
      new CfnOutput(this, key, { value, description });
    output(OUTPUT_KEYS.instanceId, instance.instanceId, 'Training instance');
    output(OUTPUT_KEYS.instanceType, config.instanceType, 'Instance type');
    output(
      OUTPUT_KEYS.sessionCommand,
      `aws ssm start-session --target ${instance.instanceId} --region ${this.region}`,
      'Shell on the instance',
    );
    if (jupyterToken) {
      output(
        OUTPUT_KEYS.jupyterTokenCommand,
        `aws secretsmanager get-secret-value --secret-id ${jupyterToken.secret.secretArn} --query SecretString --output text --region ${this.region}`,
        'JupyterLab token (port 8888 of the instance public address)',
      );
    }
    return instance;
  }

  /** AWS Batch jobs run by a Step Functions state machine: baseline, the specialists in parallel, report. */
  private buildBatchEngine({ config, bucket, runPrefix, network, upload }: RunBasics) {
    grantRunAccess(this.role, bucket, runPrefix);
    acknowledgeRunAccess(this.role, runPrefix, false);

    const compute = new BatchCompute(this, 'Batch', {
      vpc: network.vpc,
      securityGroup: network.securityGroup,
      instanceTypes: config.instanceTypes,
      maxParallel: config.maxParallel,
      spot: config.spot,
    });
    const jobProps = {
      runId: config.runId,
      preset: config.preset,
      dataUri: `s3://${bucket.bucketName}/${DATA_PREFIX}`,
      outUri: `s3://${bucket.bucketName}/${RUNS_PREFIX.replace(/\/$/, '')}`,
      region: this.region,
    };
    const job = new TrainerJobDefinition(this, 'TrainerJob', {
      ...jobProps,
      image: ecs.ContainerImage.fromDockerImageAsset(this.image),
      jobRole: this.role,
      logGroup: this.logGroup,
      instanceTypes: config.instanceTypes,
      timeout: Duration.minutes(Math.round(config.maxHours * 60)),
    });
    Validations.of(job.container.executionRole).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ecr:GetAuthorizationToken (needed to pull the image) has no resource-level permissions; image pulls themselves are limited to the asset repository.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:${TRAINING_LOG_GROUP}:*]`,
        reason:
          "Log streams of the trainer's own log group only: one stream per job attempt, named by Batch at run time.",
      },
    );

    const run = new BatchRun(this, 'Run', {
      queue: compute.queue,
      jobDefinition: job.jobDefinition,
      reportCommand: TrainerJobDefinition.reportCommand(jobProps),
      runId: config.runId,
      maxParallel: config.maxParallel,
      logGroup: this.logGroup,
    });
    // The first job reads the data and writes the run directory as soon as the execution starts.
    run.start.node.addDependency(this.role);
    if (upload) run.start.node.addDependency(upload);

    const output = (key: string, value: string, description: string) =>
      new CfnOutput(this, key, { value, description });
    output(OUTPUT_KEYS.engine, 'batch', 'What runs the training');
    output(OUTPUT_KEYS.instanceType, config.instanceTypes.join(','), 'Instance types Batch may launch');
    output(OUTPUT_KEYS.jobQueueName, compute.queue.jobQueueName, 'Batch job queue of the run');
    output(OUTPUT_KEYS.stateMachineArn, run.stateMachine.stateMachineArn, 'State machine of the run');
    output(OUTPUT_KEYS.executionArn, run.executionArn, 'The execution the deploy started');
    output(
      OUTPUT_KEYS.executionCommand,
      `aws stepfunctions describe-execution --execution-arn ${run.executionArn} --region ${this.region}`,
      'Where the run is: the execution status (the console shows each job)',
    );
    return { compute, job, run };
  }
}
