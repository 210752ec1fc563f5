import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import { type DashboardServer, startDashboardServer } from '../../../ops/dashboard/server';
import { FileStore } from '../../../trainer/storage/file-store';
import { batchJob, batchStatusReport } from '../support/run-fixture';
import { FlakyStore, RunWriter } from './run-store';

/** Debian's chromium (.ci/run installs it); CHROMIUM_PATH points elsewhere. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Skipped without a browser on a laptop; in CI (which installs it) a missing browser fails the test.
const describeWithChromium = existsSync(CHROMIUM) || process.env.CI ? describe : describe.skip;
if (!existsSync(CHROMIUM)) console.warn(`${CHROMIUM} not found: the dashboard browser test is skipped`);
/** The page's screenshots are kept here (ignored by git) for a person to look at after the run. */
const SHOTS = path.resolve(__dirname, '../../../test-output/dashboard');

const RUN = '20261203-090000';
let work: string;
let flaky: FlakyStore;
let writer: RunWriter;
let server: DashboardServer;
let browser: Browser;
let page: Page;

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
/** The mean predictor's dev RMSE, as the trainer records it once the run's data is loaded. */
const MEAN_DEV_RMSE_PX = 3.214;

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'facepoints-dashboard-page-'));
  await fs.mkdir(SHOTS, { recursive: true });
  const store = new FileStore(path.join(work, 'runs'));
  flaky = new FlakyStore(store);
  writer = new RunWriter(store, RUN);
  await writer.config('quick');
  await writer.status({
    startedAt: minutesAgo(40),
    updatedAt: minutesAgo(0),
    phase: 'baseline',
    model: 'baseline',
    epoch: 3,
    maxEpochs: 40,
    bestDevRmsePx: 3,
  });
  await writer.epochs('baseline', 3);
  server = await startDashboardServer({
    source: { store: flaky, now: () => new Date() },
    defaultRunId: async () => RUN,
    intervalSeconds: 0.25,
    port: 0,
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // The page must work offline: any request that is not to the dashboard itself fails the test.
  await page.route('**/*', (route) =>
    route.request().url().startsWith(server.url) ? route.continue() : route.abort(),
  );
  page.on('requestfailed', (r) => {
    if (!r.url().startsWith(server.url)) throw new Error(`the page fetched ${r.url()}`);
  });
  await page.goto(server.url);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** What a person reads under a chart: its last epoch and values. */
const lastLine = (unit: string) => page.locator(`.chart[data-unit="${unit}"] .last`);
/** Lines in a chart's legend, the epoch axis left out. */
const legendSeries = (unit: string) =>
  page.locator(`.chart[data-unit="${unit}"] .u-legend .u-series:not(:first-child)`);

describeWithChromium('dashboard page in chromium', () => {
  it('draws the learning curve of the run so far, with the status', async () => {
    await expect(lastLine('baseline').textContent()).resolves.toBe('epoch 3: train 2.700 px, dev 3.000 px');
    expect(await legendSeries('baseline').allTextContents()).toEqual([
      expect.stringContaining('train RMSE'),
      expect.stringContaining('dev RMSE'),
    ]);
    expect(await page.locator('[data-field="phase"]').textContent()).toBe('baseline');
    expect(await page.locator('[data-field="epoch"]').textContent()).toBe('3 / 40');
    expect(await page.locator('#stale').isHidden()).toBe(true);
    // A run outside a deployment has no Batch jobs to list.
    expect(await page.locator('#batch').isHidden()).toBe(true);
  });

  it("adds the mean predictor's line while the run trains, once the status has its dev RMSE", async () => {
    await writer.status({
      updatedAt: minutesAgo(0),
      phase: 'baseline',
      model: 'baseline',
      epoch: 3,
      maxEpochs: 40,
      meanDevRmsePx: MEAN_DEV_RMSE_PX,
    });
    await page.locator('.chart[data-unit="baseline"] .u-legend .u-series:nth-child(4)').waitFor();
    expect(await legendSeries('baseline').allTextContents()).toEqual([
      expect.stringContaining('train RMSE'),
      expect.stringContaining('dev RMSE'),
      expect.stringContaining('mean predictor'),
    ]);
    expect(await page.locator('#done').isHidden()).toBe(true);
  });

  it('grows as the trainer appends epochs, and adds a chart for a new unit', async () => {
    await writer.epochs('baseline', 2);
    await writer.epochs('specialists/nose-tip', 1);
    await page.locator('.chart').nth(1).waitFor();
    await page
      .locator('.chart[data-unit="baseline"] .last', { hasText: 'epoch 5: train 2.100 px, dev 2.400 px' })
      .waitFor();
    expect(await legendSeries('baseline').count()).toBe(3);
    expect(await legendSeries('specialists/nose-tip').count()).toBe(3);
    expect(await lastLine('specialists/nose-tip').textContent()).toBe(
      'epoch 1: train 5.700 px, dev 6.000 px',
    );
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-live.png'), fullPage: true });
  });

  it('warns when the heartbeat stops', async () => {
    await writer.status({
      updatedAt: minutesAgo(10),
      phase: 'baseline',
      model: 'baseline',
      meanDevRmsePx: MEAN_DEV_RMSE_PX,
    });
    await page.locator('#stale').waitFor({ state: 'visible' });
    expect(await page.locator('#stale').textContent()).toMatch(/^STALE: no heartbeat for 10m \d\ds/);
  });

  it('says "reconnecting" through a store outage, keeps the curves, and recovers', async () => {
    flaky.setDown(true);
    await page.locator('#connection').waitFor({ state: 'visible' });
    expect(await page.locator('#connection').textContent()).toMatch(/^reconnecting: .*ECONNREFUSED/);
    expect(await page.locator('.chart').count()).toBe(2);
    flaky.setDown(false);
    await page.locator('#connection').waitFor({ state: 'hidden' });
  });

  it('shows the per-model table, the per-keypoint errors and the best/worst faces once the run is done', async () => {
    const faces = await sharp({
      create: { width: 384, height: 192, channels: 3, background: { r: 90, g: 90, b: 90 } },
    })
      .png()
      .toBuffer();
    await writer.report(faces);
    await writer.status({ state: 'succeeded', phase: 'done', updatedAt: minutesAgo(0) });
    await page.locator('#done').waitFor({ state: 'visible' });
    const models = await page.locator('#models tr td:first-child').allTextContents();
    expect(models).toEqual(['mean', 'baseline', 'specialists (best)']);
    expect(await page.locator('#keypoints tr').count()).toBeGreaterThan(1);
    // The mean predictor's line stays: a status from before the trainer recorded it has it from the report.
    await expect(legendSeries('baseline').count()).resolves.toBe(3);
    const img = page.locator('#faces img');
    await img.waitFor();
    // A string, evaluated in the page: the tests are compiled without the DOM's types.
    await page.waitForFunction("document.querySelector('#faces img')?.naturalWidth > 0");
    expect(await img.evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth)).toBe(384);
    expect(await page.locator('#stale').isHidden()).toBe(true);
    const shot = path.join(SHOTS, 'dashboard-done.png');
    await page.screenshot({ path: shot, fullPage: true });
    // FACEPOINTS_DASHBOARD_SCREENSHOT=docs/images/dashboard.png refreshes the README's picture.
    const keep = process.env.FACEPOINTS_DASHBOARD_SCREENSHOT;
    if (keep) await fs.copyFile(shot, keep);
  });

  it('compares the runs of the store side by side', async () => {
    const other = new RunWriter(flaky, '20261202-080000');
    await other.config('seed');
    await other.status({ state: 'failed', phase: 'baseline', model: 'baseline', bestDevRmsePx: 2.5 });
    await page.click('#show-runs');
    await page.locator('#runs tr').nth(2).waitFor();
    const rows = await page.locator('#runs tr').allTextContents();
    expect(rows[1]).toContain('20261202-080000');
    expect(rows[1]).toContain('seed');
    expect(rows[2]).toContain(RUN);
    expect(rows[2]).toContain('1.588 px *');
    expect(rows[2]).toContain('$0.88');
    await page.click('#runs a >> text=20261202-080000');
    await page.locator('[data-field="run"]', { hasText: '20261202-080000' }).waitFor();
    expect(await page.locator('[data-field="state"]').textContent()).toBe('failed');
  });

  it("lists an engine=batch run's jobs and their cost when facepoints status reports them", async () => {
    const batchServer = await startDashboardServer({
      source: {
        store: flaky,
        now: () => new Date(),
        awsStatus: async () =>
          batchStatusReport(
            { status: 'FAILED', error: 'States.TaskFailed: nose-tip' },
            [
              batchJob('baseline', 'SUCCEEDED', 1, null),
              batchJob('specialists/nose-tip', 'FAILED', 3, 'Host EC2 terminated'),
            ],
            0,
          ),
      },
      defaultRunId: async () => RUN,
      intervalSeconds: 0.25,
      port: 0,
    });
    const batchPage = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      await batchPage.goto(batchServer.url);
      await batchPage.locator('#batch-jobs tr').nth(2).waitFor();
      expect(await batchPage.locator('#batch-execution').textContent()).toBe(
        'execution FAILED (States.TaskFailed: nose-tip)',
      );
      expect(await batchPage.locator('#batch-jobs tr').allTextContents()).toEqual([
        'unitjobattemptsreason',
        'baselineSUCCEEDED1',
        'specialists/nose-tipFAILED3Host EC2 terminated',
      ]);
      expect(await batchPage.locator('[data-field="cost so far"]').textContent()).toContain('$0.79');
      await batchPage.screenshot({ path: path.join(SHOTS, 'dashboard-batch.png'), fullPage: true });
    } finally {
      await batchPage.close();
      await batchServer.close();
    }
  });
});
