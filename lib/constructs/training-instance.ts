import { Size, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

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
  readonly instanceType: string;
  readonly userData: ec2.UserData;
  /** Launch as a one-time spot instance. @default false */
  readonly spot?: boolean;
  /** EC2 key pair for SSH. @default none: SSM Session Manager only */
  readonly keyPairName?: string;
}

/**
 * The GPU instance, launched from a launch template: `ec2.Instance` has no spot option, and the template
 * also carries the IMDS settings the trainer container needs.
 */
export class TrainingInstance extends Construct {
  readonly launchTemplate: ec2.LaunchTemplate;
  readonly instance: ec2.CfnInstance;

  constructor(scope: Construct, id: string, props: TrainingInstanceProps) {
    super(scope, id);
    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: ec2.MachineImage.fromSsmParameter(GPU_AMI_SSM_PARAMETER, { os: ec2.OperatingSystemType.LINUX }),
      instanceType: new ec2.InstanceType(props.instanceType),
      role: props.role,
      securityGroup: props.securityGroup,
      userData: props.userData,
      keyPair: props.keyPairName ? ec2.KeyPair.fromKeyPairName(this, 'KeyPair', props.keyPairName) : undefined,
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
      spotOptions: props.spot
        ? { requestType: ec2.SpotRequestType.ONE_TIME, interruptionBehavior: ec2.SpotInstanceInterruption.TERMINATE }
        : undefined,
    });

    this.instance = new ec2.CfnInstance(this, 'Instance', {
      launchTemplate: {
        launchTemplateId: this.launchTemplate.launchTemplateId,
        version: this.launchTemplate.latestVersionNumber,
      },
      subnetId: props.vpc.publicSubnets[0].subnetId,
    });
    Validations.of(this.instance).acknowledge(
      {
        id: 'AwsSolutions-EC26',
        reason: 'The root volume is encrypted in the launch template (BlockDeviceMappings Ebs Encrypted=true), which cdk-nag does not follow from the instance.',
      },
      {
        id: 'AwsSolutions-EC28',
        reason: 'One short-lived training instance: basic CloudWatch metrics and the container log are enough; detailed monitoring would add cost.',
      },
      {
        id: 'AwsSolutions-EC29',
        reason: 'The instance is meant to terminate itself when training ends; termination protection or an Auto Scaling group would defeat that.',
      },
    );
  }
}
