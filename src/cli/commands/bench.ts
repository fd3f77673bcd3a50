import type { Command } from 'commander';
import { notBuiltYet } from '../cli-error.ts';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(() => notBuiltYet('bench'));
}
