import type { Command } from 'commander';
import { type LogLine, fetchLogEvents, followLogEvents } from '../aws/logs';
import { withContext } from '../context';
import { type Deployment, requireTrainingOutput } from '../deployment';
import { durationOption } from '../../common/cli-options';
import { type CommonOptions, withCommonOptions } from '../options';
import { abortableSleep } from '../sleep';
import { OUTPUT_KEYS } from '../../contracts/deployment-names';

/** `2026-11-29T04:12:03Z i-0abc/trainer  message`; the stream is dropped when there is only one. */
export function formatLogLine(line: LogLine, showStream: boolean): string {
  const time = new Date(line.timestamp).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return showStream ? `${time} ${line.stream}  ${line.message}` : `${time}  ${line.message}`;
}

/**
 * On engine=batch every attempt of every job writes its own stream `<runId>/default/<task>`: the run's
 * lines are those under `<runId>/`, interleaved by time. The instance engine's group holds one run's streams.
 */
export function batchRunStreamPrefix(dep: Pick<Deployment, 'engine' | 'runId'>): string | undefined {
  return dep.engine === 'batch' && dep.runId ? `${dep.runId}/` : undefined;
}

interface LogsFlags extends CommonOptions {
  follow?: boolean;
  since: number;
  interval: number;
  logGroup?: string;
}

export function registerLogsCommand(program: Command): void {
  withCommonOptions(program.command('logs'))
    .description("print the training container's output from its CloudWatch log group")
    .option(
      '--since <duration>',
      'start this long ago, e.g. 30m, 2h, 1d',
      durationOption('--since', 'expects'),
      3600,
    )
    .option('-f, --follow', 'keep printing new lines as they arrive (Ctrl-C to stop)', false)
    .option(
      '--interval <duration>',
      'poll interval with --follow',
      durationOption('--interval', 'expects'),
      5,
    )
    .option('--log-group <name>', 'log group (default: output LogGroupName of stack FacepointsTraining)')
    .action(async (flags: LogsFlags) => {
      await withContext(flags, async (ctx) => {
        const logGroupName =
          flags.logGroup ??
          requireTrainingOutput(
            ctx.deployment,
            ctx.deployment.logGroupName,
            OUTPUT_KEYS.logGroupName,
            'pass --log-group',
          );
        const query = {
          logGroupName,
          logStreamNamePrefix: batchRunStreamPrefix(ctx.deployment),
          startTime: ctx.now().getTime() - flags.since * 1000,
        };
        const streams = new Set<string>();
        const print = (line: LogLine) => {
          streams.add(line.stream);
          process.stdout.write(
            flags.json ? `${JSON.stringify(line)}\n` : `${formatLogLine(line, streams.size > 1)}\n`,
          );
        };
        if (!flags.follow) {
          const lines = await fetchLogEvents(ctx.clients.logs, query);
          for (const l of lines) streams.add(l.stream);
          for (const l of lines) print(l);
          if (lines.length === 0 && !flags.json)
            process.stderr.write(
              `no log events in ${logGroupName} in the last ${flags.since}s (try --since 1d)\n`,
            );
          return;
        }
        const abort = new AbortController();
        const onSigint = () => abort.abort();
        process.once('SIGINT', onSigint);
        try {
          await followLogEvents(ctx.clients.logs, query, print, {
            intervalMs: flags.interval * 1000,
            shouldStop: () => abort.signal.aborted,
            sleep: (ms) => abortableSleep(ms, abort.signal),
          });
        } finally {
          process.removeListener('SIGINT', onSigint);
        }
      });
    });
}
