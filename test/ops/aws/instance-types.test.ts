import {
  DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand,
  DescribeSpotPriceHistoryCommand,
  EC2Client,
  EC2ServiceException,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { getDefaultVcpus, getOfferedZones, getSpotPricesByZone } from '../../../ops/aws/instance-types';
import { at } from '../../support/checked';

const ec2 = mockClient(EC2Client);
const client = new EC2Client({ region: 'eu-west-1' });
const noWait = { sleep: async () => {} };
const NOW = new Date('2026-12-02T12:00:00Z');

function ec2Error(name: string, message: string) {
  return new EC2ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400 }, message });
}

beforeEach(() => ec2.reset());

test('the default vCPUs of a type (DescribeInstanceTypes response shape)', async () => {
  ec2.on(DescribeInstanceTypesCommand, { InstanceTypes: ['g4dn.xlarge'] }).resolves({
    InstanceTypes: [
      {
        InstanceType: 'g4dn.xlarge',
        CurrentGeneration: true,
        VCpuInfo: {
          DefaultVCpus: 4,
          DefaultCores: 2,
          DefaultThreadsPerCore: 2,
          ValidCores: [2],
          ValidThreadsPerCore: [1, 2],
        },
        MemoryInfo: { SizeInMiB: 16384 },
        GpuInfo: {
          Gpus: [{ Name: 'T4', Manufacturer: 'NVIDIA', Count: 1, MemoryInfo: { SizeInMiB: 15360 } }],
          TotalGpuMemoryInMiB: 15360,
        },
      },
    ],
  });
  expect(await getDefaultVcpus(client, 'g4dn.xlarge', noWait)).toBe(4);
});

test('a type EC2 does not know is null; AccessDenied names the permission', async () => {
  ec2
    .on(DescribeInstanceTypesCommand)
    .rejects(
      ec2Error('InvalidInstanceType', 'The following supplied instance types do not exist: [g9.xlarge]'),
    );
  expect(await getDefaultVcpus(client, 'g9.xlarge', noWait)).toBeNull();
  ec2.reset();
  ec2
    .on(DescribeInstanceTypesCommand)
    .rejects(ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.'));
  await expect(getDefaultVcpus(client, 'g4dn.xlarge', noWait)).rejects.toThrow(
    'access denied: your AWS identity lacks the permission ec2:DescribeInstanceTypes (g4dn.xlarge)',
  );
});

test('the zones offering a type, over every page (DescribeInstanceTypeOfferings response shape)', async () => {
  ec2
    .on(DescribeInstanceTypeOfferingsCommand)
    .resolvesOnce({
      InstanceTypeOfferings: [
        { InstanceType: 'g4dn.xlarge', LocationType: 'availability-zone', Location: 'eu-west-1c' },
        { InstanceType: 'g4dn.xlarge', LocationType: 'availability-zone', Location: 'eu-west-1a' },
      ],
      NextToken: 'page-2',
    })
    .resolvesOnce({
      InstanceTypeOfferings: [
        { InstanceType: 'g4dn.xlarge', LocationType: 'availability-zone', Location: 'eu-west-1b' },
      ],
    });
  expect(await getOfferedZones(client, 'g4dn.xlarge', noWait)).toEqual([
    'eu-west-1a',
    'eu-west-1b',
    'eu-west-1c',
  ]);
  const input = at(
    ec2.commandCalls(DescribeInstanceTypeOfferingsCommand),
    0,
    'a DescribeInstanceTypeOfferings call',
  ).args[0].input;
  expect(input).toEqual({
    LocationType: 'availability-zone',
    Filters: [{ Name: 'instance-type', Values: ['g4dn.xlarge'] }],
    NextToken: undefined,
  });
});

test('no offering is an empty list; AccessDenied names the permission', async () => {
  ec2.on(DescribeInstanceTypeOfferingsCommand).resolves({ InstanceTypeOfferings: [] });
  expect(await getOfferedZones(client, 'g5.xlarge', noWait)).toEqual([]);
  ec2.reset();
  ec2
    .on(DescribeInstanceTypeOfferingsCommand)
    .rejects(ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.'));
  await expect(getOfferedZones(client, 'g5.xlarge', noWait)).rejects.toThrow(
    'lacks the permission ec2:DescribeInstanceTypeOfferings (g5.xlarge)',
  );
});

test('the newest spot price per zone, cheapest first (DescribeSpotPriceHistory response shape)', async () => {
  ec2.on(DescribeSpotPriceHistoryCommand).resolves({
    SpotPriceHistory: [
      {
        AvailabilityZone: 'eu-west-1a',
        InstanceType: 'g4dn.xlarge',
        ProductDescription: 'Linux/UNIX',
        SpotPrice: '0.187600',
        Timestamp: new Date('2026-12-02T10:00:00Z'),
      },
      {
        AvailabilityZone: 'eu-west-1a',
        InstanceType: 'g4dn.xlarge',
        ProductDescription: 'Linux/UNIX',
        SpotPrice: '0.201200',
        Timestamp: new Date('2026-12-02T07:00:00Z'),
      },
      {
        AvailabilityZone: 'eu-west-1b',
        InstanceType: 'g4dn.xlarge',
        ProductDescription: 'Linux/UNIX',
        SpotPrice: '0.171000',
        Timestamp: new Date('2026-12-02T08:30:00Z'),
      },
    ],
    NextToken: '',
  });
  expect(await getSpotPricesByZone(client, 'g4dn.xlarge', NOW, 6, noWait)).toEqual([
    { availabilityZone: 'eu-west-1b', usdPerHour: 0.171, timestamp: new Date('2026-12-02T08:30:00Z') },
    { availabilityZone: 'eu-west-1a', usdPerHour: 0.1876, timestamp: new Date('2026-12-02T10:00:00Z') },
  ]);
  const input = at(ec2.commandCalls(DescribeSpotPriceHistoryCommand), 0, 'a DescribeSpotPriceHistory call')
    .args[0].input;
  expect(input).toMatchObject({
    InstanceTypes: ['g4dn.xlarge'],
    ProductDescriptions: ['Linux/UNIX'],
    StartTime: new Date('2026-12-02T06:00:00Z'),
    EndTime: NOW,
  });
});

test('spot price history: AccessDenied names the permission', async () => {
  ec2
    .on(DescribeSpotPriceHistoryCommand)
    .rejects(ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.'));
  await expect(getSpotPricesByZone(client, 'g4dn.xlarge', NOW, 6, noWait)).rejects.toThrow(
    'lacks the permission ec2:DescribeSpotPriceHistory (g4dn.xlarge)',
  );
});
