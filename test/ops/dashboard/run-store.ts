import { runLayout } from '../../../contracts/run-layout';
import type { RunStatus } from '../../../contracts/run-status';
import { formatMetricsCsv } from '../../../trainer/run/metrics-csv';
import type { Store, StoredObject } from '../../../trainer/storage/store';
import type { EpochMetrics } from '../../../trainer/train/metrics';
import { runStatus, runSummary } from '../support/run-fixture';

/** A run written the way the trainer writes it: status.json, metrics CSVs through the trainer's own writer. */
export class RunWriter {
  private readonly history = new Map<string, EpochMetrics[]>();

  constructor(
    readonly store: Store,
    readonly runId: string,
  ) {}

  private get run(): Store {
    return this.store.child(`${this.runId}/`);
  }

  async status(overrides: Partial<RunStatus>): Promise<RunStatus> {
    const status = runStatus(this.runId, overrides);
    await this.run.put(runLayout.status, JSON.stringify(status));
    return status;
  }

  /** A `train --units` job's own status file, as on engine=batch before the report job. */
  async unitStatus(unit: string, overrides: Partial<RunStatus>): Promise<RunStatus> {
    const status = runStatus(this.runId, overrides);
    await this.run.put(runLayout.unitStatus(unit), JSON.stringify(status));
    return status;
  }

  async config(preset: string): Promise<void> {
    await this.run.put(runLayout.config, JSON.stringify({ runId: this.runId, preset }));
  }

  /** Appends `count` epochs to the unit's metrics file; RMSE falls from about 6 px towards 1.5 px. */
  async epochs(unit: string, count: number): Promise<EpochMetrics[]> {
    const history = this.history.get(unit) ?? [];
    for (let i = 0; i < count; i++) {
      const epoch = history.length + 1;
      const devRmsePx = 1.5 + 4.5 / epoch;
      const trainRmsePx = 1.2 + 4.5 / epoch;
      history.push({
        epoch,
        trainLoss: (trainRmsePx / 48) ** 2,
        devLoss: (devRmsePx / 48) ** 2,
        devRmsePx,
        learningRate: 0.03,
        momentum: 0.9,
        seconds: 2.5,
        imagesPerSecond: 640,
      });
    }
    this.history.set(unit, history);
    await this.run.put(runLayout.metrics(unit), formatMetricsCsv(history));
    return history;
  }

  /** The report of a finished run: summary.json (the operator tests' fixture) and the best/worst picture. */
  async report(png: Buffer): Promise<void> {
    await this.run.put(runLayout.summary, JSON.stringify(runSummary(this.runId)));
    await this.run.put(runLayout.bestWorst, png);
  }
}

/** A store whose reads fail while `down` is set, as S3 does through a network outage. */
export class FlakyStore implements Store {
  constructor(
    private readonly inner: Store,
    private readonly state: { down: boolean } = { down: false },
  ) {}

  get url(): string {
    return this.inner.url;
  }

  setDown(down: boolean): void {
    this.state.down = down;
  }

  private check(what: string): void {
    if (this.state.down) throw new Error(`${what} in ${this.inner.url} failed: connect ECONNREFUSED`);
  }

  async get(key: string): Promise<Buffer | null> {
    this.check(`get ${key}`);
    return this.inner.get(key);
  }

  async list(prefix: string): Promise<StoredObject[]> {
    this.check(`list ${prefix}`);
    return this.inner.list(prefix);
  }

  put(key: string, body: Uint8Array | string): Promise<void> {
    return this.inner.put(key, body);
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  child(prefix: string): Store {
    return new FlakyStore(this.inner.child(prefix), this.state);
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }
}
