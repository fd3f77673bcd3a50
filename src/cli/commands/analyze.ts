import type { Command } from 'commander';
import { TONE_VALUES } from '../../dsp/detector-event.ts';
import { findRecordedCalls } from '../../recordings/recorded-call.ts';
import { type AnalyzeResult, analyzeCalls } from '../../score/analyze-calls.ts';
import { defaultManifestPath } from '../../score/model-manifest.ts';
import { CliError } from '../cli-error.ts';

const TONE_HELP = Object.entries(TONE_VALUES)
  .map(([name, text]) => `  ${name.padEnd(10)} ${text}`)
  .join('\n');

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description(
      'analyse recorded calls (WAV, pcap, pcapng; files or folders) with the live pipeline; no Redis needed',
    )
    .argument('<paths...>', 'recorded calls or folders (searched recursively)')
    .option('--json', 'one JSON object per call per line on standard output (CONTRACTS §1)')
    .option('--events', 'include what the detectors heard (digits in full, tones) in each result')
    .option('--model <manifest>', 'model manifest to use instead of models/default.json')
    .option('--no-cross-call', 'do not match audio across the calls of this run (replay detection)')
    .addHelpText(
      'after',
      `\nTone event values:\n${TONE_HELP}\n\nExit status: 0 when at least one call was analysed; 2 for bad arguments or when no call could be read.\nUnreadable files still get a line, with an "error" field.`,
    )
    .action(
      async (
        paths: string[],
        opts: { json?: boolean; events?: boolean; model?: string; crossCall: boolean },
      ) => {
        let calls: Awaited<ReturnType<typeof findRecordedCalls>>;
        try {
          calls = await findRecordedCalls(paths);
        } catch (err) {
          throw new CliError(err instanceof Error ? err.message : String(err));
        }
        if (calls.length === 0)
          throw new CliError(`no recorded calls (.wav, .pcap, .pcapng) under ${paths.join(', ')}`);
        let manifestPath: string;
        try {
          manifestPath = opts.model ?? (await defaultManifestPath());
        } catch (err) {
          throw new CliError(err instanceof Error ? err.message : String(err));
        }
        let ok = 0;
        let failed = 0;
        const started = process.hrtime.bigint();
        let audioS = 0;
        try {
          for await (const result of analyzeCalls(calls, {
            manifestPath,
            crossCallReplay: opts.crossCall,
            includeEvents: opts.events === true,
          })) {
            if (result.error) failed++;
            else ok++;
            audioS += result.duration_s ?? 0;
            process.stdout.write(
              opts.json ? `${JSON.stringify(result)}\n` : humanLine(result, opts.events === true),
            );
          }
        } catch (err) {
          throw new CliError(err instanceof Error ? err.message : String(err));
        }
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        process.stderr.write(
          `analyze: ${ok} calls analysed, ${failed} unreadable; ${audioS.toFixed(0)} s of audio in ${seconds.toFixed(1)} s (${Math.round(audioS / seconds)}x real time)\n`,
        );
        if (ok === 0) throw new CliError('no call could be analysed');
      },
    );
}

function humanLine(r: AnalyzeResult, events: boolean): string {
  if (r.error) return `${r.call}\terror: ${r.error}\n`;
  const alerts =
    (r.alerts ?? []).map((a) => `${a.kind}@${a.at_s.toFixed(1)}s(${a.score.toFixed(2)})`).join(' ') || '-';
  let line = `${r.call}\t${r.verdict}\t${(r.duration_s ?? 0).toFixed(1)}s\t${alerts}\n`;
  if (events) {
    for (const e of r.events ?? [])
      line += `  ${e.at_s.toFixed(2)}s ${e.leg} ${e.type} ${e.value} (${e.dur_s.toFixed(2)}s)\n`;
  }
  return line;
}
