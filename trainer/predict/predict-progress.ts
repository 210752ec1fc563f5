import { SingleBar } from 'cli-progress';
import type { ProgressOptions } from '../run/progress';

/** How far predict is: a bar on a terminal, otherwise a line at most every LINE_EVERY_MS and at the end. */
export interface PredictProgress {
  update(done: number): void;
  stop(): void;
}

/** Logs of a long prediction off a terminal (a container, a CI job) still show it moving. */
const LINE_EVERY_MS = 10_000;

export function predictProgress(total: number, opts: ProgressOptions = {}): PredictProgress {
  const stream = opts.stream ?? process.stderr;
  const tty = opts.tty ?? Boolean(stream.isTTY);
  if (tty) {
    const bar = new SingleBar({
      format: 'predict [{bar}] {value}/{total} images {eta_formatted}',
      stream,
      barsize: 30,
      hideCursor: false,
    });
    bar.start(total, 0);
    return { update: (done) => bar.update(done), stop: () => bar.stop() };
  }
  let last = Date.now();
  let done = 0;
  return {
    update(n) {
      done = n;
      if (Date.now() - last < LINE_EVERY_MS) return;
      last = Date.now();
      stream.write(`predict: ${done}/${total} images\n`);
    },
    stop() {
      if (total > 0) stream.write(`predict: ${done}/${total} images\n`);
    },
  };
}
