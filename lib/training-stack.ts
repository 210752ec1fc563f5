import { join } from 'node:path';
import { CfnOutput, IgnoreMode, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { DATA_PREFIX, RUNS_PREFIX } from '../contracts/run-layout';
import { renderBootUserData } from './boot/boot-user-data';
import { BudgetStopAction } from './constructs/budget-stop-action';
import { DataUpload } from './constructs/data-upload';
import { JupyterToken } from './constructs/jupyter-token';
import { TrainingInstance } from './constructs/training-instance';
import { TrainingNetwork } from './constructs/training-network';
import type { DeployConfig } from '../contracts/deploy-config';
import { OUTPUT_KEYS, TRAINING_LOG_GROUP, resultsBucketName } from '../contracts/deployment-names';
import { launchInstanceTypes } from '../contracts/instance-prices';
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

/** Everything billed by the hour for one run: VPC, instance, image, budget action. */
export class TrainingStack extends Stack {
  readonly role: iam.Role;
  readonly instance: TrainingInstance;
  readonly logGroup: logs.ILogGroup;
  readonly image: DockerImageAsset;

  constructor(scope: Construct, id: string, props: TrainingStackProps) {
    super(scope, id, props);
    const { config } = props;
    // Imported by name, not by reference: no export ties the persistent stack to this one.
    const bucket = s3.Bucket.fromBucketName(this, 'ResultsBucket', props.bucketName);
    const runPrefix = `${RUNS_PREFIX}${config.runId}/`;

    const network = new TrainingNetwork(this, 'Network', {
      allowedCidr: config.allowedCidr,
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

    this.role = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'facepoints training instance: its bucket prefixes, its image, its log group, SSM',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    this.grantRunAccess(bucket, runPrefix);
    this.image.repository.grantPull(this.role);
    this.logGroup.grantWrite(this.role);
    let jupyterToken: JupyterToken | undefined;
    if (config.jupyter) {
      jupyterToken = new JupyterToken(this, 'JupyterToken');
      jupyterToken.secret.grantRead(this.role);
    }
    this.acknowledgeRoleFindings(runPrefix);

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

    this.instance = new TrainingInstance(this, 'Trainer', {
      vpc: network.vpc,
      securityGroup: network.securityGroup,
      role: this.role,
      instanceTypes: launchInstanceTypes(config.instanceType, config.spot),
      userData,
      spot: config.spot,
      keyPairName: config.keyPairName,
    });
    // The role's policy must exist before the instance boots and asks for the image and the data.
    this.instance.fleet.node.addDependency(this.role);

    if (config.dataDir) {
      const upload = new DataUpload(this, 'DataUpload', { bucket, dataDir: config.dataDir });
      this.instance.fleet.node.addDependency(upload);
      this.acknowledgeUploadFindings();
    }

    if (props.budgetName && config.alertEmail) {
      new BudgetStopAction(this, 'StopAtBudget', {
        budgetName: props.budgetName,
        instanceId: this.instance.instanceId,
        alertEmail: config.alertEmail,
      });
    }

    const instanceId = this.instance.instanceId;
    const output = (key: string, value: string, description: string) =>
      new CfnOutput(this, key, { value, description });
    output(OUTPUT_KEYS.runId, config.runId, 'Run id; deploy again with -c runId=<this> to resume it');
    output(OUTPUT_KEYS.instanceId, instanceId, 'Training instance');
    output(OUTPUT_KEYS.instanceType, config.instanceType, 'Instance type');
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
    output(
      OUTPUT_KEYS.sessionCommand,
      `aws ssm start-session --target ${instanceId} --region ${this.region}`,
      'Shell on the instance',
    );
    if (jupyterToken) {
      output(
        OUTPUT_KEYS.jupyterTokenCommand,
        `aws secretsmanager get-secret-value --secret-id ${jupyterToken.secret.secretArn} --query SecretString --output text --region ${this.region}`,
        'JupyterLab token (port 8888 of the instance public address)',
      );
    }
  }

  /** Read the shared data, read and write this run's directory: nothing else in the bucket. */
  private grantRunAccess(bucket: s3.IBucket, runPrefix: string): void {
    // Unconditional on this single-purpose bucket: S3 answers a read of a missing key with 404 only to a
    // caller that may ListBucket in that request's context, and a GetObject carries no s3:prefix, so a
    // prefix-conditioned grant turns every "not there yet" into 403 AccessDenied. Listing shows key
    // names of other runs, never their contents.
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListBucket',
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadData',
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects(`${DATA_PREFIX}*`)],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadWriteThisRun',
        actions: [
          's3:GetObject',
          's3:PutObject',
          's3:DeleteObject',
          's3:AbortMultipartUpload',
          's3:ListMultipartUploadParts',
        ],
        resources: [bucket.arnForObjects(`${runPrefix}*`)],
      }),
    );
  }

  private acknowledgeRoleFindings(runPrefix: string): void {
    const bucketArn = `arn:<AWS::Partition>:s3:::${resultsBucketName('<AWS::AccountId>', '<AWS::Region>')}`;
    Validations.of(this.role).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
        reason:
          'The AWS-maintained SSM core policy is the documented minimum for Session Manager, which replaces inbound SSH.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${bucketArn}/${DATA_PREFIX}*]`,
        reason: 'Read-only access to the shared data prefix: the trainer reads the Kaggle files in it.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${bucketArn}/${runPrefix}*]`,
        reason:
          "Read and write access to this run's own directory only: checkpoints, models, metrics and the report.",
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:${TRAINING_LOG_GROUP}:*]`,
        reason:
          "Log streams of the trainer's own log group only: one stream per run attempt, named at run time.",
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ecr:GetAuthorizationToken (added by grantPull) has no resource-level permissions; image pulls themselves are limited to the asset repository.',
      },
    );
  }

  private acknowledgeUploadFindings(): void {}
}
