import { type Duration, Size } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { instanceSize } from '../../contracts/instance-prices';
import { EXIT_INTERRUPTED, EXIT_USAGE } from '../../contracts/run-status';

/** Memory left to the OS, Docker and the ECS agent, which Batch cannot give to a job. */
export const HOST_RESERVED_MIB = 2048;
/** Batch's maximum: only interruptions are retried, and each retry resumes from the last checkpoint. */
export const JOB_ATTEMPTS = 10;
/** The job parameter that names the units one job trains (`baseline`, `specialists/<name>`). */
export const UNITS_PARAMETER = 'units';

export interface TrainerJobDefinitionProps {
  readonly image: ecs.ContainerImage;
  /** The role the trainer runs with; the caller grants it the run's S3 access. */
  readonly jobRole: iam.IRole;
  readonly logGroup: logs.ILogGroup;
  /** The allowed instance types: the job asks for what the smallest of them has. */
  readonly instanceTypes: readonly string[];
  /** Per attempt, from maxHours: a job past it is stopped (and not retried). */
  readonly timeout: Duration;
  readonly runId: string;
  readonly preset: string;
  /** s3://BUCKET/data/ */
  readonly dataUri: string;
  /** s3://BUCKET/runs */
  readonly outUri: string;
  readonly region: string;
}

/**
 * One job definition for every job of a run: the trainer image on one GPU, training the units named by
 * the `units` parameter. The report job overrides the command (see reportCommand).
 */
export class TrainerJobDefinition extends Construct {
  readonly jobDefinition: batch.EcsJobDefinition;
  readonly container: batch.EcsEc2ContainerDefinition;

  constructor(scope: Construct, id: string, props: TrainerJobDefinitionProps) {
    super(scope, id);
    const smallest = props.instanceTypes
      .map((t) => instanceSize(t))
      .reduce((a, b) => ({
        vcpus: Math.min(a.vcpus, b.vcpus),
        memoryGiB: Math.min(a.memoryGiB, b.memoryGiB),
      }));
    this.container = new batch.EcsEc2ContainerDefinition(this, 'Trainer', {
      image: props.image,
      gpu: 1,
      cpu: smallest.vcpus,
      memory: Size.mebibytes(smallest.memoryGiB * 1024 - HOST_RESERVED_MIB),
      jobRole: props.jobRole,
      logging: ecs.LogDriver.awsLogs({ logGroup: props.logGroup, streamPrefix: props.runId }),
      command: [
        'train',
        '--data',
        props.dataUri,
        '--out',
        props.outUri,
        '--run',
        props.runId,
        '--preset',
        props.preset,
        '--require-gpu',
        '--units',
        `Ref::${UNITS_PARAMETER}`,
      ],
      environment: {
        AWS_REGION: props.region,
        // Polls the instance metadata for a spot notice, as on the instance engine.
        FACEPOINTS_ON_EC2: '1',
      },
    });
    this.jobDefinition = new batch.EcsJobDefinition(this, 'Definition', {
      container: this.container,
      parameters: { [UNITS_PARAMETER]: 'baseline' },
      timeout: props.timeout,
      retryAttempts: JOB_ATTEMPTS,
      // The first match decides; Batch retries a failure that matches no entry, hence the final EXIT.
      retryStrategies: [
        batch.RetryStrategy.of(batch.Action.EXIT, batch.Reason.custom({ onExitCode: String(EXIT_USAGE) })),
        // "Host EC2 (instance i-...) terminated.": a spot reclaim or a lost host.
        batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.SPOT_INSTANCE_RECLAIMED),
        batch.RetryStrategy.of(
          batch.Action.RETRY,
          batch.Reason.custom({ onExitCode: String(EXIT_INTERRUPTED) }),
        ),
        batch.RetryStrategy.of(batch.Action.EXIT, batch.Reason.custom({ onReason: '*' })),
      ],
      propagateTags: true,
    });
  }

  /** The report job's command: reads the trained units and writes the report, trains nothing. */
  static reportCommand(props: Pick<TrainerJobDefinitionProps, 'outUri' | 'runId'>): string[] {
    return ['report', '--out', props.outUri, '--run', props.runId];
  }
}
