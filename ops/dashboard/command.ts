import type { Command } from 'commander';
import { durationOption, integerOption } from '../../common/cli-options';
import { formatDuration } from '../../common/format';
import { emit } from '../context';
import { type CommonOptions, withCommonOptions } from '../options';
import { startDashboardServer } from './server';
import { openDashboardSource } from './source';

interface DashboardFlags extends CommonOptions {
  out?: string;
  port: number;
  interval: number;
}

/** Default port; `--port 0` picks a free one. */
export const DASHBOARD_PORT = 8350;

export function registerDashboardCommand(program: Command): void {
  withCommonOptions(program.command('dashboard'))
    .description(
      'serve a page on 127.0.0.1 that shows a run live: learning curves, status, cost; the report and a runs view when done',
    )
    .option(
      '--out <url>',
      "store of the runs: file://DIR or s3://BUCKET/PREFIX (default: the deployment's bucket, with its instance's cost)",
    )
    .option('--port <n>', 'port on 127.0.0.1 (0: any free port)', integerOption('--port'), DASHBOARD_PORT)
    .option(
      '--interval <duration>',
      'how often the page reads the store, e.g. 10s or 1m',
      durationOption('--interval', 'expects'),
      10,
    )
    .action(async (flags: DashboardFlags) => {
      const opened = await openDashboardSource(flags);
      let server: Awaited<ReturnType<typeof startDashboardServer>>;
      try {
        server = await startDashboardServer({
          source: opened.source,
          defaultRunId: opened.defaultRunId,
          intervalSeconds: flags.interval,
          port: flags.port,
        });
      } catch (err) {
        opened.close();
        throw err;
      }
      // --json gives scripts the address to open (with --port 0 it is known only now).
      emit(
        flags,
        { url: server.url, store: opened.source.store.url, intervalSeconds: flags.interval },
        (d) =>
          `dashboard of ${d.store} at ${d.url} (reads every ${formatDuration(d.intervalSeconds)}); Ctrl-C to stop`,
      );
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
      await server.close();
      opened.close();
    });
}
