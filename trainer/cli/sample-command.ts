import { Command } from 'commander';

export function registerSampleCommand(_program: Command): void {}
