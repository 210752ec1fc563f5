import type { RunSnapshot } from '../../../ops/dashboard/api';
import { runSnapshot } from '../../../ops/dashboard/snapshot';
import {
  DASHBOARD_READ_GIVE_UP_MS,
  type OpenedSource,
  openDashboardSource,
} from '../../../ops/dashboard/source';
import { type LocalS3Server, startS3Server, useLocalS3Env } from '../../support/s3-server';
import { RunWriter } from './run-store';

let server: LocalS3Server;
let restoreEnv: () => void;
let opened: OpenedSource;

beforeAll(async () => {
  server = await startS3Server({ bucket: 'facepoints-dashboard' });
  restoreEnv = useLocalS3Env(server);
  opened = await openDashboardSource({ out: `s3://${server.bucket}/runs` });
  const writer = new RunWriter(opened.source.store, '20261203-100000');
  await writer.status({});
  await writer.epochs('baseline', 4);
  await opened.source.store.flush();
});

afterAll(async () => {
  opened?.close();
  restoreEnv?.();
  await server?.close();
});

describe('openDashboardSource on an s3:// store', () => {
  it('reads the newest run, says "reconnecting" within seconds while S3 is down, and reads again once it is back', async () => {
    expect(await opened.defaultRunId()).toBe('20261203-100000');
    const before = (await runSnapshot(opened.source, '20261203-100000')) as RunSnapshot;
    expect(before.reconnecting).toBe(false);
    expect(before.units[0]?.epochs).toEqual([1, 2, 3, 4]);

    await server.stop();
    const started = Date.now();
    const during = await runSnapshot(opened.source, '20261203-100000');
    expect(during.reconnecting).toBe(true);
    expect(Date.now() - started).toBeLessThan(DASHBOARD_READ_GIVE_UP_MS + 5_000);

    await server.restart();
    const after = (await runSnapshot(opened.source, '20261203-100000')) as RunSnapshot;
    expect(after.reconnecting).toBe(false);
    expect(after.units[0]?.epochs).toHaveLength(4);
  });

  it("without --out reads the deployment's bucket, through facepoints status for the heartbeat verdict", async () => {
    const deployed = await openDashboardSource({ endpointUrl: server.endpoint, bucket: server.bucket });
    try {
      expect(deployed.source.store.url).toBe(`s3://${server.bucket}/runs`);
      expect(await deployed.defaultRunId()).toBe('20261203-100000');
      const snap = (await runSnapshot(deployed.source, '20261203-100000')) as RunSnapshot;
      expect(snap.reconnecting).toBe(false);
      expect(snap.units[0]?.epochs).toEqual([1, 2, 3, 4]);
      // The fixture's heartbeat is days old and --endpoint-url skips the stacks, so no instance is known.
      expect(snap.staleWarning).toMatch(/^STALE: no heartbeat for .* while the instance state is unknown/);
      expect(snap.cost).toBeNull();
    } finally {
      deployed.close();
    }
  });
});
