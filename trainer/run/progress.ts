import { SingleBar } from 'cli-progress';
import { formatDuration } from '../../common/format';
import { lossToRmsePx, type EpochMetrics } from '../train/metrics';

/** Where a unit's progress shows: an updating line on a terminal, one plain line per epoch otherwise. */
export interface UnitProgress {
  batch(done: number, total: number): void;
  epoch(m: EpochMetrics, maxEpochs: number, etaSeconds: number | null): void;
  stop(): void;
}

export interface ProgressOptions {
  /** Stream the progress goes to. @default process.stderr */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Plain lines when false; the default follows the stream's isTTY. */
  tty?: boolean;
}

export function unitProgress(unit: string, maxEpochs: number, opts: ProgressOptions = {}): UnitProgress {
  const stream = opts.stream ?? process.stderr;
  const tty = opts.tty ?? Boolean(stream.isTTY);
  return tty ? new BarProgress(unit, maxEpochs, stream) : new LineProgress(unit, stream);
}

function epochText(m: EpochMetrics, maxEpochs: number, eta: number | null): string {
  return (
    `epoch ${m.epoch}/${maxEpochs} loss ${lossToRmsePx(m.trainLoss).toFixed(2)} px dev ${m.devRmsePx.toFixed(2)} px ` +
    `${m.imagesPerSecond.toFixed(0)} img/s ETA ${formatDuration(eta)}`
  );
}

class LineProgress implements UnitProgress {
  constructor(
    private readonly unit: string,
    private readonly stream: NodeJS.WritableStream,
  ) {}
  batch(): void {}
  epoch(m: EpochMetrics, maxEpochs: number, eta: number | null): void {
    this.stream.write(`${this.unit}: ${epochText(m, maxEpochs, eta)}\n`);
  }
  stop(): void {}
}

/** cli-progress draws and redraws the line; the bar counts batches so it moves within long epochs. */
class BarProgress implements UnitProgress {
  private readonly bar: SingleBar;
  private epochsDone = 0;
  private text: string;

  constructor(
    unit: string,
    private readonly maxEpochs: number,
    stream: NodeJS.WritableStream,
  ) {
    this.text = `epoch 1/${maxEpochs} ...`;
    this.bar = new SingleBar({
      format: `${unit.padEnd(34)} {bar} {text}`,
      barsize: 20,
      stream,
      hideCursor: false,
      clearOnComplete: false,
      etaBuffer: 20,
    });
    this.bar.start(maxEpochs, 0, { text: this.text });
  }

  batch(done: number, total: number): void {
    this.bar.update(this.epochsDone + (total > 0 ? done / total : 0), { text: this.text });
  }

  epoch(m: EpochMetrics, maxEpochs: number, eta: number | null): void {
    this.epochsDone = m.epoch;
    this.text = epochText(m, maxEpochs, eta);
    this.bar.update(Math.min(this.maxEpochs, m.epoch), { text: this.text });
  }

  stop(): void {
    this.bar.stop();
  }
}
