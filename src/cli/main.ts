import { Command, CommanderError } from 'commander';
import { CliError } from './cli-error.ts';
import { registerAnalyze } from './commands/analyze.ts';
import { registerBench } from './commands/bench.ts';
import { registerCorpus } from './commands/corpus.ts';
import { registerReplay } from './commands/replay.ts';
import { registerStart } from './commands/start.ts';
import { registerTrain } from './commands/train.ts';

const program = new Command('forkguard')
  .description('Catches phone fraud while the call is still going: analyses forked call media from Telnyx.')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerStart(program);
registerAnalyze(program);
registerReplay(program);
registerBench(program);
registerCorpus(program);
registerTrain(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander already printed its message (or the help text); keep its exit code, 0 for --help.
    process.exit(err.exitCode);
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`forkguard: ${message}\n`);
  if (process.env.FORKGUARD_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exit(err instanceof CliError ? err.exitCode : 1);
}
