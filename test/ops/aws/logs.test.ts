import {
  CloudWatchLogsClient,
  FilterLogEventsCommand,
  ResourceNotFoundException,
  ThrottlingException,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { type LogLine, fetchLogEvents, followLogEvents } from '../../../ops/aws/logs';

const logs = mockClient(CloudWatchLogsClient);
const client = new CloudWatchLogsClient({ region: 'eu-west-1' });
const noWait = { sleep: async () => {} };

function event(id: string, timestamp: number, message: string) {
  return { logStreamName: 'i-0abc/trainer', timestamp, message, ingestionTime: timestamp + 500, eventId: id };
}

beforeEach(() => logs.reset());

test('pages are followed through empty pages until nextToken is gone; a trailing newline is dropped', async () => {
  logs
    .on(FilterLogEventsCommand)
    .resolvesOnce({ events: [event('1', 1000, 'loading data\n')], searchedLogStreams: [], nextToken: 'a' })
    .resolvesOnce({ events: [], nextToken: 'b' })
    .resolvesOnce({ events: [event('2', 2000, 'epoch 1/30')] });
  const lines = await fetchLogEvents(
    client,
    { logGroupName: '/facepoints/training', startTime: 500 },
    noWait,
  );
  expect(lines.map((l) => l.message)).toEqual(['loading data', 'epoch 1/30']);
  expect(logs.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input.nextToken)).toEqual([
    undefined,
    'a',
    'b',
  ]);
});

test('throttling is retried; a missing group says how to fix it', async () => {
  logs
    .on(FilterLogEventsCommand)
    .rejectsOnce(new ThrottlingException({ $metadata: {}, message: 'Rate exceeded' }))
    .resolves({ events: [event('1', 1, 'x')] });
  expect(await fetchLogEvents(client, { logGroupName: 'g', startTime: 0 }, noWait)).toHaveLength(1);

  logs.reset();
  logs
    .on(FilterLogEventsCommand)
    .rejects(
      new ResourceNotFoundException({ $metadata: {}, message: 'The specified log group does not exist.' }),
    );
  await expect(
    fetchLogEvents(client, { logGroupName: '/facepoints/training', startTime: 0 }, noWait),
  ).rejects.toThrow(
    'log group /facepoints/training not found in eu-west-1: the training stack creates it; deploy FacepointsTraining, or pass --log-group and --region',
  );
});

test('follow prints each event once, also events sharing the boundary millisecond', async () => {
  logs
    .on(FilterLogEventsCommand)
    .resolvesOnce({ events: [event('1', 1000, 'a'), event('2', 2000, 'b')] })
    // The next poll starts at 2000 and sees b again, plus c at the same millisecond.
    .resolvesOnce({ events: [event('2', 2000, 'b'), event('3', 2000, 'c')] })
    .resolvesOnce({ events: [event('3', 2000, 'c'), event('4', 3000, 'd')] });
  const seen: LogLine[] = [];
  let polls = 0;
  await followLogEvents(client, { logGroupName: 'g', startTime: 0 }, (l) => seen.push(l), {
    intervalMs: 1,
    shouldStop: () => polls >= 3,
    sleep: async () => {
      polls++;
    },
    retry: noWait,
  });
  expect(seen.map((l) => l.message)).toEqual(['a', 'b', 'c', 'd']);
  expect(logs.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input.startTime)).toEqual([
    0, 2000, 2000,
  ]);
});

test("a Batch run's job streams are read by prefix, interleaved by time, and follow keeps the prefix", async () => {
  const job = (stream: string, id: string, timestamp: number, message: string) => ({
    ...event(id, timestamp, message),
    logStreamName: stream,
  });
  // FilterLogEvents returns each stream's events in order, not the streams interleaved.
  logs.on(FilterLogEventsCommand).resolves({
    events: [
      job('r1/default/aa11', '1', 1000, 'eye-centers epoch 1'),
      job('r1/default/aa11', '3', 3000, 'eye-centers epoch 2'),
      job('r1/default/bb22', '2', 2000, 'nose-tip epoch 1'),
    ],
  });
  const query = { logGroupName: '/facepoints/training', logStreamNamePrefix: 'r1/', startTime: 0 };
  const lines = await fetchLogEvents(client, query, noWait);
  expect(lines.map((l) => `${l.stream} ${l.message}`)).toEqual([
    'r1/default/aa11 eye-centers epoch 1',
    'r1/default/bb22 nose-tip epoch 1',
    'r1/default/aa11 eye-centers epoch 2',
  ]);

  logs.resetHistory();
  let polls = 0;
  await followLogEvents(client, query, () => {}, {
    intervalMs: 1,
    shouldStop: () => polls >= 2,
    sleep: async () => {
      polls++;
    },
    retry: noWait,
  });
  expect(logs.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input.logStreamNamePrefix)).toEqual([
    'r1/',
    'r1/',
  ]);
});
