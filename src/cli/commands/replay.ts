import type { Command } from 'commander';
import { notBuiltYet } from '../cli-error.ts';

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(() => notBuiltYet('replay'));
}
