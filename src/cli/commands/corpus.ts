import type { Command } from 'commander';
import { notBuiltYet } from '../cli-error.ts';

export function registerCorpus(program: Command): void {
  program
    .command('corpus')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(() => notBuiltYet('corpus'));
}
