#!/usr/bin/env node
import { Command } from 'commander';
import { registerPredictCommand } from '../trainer/cli/predict-command';
import { registerReportCommand } from '../trainer/cli/report-command';
import { registerSampleCommand } from '../trainer/cli/sample-command';
import { registerTrainCommands } from '../trainer/cli/train-command';
import { registerOperatorCommands } from '../ops/commands';

/** The `facepoints` command: trainer subcommands plus the operator commands that read a deployed run. */
export function buildProgram(): Command {
  const program = new Command('facepoints')
    .description('Train facial-keypoint models locally or on a self-terminating AWS GPU instance.')
    .showHelpAfterError();
  registerSampleCommand(program);
  registerTrainCommands(program);
  registerReportCommand(program);
  registerPredictCommand(program);
  registerOperatorCommands(program);
  return program;
}

async function main(): Promise<void> {
  await buildProgram().parseAsync(process.argv);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`facepoints: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = process.exitCode && process.exitCode !== 0 ? process.exitCode : 1;
  });
}
