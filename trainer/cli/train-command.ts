import { Command } from 'commander';

export function registerTrainCommands(_program: Command): void {}
