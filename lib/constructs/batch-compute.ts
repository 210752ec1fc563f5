import { Validations } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { instanceSize } from '../../contracts/instance-prices';

export interface BatchComputeProps {
  readonly vpc: ec2.IVpc;
  readonly securityGroup: ec2.ISecurityGroup;
  /** Instance types Batch may launch; each must be a supported single-GPU type. */
  readonly instanceTypes: readonly string[];
  /** Jobs that may run at the same time, one per instance. */
  readonly maxParallel: number;
  /** Launch spot instances instead of on-demand. @default false */
  readonly spot?: boolean;
}

/**
 * A managed GPU compute environment and its job queue. It scales from 0 vCPUs, so nothing runs (or is
 * billed) while no job waits, up to `maxParallel` instances of the largest allowed type. Every public
 * subnet is offered: GPU types are missing from some zones and run out of capacity in others.
 */
export class BatchCompute extends Construct {
  readonly computeEnvironment: batch.ManagedEc2EcsComputeEnvironment;
  readonly queue: batch.JobQueue;

  constructor(scope: Construct, id: string, props: BatchComputeProps) {
    super(scope, id);
    if (props.instanceTypes.length === 0)
      throw new Error('BatchCompute: expected at least one instance type, found none');
    // Each job takes a whole single-GPU instance: room for maxParallel of the largest allowed type.
    const maxvCpus = props.maxParallel * Math.max(...props.instanceTypes.map((t) => instanceSize(t).vcpus));
    this.computeEnvironment = new batch.ManagedEc2EcsComputeEnvironment(this, 'Gpu', {
      vpc: props.vpc,
      vpcSubnets: { subnets: props.vpc.publicSubnets },
      securityGroups: [props.securityGroup],
      instanceTypes: props.instanceTypes.map((t) => new ec2.InstanceType(t)),
      // Without this Batch adds "optimal", which includes CPU-only and unsupported GPU families.
      useOptimalInstanceClasses: false,
      images: [{ imageType: batch.EcsMachineImageType.ECS_AL2023_NVIDIA }],
      minvCpus: 0,
      maxvCpus,
      spot: props.spot ?? false,
      // Capacity first, as the instance engine's fleet: a reclaimed job costs more than a pricier pool.
      allocationStrategy: props.spot
        ? batch.AllocationStrategy.SPOT_CAPACITY_OPTIMIZED
        : batch.AllocationStrategy.BEST_FIT_PROGRESSIVE,
    });
    this.queue = new batch.JobQueue(this, 'Queue', {
      computeEnvironments: [{ computeEnvironment: this.computeEnvironment, order: 1 }],
      priority: 1,
    });

    const instanceRole = this.computeEnvironment.instanceRole;
    if (instanceRole)
      Validations.of(instanceRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role]',
        reason:
          "The AWS-maintained ECS instance policy is what Batch's container agent needs to register the instance and run jobs; the trainer itself runs with the job role.",
      });
  }
}
