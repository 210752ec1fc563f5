import { Size, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledgeCustomResourceProvider } from './custom-resource-provider';

/** Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04): NVIDIA driver, Docker, NVIDIA Container Toolkit. */
export const GPU_AMI_SSM_PARAMETER =
  '/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id';

/**
 * Root volume: the AMI's own snapshot (tens of GB: several CUDA toolkits), the CUDA/cuDNN trainer image
 * (~6 GB) and the data, with room to spare. A launch fails if the AMI ever outgrows it.
 */
export const ROOT_VOLUME_SIZE = Size.gibibytes(120);

export interface TrainingInstanceProps {
  readonly vpc: ec2.IVpc;
  readonly securityGroup: ec2.ISecurityGroup;
  /** Instance role; the caller grants it what the run needs. */
  readonly role: iam.IRole;
  /** Instance types in order of preference; the first is the one asked for, the others are fallbacks. */
  readonly instanceTypes: readonly string[];
  readonly userData: ec2.UserData;
  /** Launch as a one-time spot instance. @default false */
  readonly spot?: boolean;
  /** EC2 key pair for SSH. @default none: SSM Session Manager only */
  readonly keyPairName?: string;
}

/**
 * The GPU instance, launched by a one-time ("instant") EC2 Fleet from a launch template. A fleet, unlike a
 * plain instance, is given every public subnet (and with spot, several instance types): GPU types are not
 * offered in every zone and run out of capacity in some, and the fleet moves on to the next pool instead
 * of failing the deploy. Deleting an instant fleet terminates its instance, so `cdk destroy` ends billing.
 */
export class TrainingInstance extends Construct {
  readonly launchTemplate: ec2.LaunchTemplate;
  readonly fleet: ec2.CfnEC2Fleet;
  /** The launched instance's id (read from the fleet once it exists). */
  readonly instanceId: string;

  constructor(scope: Construct, id: string, props: TrainingInstanceProps) {
    super(scope, id);
    if (props.instanceTypes.length === 0)
      throw new Error('TrainingInstance: expected at least one instance type, found none');
    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: ec2.MachineImage.fromSsmParameter(GPU_AMI_SSM_PARAMETER, {
        os: ec2.OperatingSystemType.LINUX,
      }),
      role: props.role,
      securityGroup: props.securityGroup,
      userData: props.userData,
      keyPair: props.keyPairName
        ? ec2.KeyPair.fromKeyPairName(this, 'KeyPair', props.keyPairName)
        : undefined,
      httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
      httpEndpoint: true,
      // The trainer runs in a bridge-networked container, one hop further from IMDS than the host.
      httpPutResponseHopLimit: 2,
      // `shutdown -h` at the end of the run (or at max hours) then ends all compute billing.
      instanceInitiatedShutdownBehavior: ec2.InstanceInitiatedShutdownBehavior.TERMINATE,
      blockDevices: [
        {
          deviceName: '/dev/sda1',
          volume: ec2.BlockDeviceVolume.ebs(ROOT_VOLUME_SIZE.toGibibytes(), {
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            encrypted: true,
            deleteOnTermination: true,
          }),
        },
      ],
    });

    const subnets = props.vpc.publicSubnets;
    // Priority 0 is the best: the asked-for type first, then each fallback type, in every zone.
    const overrides = props.instanceTypes.flatMap((instanceType, typeRank) =>
      subnets.map((subnet) => ({ instanceType, subnetId: subnet.subnetId, priority: typeRank })),
    );
    this.fleet = new ec2.CfnEC2Fleet(this, 'Fleet', {
      type: 'instant',
      launchTemplateConfigs: [
        {
          launchTemplateSpecification: {
            launchTemplateId: this.launchTemplate.launchTemplateId,
            version: this.launchTemplate.latestVersionNumber,
          },
          overrides,
        },
      ],
      targetCapacitySpecification: {
        totalTargetCapacity: 1,
        defaultTargetCapacityType: props.spot ? 'spot' : 'on-demand',
        ...(props.spot ? { spotTargetCapacity: 1 } : { onDemandTargetCapacity: 1 }),
      },
      onDemandOptions: props.spot
        ? undefined
        : { allocationStrategy: 'prioritized', minTargetCapacity: 1, singleInstanceType: true },
      // Capacity first, then the order given: a reclaimed spot instance costs more than a pricier pool.
      spotOptions: props.spot
        ? {
            allocationStrategy: 'capacity-optimized-prioritized',
            instanceInterruptionBehavior: 'terminate',
            minTargetCapacity: 1,
            singleInstanceType: true,
          }
        : undefined,
      // The fleet launches once; it never replaces the instance when the run powers it off.
      replaceUnhealthyInstances: false,
    });

    // An instant fleet reports the instances it launched only through DescribeFleets; a fleet that could
    // launch none makes this lookup (and so the deploy) fail, with the fleet's errors in the EC2 console.
    const lookup = new AwsCustomResource(this, 'InstanceLookup', {
      onUpdate: {
        service: 'EC2',
        action: 'describeFleets',
        parameters: { FleetIds: [this.fleet.ref] },
        physicalResourceId: PhysicalResourceId.of(this.fleet.ref),
        outputPaths: ['Fleets.0.Instances.0.InstanceIds.0'],
      },
      // DescribeFleets has no resource-level permissions.
      policy: AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({ actions: ['ec2:DescribeFleets'], resources: ['*'] }),
      ]),
      installLatestAwsSdk: false,
    });
    this.instanceId = lookup.getResponseField('Fleets.0.Instances.0.InstanceIds.0');

    Validations.of(lookup).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ec2:DescribeFleets has no resource-level permissions; the function only reads the fleet it is given.',
    });
    acknowledgeCustomResourceProvider(this);
  }
}
