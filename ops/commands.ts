import type { Command } from 'commander';
import { registerCostCommand } from './commands/cost';
import { registerDashboardCommand } from './dashboard/command';
import { registerLogsCommand } from './commands/logs';
import { registerPreflightCommand } from './commands/preflight';
import { registerResultsCommand } from './commands/results';
import { registerRunsCommand } from './commands/runs';
import { registerStatusCommand } from './commands/status';
import { registerOperatorPolicyCommand } from './operator-policy';

/** The operator commands that read a deployed run (status, logs, cost, results, runs, dashboard) and the policy they need. */
export function registerOperatorCommands(program: Command): void {
  registerStatusCommand(program);
  registerLogsCommand(program);
  registerCostCommand(program);
  registerResultsCommand(program);
  registerRunsCommand(program);
  registerDashboardCommand(program);
  registerOperatorPolicyCommand(program);
  registerPreflightCommand(program);
}
