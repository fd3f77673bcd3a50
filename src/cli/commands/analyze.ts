import type { Command } from 'commander';
import { notBuiltYet } from '../cli-error.ts';

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(() => notBuiltYet('analyze'));
}
