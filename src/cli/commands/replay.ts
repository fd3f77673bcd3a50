import type { Command } from 'commander';
import { findRecordedCalls } from '../../recordings/recorded-call.ts';
import { type ReplayDestination, type ReplayProgress, replayCalls } from '../../recordings/replay-engine.ts';
import { REPLAY_CODECS, REPLAY_PAYLOAD_TYPES, type ReplayCodec } from '../../recordings/rtp-packetizer.ts';
import { formatUdpTarget, parseUdpTarget } from '../../recordings/udp-target.ts';
import { CliError } from '../cli-error.ts';

export interface ReplayFlags {
  rx?: string;
  tx?: string;
  target?: string;
  codec?: string;
  speed?: string;
  repeat?: string;
  concurrency?: string;
}

export interface ReplaySettings {
  destination: ReplayDestination;
  codec: ReplayCodec;
  speed: number;
  repeat: number;
  concurrency: number;
}

const HELP = `
Destinations (one of):
  --rx udp:HOST:PORT --tx udp:HOST:PORT   plain RTP per leg, as Telnyx fork_start rx/tx targets
  --target udp:HOST:PORT                  both legs on one port behind a 24-byte STREP header (legacy target);
                                          D bit = leg (0 rx, 1 tx), a fresh call_leg_id per replayed call
  HOST is a literal IPv4/IPv6 address ([::1] or ::1) or localhost.

Input (CONTRACTS §2): WAV (PCM16, mu-law, A-law; 8/16 kHz; channel 1 = rx, channel 2 = tx, mono = rx only),
pcap and pcapng (plain RTP: rx = lower destination port; or STREP). Folders are searched recursively for
*.wav, *.pcap, *.pcapng. A file that cannot be read is reported on one line and skipped.

WAV is packetized in 20 ms RTP packets with --codec. Payload types: ${REPLAY_CODECS.map((c) => `${c} ${REPLAY_PAYLOAD_TYPES[c]}`).join(', ')}
(pcmu/pcma/g722 static per RFC 3551; l16 = 8 kHz mono and opus are dynamic, numbered as forkguard's receiver
expects by default). Captured packets are sent byte for byte with their recorded relative timing.

Pacing: each packet is sent at its absolute due time (start + offset / speed), so timing does not drift.
  --speed X      X times real time (0.1-1000); --speed max sends as fast as the socket takes
  --concurrency  N calls at once; call i uses rx port + 2i and tx port + 2i (with --target: N call_leg_ids)
  --repeat       plays the whole file list N times

Progress goes to standard error; the final summary (calls, packets, seconds) to standard output.
Exit status: 0 when every call was sent, 2 on a bad flag or when a file could not be read.

Examples:
  forkguard replay calls/ --rx udp:127.0.0.1:40000 --tx udp:127.0.0.1:40001 --codec pcma
  forkguard replay call.pcap --target udp:10.0.0.5:9000 --speed max --concurrency 50 --repeat 4`;

function positiveInteger(value: string | undefined, flag: string, max: number): number {
  if (value === undefined) return 1;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new CliError(`${flag} '${value}': expected a whole number from 1 to ${max}`);
  }
  return Number(value);
}

function parseSpeed(value: string | undefined): number {
  if (value === undefined) return 1;
  if (value === 'max') return Number.POSITIVE_INFINITY;
  const speed = Number(value);
  if (value.trim() === '' || !Number.isFinite(speed) || speed < 0.1 || speed > 1000) {
    throw new CliError(`--speed '${value}': expected a number from 0.1 to 1000, or max`);
  }
  return speed;
}

function target(text: string, flag: string) {
  try {
    return parseUdpTarget(text, flag);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/** Validates the flags of `replay`; throws CliError (one line, exit 2) naming the flag. */
export function parseReplayFlags(flags: ReplayFlags): ReplaySettings {
  const codec = (flags.codec ?? 'pcmu') as ReplayCodec;
  if (!REPLAY_CODECS.includes(codec)) {
    throw new CliError(`--codec '${flags.codec}': expected one of ${REPLAY_CODECS.join(', ')}`);
  }
  const speed = parseSpeed(flags.speed);
  const repeat = positiveInteger(flags.repeat, '--repeat', 1_000_000);
  const concurrency = positiveInteger(flags.concurrency, '--concurrency', 10_000);
  let destination: ReplayDestination;
  if (flags.target !== undefined) {
    if (flags.rx !== undefined || flags.tx !== undefined) {
      throw new CliError('--target cannot be combined with --rx/--tx: choose STREP or a port pair');
    }
    destination = { mode: 'strep', target: target(flags.target, '--target') };
  } else {
    if (flags.rx === undefined || flags.tx === undefined) {
      throw new CliError(
        'a destination is required: --rx udp:HOST:PORT and --tx udp:HOST:PORT, or --target udp:HOST:PORT',
      );
    }
    const rx = target(flags.rx, '--rx');
    const tx = target(flags.tx, '--tx');
    const last = 2 * (concurrency - 1);
    for (const [flag, t] of [
      ['--rx', rx],
      ['--tx', tx],
    ] as const) {
      if (t.port + last > 65535) {
        throw new CliError(`${flag} port ${t.port} + 2 x (--concurrency ${concurrency} - 1) is beyond 65535`);
      }
    }
    if (rx.host === tx.host && rx.port === tx.port) throw new CliError('--rx and --tx must differ');
    if (
      concurrency > 1 &&
      rx.host === tx.host &&
      Math.abs(rx.port - tx.port) % 2 === 0 &&
      Math.abs(rx.port - tx.port) < 2 * concurrency
    ) {
      throw new CliError(
        `--rx and --tx port ranges overlap with --concurrency ${concurrency} (each call takes port + 2i)`,
      );
    }
    destination = { mode: 'pair', rx, tx };
  }
  return { destination, codec, speed, repeat, concurrency };
}

function describe(destination: ReplayDestination): string {
  return destination.mode === 'pair'
    ? `rx ${formatUdpTarget(destination.rx)}, tx ${formatUdpTarget(destination.tx)}`
    : `STREP ${formatUdpTarget(destination.target)}`;
}

async function runReplay(paths: string[], flags: ReplayFlags): Promise<void> {
  const settings = parseReplayFlags(flags);
  let found: Awaited<ReturnType<typeof findRecordedCalls>>;
  try {
    found = await findRecordedCalls(paths);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  if (found.length === 0)
    throw new CliError(`no recorded calls (*.wav, *.pcap, *.pcapng) under ${paths.join(', ')}`);
  const stderr = process.stderr;
  const tty = stderr.isTTY === true;
  const total = found.length * settings.repeat;
  stderr.write(
    `replay: ${total} call(s) to ${describe(settings.destination)}, speed ${settings.speed === Number.POSITIVE_INFINITY ? 'max' : settings.speed}, concurrency ${settings.concurrency}\n`,
  );
  const showProgress = (p: ReplayProgress) => {
    const line = `replay: ${p.callsDone}/${p.callsTotal} calls, ${p.packets} packets, ${p.seconds.toFixed(1)} s`;
    stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
  };
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const summary = await replayCalls({
      files: found.map((f) => f.path),
      ...settings,
      signal: abort.signal,
      progressIntervalMs: tty ? 250 : 5000,
      onProgress: showProgress,
      onCallError: (err) => stderr.write(`${tty ? '\r\x1b[K' : ''}forkguard: ${err.message}\n`),
      onWarning: (message) => stderr.write(`${tty ? '\r\x1b[K' : ''}replay: warning: ${message}\n`),
    });
    if (tty) stderr.write('\r\x1b[K');
    const rate = summary.seconds > 0 ? Math.round(summary.packets / summary.seconds) : 0;
    process.stdout.write(
      `replayed ${summary.calls} call(s), ${summary.packets} packets in ${summary.seconds.toFixed(2)} s (${rate} packets/s)` +
        `${summary.failed > 0 ? `, ${summary.failed} unreadable` : ''}${summary.sendErrors > 0 ? `, ${summary.sendErrors} send errors` : ''}` +
        `${abort.signal.aborted ? ', interrupted' : ''}\n`,
    );
    if (summary.failed > 0) throw new CliError(`${summary.failed} of ${total} call(s) could not be read`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('send recorded calls (WAV, pcap, pcapng) as RTP or STREP over UDP, paced in real time')
    .argument('<paths...>', 'recorded call files or folders (searched recursively)')
    .option('--rx <udp:HOST:PORT>', 'destination of the rx leg (media Telnyx received from the far end)')
    .option('--tx <udp:HOST:PORT>', 'destination of the tx leg (media Telnyx sent to the far end)')
    .option('--target <udp:HOST:PORT>', 'single STREP destination for both legs (instead of --rx/--tx)')
    .option('--codec <codec>', `encoding of WAV input: ${REPLAY_CODECS.join('|')}`, 'pcmu')
    .option('--speed <X|max>', 'time scale: 2 = twice real time, max = as fast as possible', '1')
    .option('--repeat <N>', 'play the file list N times', '1')
    .option('--concurrency <N>', 'calls in flight at once, on consecutive port pairs', '1')
    .addHelpText('after', HELP)
    .action(async (paths: string[], flags: ReplayFlags) => runReplay(paths, flags));
}
