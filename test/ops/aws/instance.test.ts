import {
  DescribeInstancesCommand,
  DescribeSpotPriceHistoryCommand,
  EC2Client,
  EC2ServiceException,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { describeInstance, getSpotPrice, parseTransitionTime } from '../../../ops/aws/instance';

const ec2 = mockClient(EC2Client);
const client = new EC2Client({ region: 'eu-west-1' });
const noWait = { sleep: async () => {} };

function ec2Error(name: string, message: string) {
  return new EC2ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400 }, message });
}

beforeEach(() => ec2.reset());

test('a running spot instance: type, zone, launch time, no stop time', async () => {
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        ReservationId: 'r-0123',
        Instances: [
          {
            InstanceId: 'i-0abc',
            InstanceType: 'g4dn.xlarge',
            State: { Code: 16, Name: 'running' },
            LaunchTime: new Date('2026-11-29T02:00:00Z'),
            InstanceLifecycle: 'spot',
            Placement: { AvailabilityZone: 'eu-west-1b' },
            StateTransitionReason: '',
          },
        ],
      },
    ],
  });
  expect(await describeInstance(client, 'i-0abc', noWait)).toEqual({
    instanceId: 'i-0abc',
    instanceType: 'g4dn.xlarge',
    state: 'running',
    spot: true,
    availabilityZone: 'eu-west-1b',
    launchTime: new Date('2026-11-29T02:00:00Z'),
    stoppedAt: null,
    stateReason: '',
  });
});

test('a terminated on-demand instance carries the time it stopped', async () => {
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [
          {
            InstanceId: 'i-0abc',
            InstanceType: 'g5.xlarge',
            State: { Code: 48, Name: 'terminated' },
            LaunchTime: new Date('2026-11-29T01:00:00Z'),
            StateTransitionReason: 'User initiated (2026-11-29 03:30:15 GMT)',
            StateReason: {
              Code: 'Client.InstanceInitiatedShutdown',
              Message: 'Client.InstanceInitiatedShutdown: Instance initiated shutdown',
            },
          },
        ],
      },
    ],
  });
  const info = await describeInstance(client, 'i-0abc', noWait);
  expect(info?.spot).toBe(false);
  expect(info?.stoppedAt).toEqual(new Date('2026-11-29T03:30:15Z'));
  expect(info?.stateReason).toContain('Instance initiated shutdown');
  expect(parseTransitionTime('')).toBeNull();
});

test('an instance EC2 has forgotten is null; RequestLimitExceeded is retried; UnauthorizedOperation names the permission', async () => {
  ec2
    .on(DescribeInstancesCommand)
    .rejects(ec2Error('InvalidInstanceID.NotFound', "The instance ID 'i-0abc' does not exist"));
  expect(await describeInstance(client, 'i-0abc', noWait)).toBeNull();

  ec2.reset();
  ec2
    .on(DescribeInstancesCommand)
    .rejectsOnce(ec2Error('RequestLimitExceeded', 'Request limit exceeded.'))
    .resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-0abc', State: { Name: 'pending' } }] }] });
  expect((await describeInstance(client, 'i-0abc', noWait))?.state).toBe('pending');

  ec2.reset();
  ec2
    .on(DescribeInstancesCommand)
    .rejects(ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.'));
  await expect(describeInstance(client, 'i-0abc', noWait)).rejects.toThrow(
    'lacks the permission ec2:DescribeInstances (instance i-0abc)',
  );
});

test('the spot price is the newest entry across pages', async () => {
  const now = new Date('2026-11-29T04:00:00Z');
  ec2
    .on(DescribeSpotPriceHistoryCommand)
    .resolvesOnce({
      SpotPriceHistory: [
        {
          AvailabilityZone: 'eu-west-1b',
          InstanceType: 'g4dn.xlarge',
          ProductDescription: 'Linux/UNIX',
          SpotPrice: '0.197400',
          Timestamp: new Date('2026-11-29T01:00:00Z'),
        },
      ],
      NextToken: 'more',
    })
    .resolvesOnce({
      SpotPriceHistory: [
        {
          AvailabilityZone: 'eu-west-1b',
          InstanceType: 'g4dn.xlarge',
          ProductDescription: 'Linux/UNIX',
          SpotPrice: '0.201200',
          Timestamp: new Date('2026-11-29T03:12:00Z'),
        },
      ],
      NextToken: '',
    });
  const price = await getSpotPrice(client, 'g4dn.xlarge', 'eu-west-1b', now, noWait);
  expect(price).toEqual({
    usdPerHour: 0.2012,
    availabilityZone: 'eu-west-1b',
    timestamp: new Date('2026-11-29T03:12:00Z'),
  });
  const input = ec2.commandCalls(DescribeSpotPriceHistoryCommand)[0]?.args[0].input;
  expect(input).toMatchObject({
    InstanceTypes: ['g4dn.xlarge'],
    ProductDescriptions: ['Linux/UNIX'],
    AvailabilityZone: 'eu-west-1b',
  });
});
