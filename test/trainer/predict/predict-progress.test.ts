import { PassThrough } from 'node:stream';
import { predictProgress } from '../../../trainer/predict/predict-progress';

describe('predict progress off a terminal', () => {
  afterEach(() => jest.useRealTimers());

  it('writes a line at most every 10 seconds and one at the end', () => {
    jest.useFakeTimers({ now: 0 });
    let text = '';
    const stream = new PassThrough();
    stream.on('data', (c: Buffer) => {
      text += c.toString();
    });
    const progress = predictProgress(300, { stream, tty: false });
    progress.update(64);
    jest.setSystemTime(5_000);
    progress.update(128);
    jest.setSystemTime(10_500);
    progress.update(192);
    progress.update(256);
    progress.update(300);
    progress.stop();
    expect(text).toBe('predict: 192/300 images\npredict: 300/300 images\n');
  });
});
