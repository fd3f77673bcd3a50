import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { generateCorpus } from '../../recordings/corpus/generate-corpus.ts';
import { CliError } from '../cli-error.ts';
import { positiveInt, wholeNumber } from '../parse-options.ts';

export function registerCorpus(program: Command): void {
  program
    .command('corpus')
    .description('generate a labelled corpus of recorded two-leg calls (WAV and pcap, CONTRACTS §2)')
    .requiredOption('--out <dir>', 'folder to write the calls into (created if missing)')
    .option('--calls <n>', 'number of calls', '400')
    .option('--seed <s>', 'seed: the same seed gives the same corpus', '1')
    .option('--concurrency <n>', 'calls synthesised at once', '6')
    .action(async (opts: { out: string; calls: string; seed: string; concurrency: string }) => {
      const calls = positiveInt('--calls', opts.calls);
      const seed = wholeNumber('--seed', opts.seed);
      const bar = new SingleBar({
        format: 'corpus [{bar}] {value}/{total} calls  {eta_formatted} left',
        stream: process.stderr,
        hideCursor: true,
        noTTYOutput: true,
        notTTYSchedule: 5000,
      });
      bar.start(calls, 0);
      try {
        const summary = await generateCorpus({
          out: opts.out,
          calls,
          seed,
          concurrency: positiveInt('--concurrency', opts.concurrency),
          onProgress: (done) => bar.update(done),
        });
        bar.stop();
        process.stderr.write(
          `corpus: ${summary.calls} calls, ${(summary.audioSeconds / 3600).toFixed(2)} h of audio in ${opts.out}\n`,
        );
      } catch (err) {
        bar.stop();
        throw new CliError(`corpus: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
}
