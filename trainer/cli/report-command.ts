import { type Command, Option } from 'commander';
import { usageExit } from '../../common/cli-options';
import { RUN_ID_PATTERN, runLayout } from '../../contracts/run-layout';
import { readStoredConfig } from '../run/config-file';
import { defaultRunServices } from '../run/run-services';
import type { RunDeps } from '../run/run-training';
import { UsageError } from '../run/usage-error';
import { defaultScratchDir } from '../storage/data-cache';
import { runCommand, SCRATCH_ENV } from './train-command';

interface ReportCliOptions {
  out?: string;
  run?: string;
  scratch: string;
}

/**
 * `facepoints report --out URL --run ID`: the report of a run whose units were trained by separate
 * `train --units` invocations (one AWS Batch job each). It reads the run's config.json, refuses while a
 * unit is unfinished (naming it), evaluates every finished model from the store and marks the run
 * succeeded.
 */
export function registerReportCommand(program: Command, deps: RunDeps = {}): void {
  program
    .command('report')
    .description(
      'write the report of a run from its finished units (after `train --units`), and mark the run succeeded',
    )
    .option('--out <url>', 'where runs live: file://DIR or s3://BUCKET/PREFIX (as given to train)')
    .option('--run <id>', 'the run id')
    .addOption(scratchOption(deps))
    .exitOverride(usageExit)
    .action(async (opts: ReportCliOptions) => {
      await runCommand(
        async () => {
          const problems: string[] = [];
          if (!opts.out) problems.push('--out: expected file://DIR or s3://BUCKET/PREFIX, found nothing');
          if (!opts.run) problems.push('--run: expected the id of a run, found nothing');
          else if (!RUN_ID_PATTERN.test(opts.run))
            problems.push(`--run: expected letters, digits, '.', '_' or '-', found "${opts.run}"`);
          if (problems.length > 0) throw new UsageError(`invalid options:\n  ${problems.join('\n  ')}`);
          const services = { ...defaultRunServices(), ...deps.services };
          const store = services.openStore(opts.out as string).child(opts.run as string);
          const config = await readStoredConfig(store);
          if (config === null) {
            throw new UsageError(
              `report: expected ${store.url}/${runLayout.config}, found nothing; check --out and --run (the run's first train writes it)`,
            );
          }
          return { config, scope: { kind: 'report' } };
        },
        { ...deps, scratchDir: opts.scratch },
      );
    });
}

function scratchOption(deps: RunDeps): Option {
  return new Option(
    '--scratch <dir>',
    "writable folder for the trainer's own files (the s3:// data cache); the container sets /scratch",
  )
    .env(SCRATCH_ENV)
    .default(deps.scratchDir ?? defaultScratchDir());
}
