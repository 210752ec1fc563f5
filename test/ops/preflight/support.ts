import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { CostExplorerClient, ListCostAllocationTagsCommand } from '@aws-sdk/client-cost-explorer';
import {
  DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand,
  DescribeSpotPriceHistoryCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  NotFound,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetServiceQuotaCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { STACK_NAMES } from '../../../contracts/deployment-names';
import type { CommandResult, CommandRunner } from '../../../ops/preflight/run-command';
import { LOOKUP_HEADER, TEST_HEADER, TRAINING_HEADER } from '../../../contracts/keypoints';
import { at, present } from '../../support/checked';

/**
 * Mocked AWS for preflight, answering with the recorded shapes of the real APIs: an account that is ready to
 * deploy unless a test changes one answer.
 */
export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const BUCKET = `facepoints-${ACCOUNT}-${REGION}-an`;
export const NOW = new Date('2026-12-02T12:00:00Z');
export const DIGEST = `sha256:${'0'.repeat(64)}`;

export const mocks = {
  sts: mockClient(STSClient),
  cfn: mockClient(CloudFormationClient),
  quotas: mockClient(ServiceQuotasClient),
  ec2: mockClient(EC2Client),
  s3: mockClient(S3Client),
  ce: mockClient(CostExplorerClient),
};

export function cfnMissing(name: string) {
  return new CloudFormationServiceException({
    name: 'ValidationError',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: `Stack with id ${name} does not exist`,
  });
}

export function stack(name: string, status: string, outputs: Record<string, string>) {
  return {
    Stacks: [
      {
        StackId: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${name}/5c5fd1a0-6a0e-11ef-9a1c-0a3b1c2d3e4f`,
        StackName: name,
        CreationTime: new Date('2026-01-05T10:00:00Z'),
        StackStatus: status as 'CREATE_COMPLETE',
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  };
}

/** vCPUs of the g4dn and g5 sizes (EC2 instance types, accelerated computing). */
const VCPUS: Record<string, number> = {
  xlarge: 4,
  '2xlarge': 8,
  '4xlarge': 16,
  '8xlarge': 32,
  '16xlarge': 64,
};

export const csvStart = (header: readonly string[]) => `${header.join(',')}\n1,`;
const DATA_STARTS: Record<string, string> = {
  'data/training.csv': csvStart(TRAINING_HEADER),
  'data/test.csv': csvStart(TEST_HEADER),
  'data/IdLookupTable.csv': csvStart(LOOKUP_HEADER),
};

/** Every mock reset to a bootstrapped account with quota, a deployed data stack and the data in its bucket. */
export function readyAccount(): void {
  for (const m of Object.values(mocks)) m.reset();
  mocks.sts.on(GetCallerIdentityCommand).resolves({
    UserId: 'AIDASAMPLEUSERID',
    Account: ACCOUNT,
    Arn: `arn:aws:iam::${ACCOUNT}:user/dev`,
  });
  mocks.cfn
    .on(DescribeStacksCommand, { StackName: 'CDKToolkit' })
    .resolves(
      stack('CDKToolkit', 'UPDATE_COMPLETE', { BootstrapVersion: '29', BucketName: 'cdk-hnb659fds-assets' }),
    );
  mocks.cfn
    .on(DescribeStacksCommand, { StackName: STACK_NAMES.persistent })
    .resolves(stack(STACK_NAMES.persistent, 'CREATE_COMPLETE', { BucketName: BUCKET }));
  for (const [code, name] of [
    ['L-DB2E81BA', 'Running On-Demand G and VT instances'],
    ['L-3819A6DF', 'All G and VT Spot Instance Requests'],
  ])
    mocks.quotas.on(GetServiceQuotaCommand, { ServiceCode: 'ec2', QuotaCode: code }).resolves({
      Quota: {
        ServiceCode: 'ec2',
        ServiceName: 'Amazon Elastic Compute Cloud (Amazon EC2)',
        QuotaArn: `arn:aws:servicequotas:${REGION}:${ACCOUNT}:ec2/${code}`,
        QuotaCode: code,
        QuotaName: name,
        Value: 8,
        Unit: 'None',
        Adjustable: true,
        GlobalQuota: false,
      },
    });
  mocks.ec2.on(DescribeInstanceTypesCommand).callsFake((input: { InstanceTypes: string[] }) => ({
    InstanceTypes: input.InstanceTypes.map((t) => ({
      InstanceType: t,
      VCpuInfo: {
        DefaultVCpus: VCPUS[t.split('.')[1] ?? ''] ?? 4,
        DefaultCores: 2,
        DefaultThreadsPerCore: 2,
      },
    })),
  }));
  mocks.ec2
    .on(DescribeInstanceTypeOfferingsCommand)
    .callsFake((input: { Filters: Array<{ Values: string[] }> }) => ({
      InstanceTypeOfferings: ['a', 'b', 'c'].map((z) => ({
        InstanceType: at(at(input.Filters, 0, 'an instance-type filter').Values, 0, 'an instance type'),
        LocationType: 'availability-zone',
        Location: `${REGION}${z}`,
      })),
    }));
  mocks.ec2.on(DescribeSpotPriceHistoryCommand).resolves({
    SpotPriceHistory: [
      {
        AvailabilityZone: `${REGION}a`,
        InstanceType: 'g4dn.xlarge',
        ProductDescription: 'Linux/UNIX',
        SpotPrice: '0.187600',
        Timestamp: new Date('2026-12-02T10:00:00Z'),
      },
      {
        AvailabilityZone: `${REGION}b`,
        InstanceType: 'g4dn.xlarge',
        ProductDescription: 'Linux/UNIX',
        SpotPrice: '0.171000',
        Timestamp: new Date('2026-12-02T08:30:00Z'),
      },
    ],
  });
  mocks.s3.on(HeadBucketCommand, { Bucket: BUCKET }).resolves({ BucketRegion: REGION });
  mocks.s3.on(ListObjectsV2Command, { Bucket: BUCKET, Prefix: 'data/' }).resolves({
    Contents: [
      { Key: 'data/IdLookupTable.csv', Size: 843_638 },
      { Key: 'data/test.csv', Size: 60_976_573 },
      { Key: 'data/training.csv', Size: 238_052_865 },
    ],
    KeyCount: 3,
  });
  mocks.s3.on(GetObjectCommand).callsFake((input: { Key: string }) => ({
    Body: { transformToByteArray: async () => new Uint8Array(Buffer.from(DATA_STARTS[input.Key] ?? '')) },
  }));
  mocks.ce.on(ListCostAllocationTagsCommand).resolves({
    CostAllocationTags: [
      { TagKey: 'Project', Type: 'UserDefined', Status: 'Active', LastUpdatedDate: '2026-11-01T00:00:00Z' },
    ],
  });
}

/** A brand-new account: no bootstrap stack, GPU quotas of 0, no bucket yet. */
export function newAccount(): void {
  readyAccount();
  mocks.cfn.on(DescribeStacksCommand).rejects(cfnMissing('CDKToolkit'));
  mocks.quotas.on(GetServiceQuotaCommand).resolves({
    Quota: {
      ServiceCode: 'ec2',
      QuotaCode: 'L-DB2E81BA',
      QuotaName: 'Running On-Demand G and VT instances',
      Value: 0,
    },
  });
  mocks.s3
    .on(HeadBucketCommand)
    .rejects(new NotFound({ $metadata: { httpStatusCode: 404 }, message: 'UnknownError' }));
}

const ok = (stdout: string): CommandResult => ({ code: 0, stdout, stderr: '' });

/** Docker Desktop with buildx and amd64; every image tag resolves unless listed in `missing`. */
export function dockerReady(missing: string[] = []): CommandRunner {
  return async (_program, args) => {
    const cmd = args.join(' ');
    if (cmd === 'version --format {{.Client.Version}}') return ok('27.3.1\n');
    if (cmd === 'buildx version') return ok('github.com/docker/buildx v0.17.1 257815a\n');
    if (cmd === 'buildx inspect --bootstrap')
      return ok('Name: desktop-linux\nDriver: docker\nPlatforms: linux/amd64, linux/amd64/v2, linux/arm64\n');
    if (args[0] === 'buildx' && args[1] === 'imagetools') {
      const ref = present(args[3], 'an image for docker buildx imagetools');
      if (missing.includes(ref)) return { code: 1, stdout: '', stderr: `ERROR: ${ref}: not found\n` };
      return ok(
        `Name:      ${ref}\nMediaType: application/vnd.oci.image.index.v1+json\nDigest:    ${DIGEST}\n`,
      );
    }
    return { code: 1, stdout: '', stderr: `unexpected docker ${cmd}` };
  };
}

/** The docker CLI without the buildx plugin (this project's machines). */
export const dockerWithoutBuildx: CommandRunner = async (_program, args) =>
  args[0] === 'version'
    ? ok('27.3.1\n')
    : {
        code: 1,
        stdout: '',
        stderr: "docker: unknown command: docker buildx\n\nRun 'docker --help' for more information\n",
      };
