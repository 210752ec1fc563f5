import { appendEpoch, formatMetricsCsv, parseMetricsCsv } from '../../../trainer/run/metrics-csv';
import type { EpochMetrics } from '../../../trainer/train/metrics';

const epoch = (n: number, devRmsePx = 3): EpochMetrics => ({
  epoch: n,
  trainLoss: 0.0025 * n,
  devLoss: 0.004,
  devRmsePx,
  learningRate: 0.03,
  momentum: 0.9,
  seconds: 12.5,
  imagesPerSecond: 40.25,
});

describe('metrics CSV', () => {
  it('round-trips epochs with train RMSE in pixels next to the losses', () => {
    const csv = formatMetricsCsv([epoch(1), epoch(2)]);
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe(
      'epoch,trainLoss,devLoss,trainRmsePx,devRmsePx,learningRate,momentum,seconds,imagesPerSecond',
    );
    // trainRmsePx = sqrt(0.0025) * 48 = 2.4
    expect(lines[1]?.split(',')[3]).toBe('2.400000');
    expect(parseMetricsCsv(csv, 'metrics/baseline.csv')).toEqual([epoch(1), epoch(2)]);
  });

  it('replaces the epochs a resumed unit runs again', () => {
    const history = appendEpoch([epoch(1), epoch(2, 5), epoch(3, 5)], epoch(2, 4));
    expect(history.map((h) => [h.epoch, h.devRmsePx])).toEqual([
      [1, 3],
      [2, 4],
    ]);
  });

  it('names the file and line of a malformed row', () => {
    const csv = `${formatMetricsCsv([epoch(1)])}2,0.1,oops\n`;
    expect(() => parseMetricsCsv(csv, 'metrics/baseline.csv')).toThrow(
      'metrics/baseline.csv:3: expected 9 numbers, found "2,0.1,oops"',
    );
  });
});
