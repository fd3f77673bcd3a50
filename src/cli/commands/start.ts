import type { Command } from 'commander';
import { notBuiltYet } from '../cli-error.ts';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(() => notBuiltYet('start'));
}
