import type { Command } from 'commander';
import { notBuiltYet } from '../cli-error.ts';

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(() => notBuiltYet('train'));
}
