import { resolve } from 'node:path';
import { MultiBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { MODELS_DIR } from '../../score/model-manifest.ts';
import { trainModel } from '../../score/training/train-model.ts';
import { CliError } from '../cli-error.ts';
import { wholeNumber } from '../parse-options.ts';

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description(
      'train the call model from a labelled corpus; writes the ONNX model, its manifest and an evaluation report',
    )
    .requiredOption('--corpus <dir>', 'labelled recorded calls (CONTRACTS §2), e.g. from `forkguard corpus`')
    .option('--out <dir>', 'where the model, manifest and report go', MODELS_DIR)
    .option('--name <name>', 'model name (files are <name>-<version>.*)', 'forkguard-call')
    .option('--seed <s>', 'seed for the split and the optimiser', '1')
    .option('--no-default', 'do not make the new model the default (models/default.json)')
    .action(async (opts: { corpus: string; out: string; name: string; seed: string; default: boolean }) => {
      const seed = wholeNumber('--seed', opts.seed);
      if (!/^[a-z0-9][a-z0-9._-]*$/i.test(opts.name))
        throw new CliError(`--name may use letters, digits, '.', '_' and '-'`);
      const bars = new MultiBar(
        {
          stream: process.stderr,
          format: '{stage} [{bar}] {value}/{total}',
          noTTYOutput: true,
          notTTYSchedule: 5000,
        },
        Presets.shades_classic,
      );
      const stages = new Map<string, ReturnType<MultiBar['create']>>();
      try {
        const result = await trainModel({
          corpus: opts.corpus,
          out: resolve(opts.out),
          name: opts.name,
          seed,
          makeDefault: opts.default,
          onProgress: (stage, done, total) => {
            let bar = stages.get(stage);
            if (!bar) {
              bar = bars.create(total, 0, { stage: stage.padEnd(8) });
              stages.set(stage, bar);
            }
            bar.update(done);
          },
        });
        bars.stop();
        const test = result.manifest.metrics.test as {
          legit_false_alarm_rate: number | null;
          classes: Record<string, { recall: number | null }>;
        };
        process.stderr.write(
          `train: ${result.manifestPath}\n  test recall ${Object.entries(test.classes)
            .map(([c, m]) => `${c} ${m.recall ?? 'n/a'}`)
            .join(
              ', ',
            )}; legit false alarms ${test.legit_false_alarm_rate}\n  report: ${result.reportPath}\n`,
        );
      } catch (err) {
        bars.stop();
        throw new CliError(`train: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
}
