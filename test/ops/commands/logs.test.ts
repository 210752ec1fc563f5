import { batchRunStreamPrefix, formatLogLine } from '../../../ops/commands/logs';

test("on engine=batch the run's streams are those under `<runId>/`; the instance engine reads the whole group", () => {
  expect(batchRunStreamPrefix({ engine: 'batch', runId: '20261129-010000' })).toBe('20261129-010000/');
  expect(batchRunStreamPrefix({ engine: null, runId: '20261129-010000' })).toBeUndefined();
  expect(batchRunStreamPrefix({ engine: 'batch', runId: null })).toBeUndefined();
});

test('the stream is shown once lines come from several jobs', () => {
  const line = {
    timestamp: Date.parse('2026-11-29T04:12:03.250Z'),
    stream: 'r1/default/aa11',
    message: 'epoch 2',
    eventId: '1',
  };
  expect(formatLogLine(line, true)).toBe('2026-11-29T04:12:03Z r1/default/aa11  epoch 2');
  expect(formatLogLine(line, false)).toBe('2026-11-29T04:12:03Z  epoch 2');
});
