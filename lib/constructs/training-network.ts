import { Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';

export const SSH_PORT = 22;
export const JUPYTER_PORT = 8888;

export interface TrainingNetworkProps {
  /** The only source allowed on SSH and Jupyter. @default none: no inbound rules at all */
  readonly allowedCidr?: string;
  /** Open the Jupyter port to allowedCidr as well as SSH. @default false */
  readonly jupyter?: boolean;
}

/** A VPC with public subnets only (no NAT gateway to pay for) and the instance's security group. */
export class TrainingNetwork extends Construct {
  readonly vpc: ec2.Vpc;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: TrainingNetworkProps) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      // Every zone the stack knows (two when environment-agnostic): GPU capacity differs by zone.
      maxAzs: 99,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
    });
    Validations.of(this.vpc).acknowledge({
      id: 'AwsSolutions-VPC7',
      reason:
        'The VPC holds one short-lived training instance; flow logs would cost more than the traffic they record, and outbound calls go to AWS APIs logged by CloudTrail.',
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc: this.vpc,
      description: 'facepoints training instance: inbound only from allowedCidr',
      // Outbound to ECR, S3, CloudWatch Logs and SSM over the internet gateway (there is no NAT or endpoint).
      allowAllOutbound: true,
    });
    if (props.allowedCidr) {
      const peer = props.allowedCidr.includes(':')
        ? ec2.Peer.ipv6(props.allowedCidr)
        : ec2.Peer.ipv4(props.allowedCidr);
      this.securityGroup.addIngressRule(peer, ec2.Port.tcp(SSH_PORT), 'SSH from allowedCidr');
      if (props.jupyter)
        this.securityGroup.addIngressRule(peer, ec2.Port.tcp(JUPYTER_PORT), 'JupyterLab from allowedCidr');
      if (props.allowedCidr === '0.0.0.0/0' || props.allowedCidr === '::/0') {
        Validations.of(this.securityGroup).acknowledge({
          id: 'AwsSolutions-EC23',
          reason: 'The deployer asked for world-open SSH/Jupyter explicitly with allowAnyIp=true.',
        });
      }
    }
  }
}
