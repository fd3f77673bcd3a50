import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { MultiBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { benchDocument, writeBenchResults } from '../../bench-harness/bench-report.ts';
import {
  type BenchOptions,
  type BenchProgress,
  runBench,
  type StepMeasurement,
} from '../../bench-harness/run-bench.ts';
import { pairsNeeded } from '../../bench-harness/step-plan.ts';
import { REPLAY_CODECS, type ReplayCodec } from '../../recordings/rtp-packetizer.ts';
import { portRangeSchema } from '../../service/config/config-fields.ts';
import { CliError } from '../cli-error.ts';
import { numberAtLeast, positiveInt } from '../parse-options.ts';

const DEFAULT_STEPS = [50, 100, 200, 400, 700, 1000, 1400];

const HELP = `
Starts \`forkguard start\` as a child process (one worker, its own BullMQ/Redis key prefix on REDIS_URL, port
pairs from --first-port) or measures a running service (--attach with --rtp-ports), replays the corpus's labelled
recorded calls into it over real UDP at each concurrency step (real-time pacing, plain RTP on port pairs, from a
native sendmmsg sender), then sends the same steps to a bare dgram receiver on the same ports.
Per step: packets/s offered and received, loss, drops by reason, CPU per packet and RSS per live call of the
receiving process (/proc), alert latency (packet completing the evidence -> alert stored in Redis) and accuracy
against the NAME.json labels. Results: <out>/bench.json (or --json), <out>/bench.md, <out>/bench.svg.
Needs a C compiler (cc) for the sender, Redis, and a model (models/default.json, or --model).`;

/** `--step 100` = 100, 200, ... up to --max-calls; `--step 50,200,800` = exactly those. */
export function concurrencySteps(step: string | undefined, maxCalls: number): number[] {
  if (step === undefined) {
    const steps = DEFAULT_STEPS.filter((s) => s <= maxCalls);
    if (steps[steps.length - 1] !== maxCalls) steps.push(maxCalls);
    return steps;
  }
  const list = step.split(',').map((s) => positiveInt('--step', s.trim()));
  if (list.length > 1) return [...new Set(list)].filter((s) => s <= maxCalls).sort((a, b) => a - b);
  const out: number[] = [];
  for (let n = list[0]; n <= maxCalls && out.length < 100; n += list[0]) out.push(n);
  return out;
}

interface BenchFlags {
  corpus: string;
  json?: string;
  out: string;
  attach?: string;
  pid?: string;
  queuePrefix: string;
  rtpPorts?: string;
  firstPort: string;
  maxCalls: string;
  step?: string;
  duration: string;
  bareDuration: string;
  model?: string;
  recordings: string;
  evidenceS: string;
  idleMs?: string;
  codec: string;
  bare: boolean;
  pin: boolean;
  host: string;
  redisUrl?: string;
}

function benchOptions(flags: BenchFlags): BenchOptions {
  if (!existsSync(flags.corpus)) {
    throw new CliError(
      `--corpus ${flags.corpus}: no such folder (make one with: forkguard corpus --out ${flags.corpus})`,
    );
  }
  if (!REPLAY_CODECS.includes(flags.codec as ReplayCodec)) {
    throw new CliError(`--codec must be one of ${REPLAY_CODECS.join(', ')}, got '${flags.codec}'`);
  }
  const maxCalls = positiveInt('--max-calls', flags.maxCalls);
  const steps = concurrencySteps(flags.step, maxCalls);
  if (steps.length === 0)
    throw new CliError(`--step ${flags.step}: no step at or below --max-calls ${maxCalls}`);
  const largest = steps[steps.length - 1];
  let firstPort = positiveInt('--first-port', flags.firstPort);
  let attach: string | undefined;
  if (flags.attach !== undefined) {
    try {
      attach = new URL(flags.attach).origin;
    } catch {
      throw new CliError(`--attach must be http://host:port, got '${flags.attach}'`);
    }
    if (flags.rtpPorts === undefined)
      throw new CliError("--attach needs --rtp-ports A-B (the service's port-pair range)");
    const parsed = portRangeSchema.safeParse(flags.rtpPorts);
    if (!parsed.success) throw new CliError(`--rtp-ports: ${parsed.error.issues[0].message}`);
    firstPort = parsed.data.first;
    const pairs = (parsed.data.last - parsed.data.first + 1) / 2;
    if (pairs < pairsNeeded(largest)) {
      throw new CliError(
        `--rtp-ports ${flags.rtpPorts} has ${pairs} pairs; ${largest} calls need ${pairsNeeded(largest)} (lower --max-calls)`,
      );
    }
  } else if (firstPort % 2 !== 0 || firstPort + 2 * pairsNeeded(largest) - 1 > 65535) {
    throw new CliError(
      `--first-port must be even and leave ${2 * pairsNeeded(largest)} ports below 65536, got ${firstPort}`,
    );
  }
  const durationS = numberAtLeast('--duration', flags.duration, 3);
  return {
    corpus: flags.corpus,
    steps,
    durationS,
    bareDurationS: Math.min(durationS, numberAtLeast('--bare-duration', flags.bareDuration, 3)),
    recordings: positiveInt('--recordings', flags.recordings),
    evidenceS: numberAtLeast('--evidence-s', flags.evidenceS, 0),
    host: flags.host,
    redisUrl: flags.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    firstPort,
    idleMs: flags.idleMs === undefined ? (attach ? 10_000 : 2000) : positiveInt('--idle-ms', flags.idleMs),
    codec: flags.codec as ReplayCodec,
    model: flags.model,
    attach,
    attachPid: flags.pid === undefined ? null : positiveInt('--pid', flags.pid),
    attachQueuePrefix: attach === undefined ? undefined : flags.queuePrefix,
    noBare: !flags.bare,
    stopAfterLossySteps: 2,
    startTimeoutMs: 60_000,
    pin: flags.pin && cpus().length >= 2 ? { target: '0', sender: '1' } : null,
  };
}

function stepLine(phase: string, s: StepMeasurement): string {
  const lat = s.alerts?.latency;
  return [
    `${phase} ${s.concurrency} calls: ${s.offered_pps} pkt/s offered, ${s.received_pps} received, loss ${(100 * s.loss).toFixed(2)}%`,
    `, backlog ${s.backlog_s ?? '–'} s${s.sustained ? '' : ' (not kept up)'}`,
    s.cpu_us_per_packet === null ? '' : `, ${s.cpu_us_per_packet} µs/pkt`,
    s.rss_kib_per_call_marginal === null ? '' : `, ${s.rss_kib_per_call_marginal} KiB/call`,
    lat === undefined ? '' : `, alerts ${s.alerts?.total} (p99 ${lat.p99_ms ?? '–'} ms)`,
  ].join('');
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description(
      'replays recorded calls through the real UDP path of the pipeline and reports throughput, loss, latency, memory and accuracy',
    )
    .option('--corpus <dir>', 'labelled recorded calls (CONTRACTS §2)', 'corpus')
    .option('--json <file>', 'JSON results (default <out>/bench.json)')
    .option(
      '--out <dir>',
      'results folder (JSON, Markdown, SVG chart)',
      join('bench', 'results', 'recorded-calls'),
    )
    .option('--attach <url>', 'measure the running service at http://host:port instead of starting one')
    .option('--rtp-ports <A-B>', "with --attach: the service's port-pair range")
    .option('--pid <n>', "with --attach: the service's process id on this host (CPU and RSS from /proc)")
    .option('--queue-prefix <prefix>', "with --attach: the service's BullMQ prefix", 'bull')
    .option('--first-port <n>', 'first UDP port of the pairs the started service receives on (even)', '24000')
    .option('--max-calls <n>', 'largest concurrency step', '1400')
    .option(
      '--step <n|list>',
      `concurrency steps: N = N, 2N, ... or a comma list (default ${DEFAULT_STEPS.join(',')} up to --max-calls)`,
    )
    .option('--duration <s>', 'seconds per service step', '20')
    .option('--bare-duration <s>', 'seconds per bare-receiver step', '6')
    .option('--model <manifest>', 'model manifest for the started service (default models/default.json)')
    .option('--recordings <n>', 'distinct recordings loaded, chosen across labels', '150')
    .option(
      '--evidence-s <s>',
      'a call cut by the step end is judged if it played this long past its onset',
      '10',
    )
    .option(
      '--idle-ms <ms>',
      'session idle timeout (started service: set to this; default 2000, attached: 10000)',
    )
    .option('--codec <codec>', `encoding of WAV recordings (${REPLAY_CODECS.join(', ')})`, 'pcmu')
    .option('--no-bare', 'skip the bare dgram receiver')
    .option('--no-pin', 'do not pin the receiving process to CPU 0 and the sender to CPU 1 (taskset)')
    .option('--host <ip>', 'IPv4 address the service binds and the sender targets', '127.0.0.1')
    .option('--redis-url <url>', 'Redis the alerts go to (default REDIS_URL or redis://127.0.0.1:6379)')
    .addHelpText('after', HELP)
    .action(async (flags: BenchFlags) => {
      const options = benchOptions(flags);
      const out = flags.out;
      const jsonPath = flags.json ?? join(out, 'bench.json');
      const startedAt = new Date();
      const loadBefore = loadavg();
      const abort = new AbortController();
      let signals = 0;
      const onSignal = () => {
        if (++signals > 1) process.exit(130);
        process.stderr.write('\nstopping: ending the sender and the service...\n');
        abort.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const bars = new MultiBar(
        {
          stream: process.stderr,
          format:
            '{phase} step {step}/{steps} {calls} calls |{bar}| {elapsed_s}/{duration_s} s  {pps} pkt/s  {active} active',
          hideCursor: true,
          clearOnComplete: true,
        },
        Presets.shades_classic,
      );
      let bar: ReturnType<MultiBar['create']> | null = null;
      let last = { sent: 0, ms: 0 };
      const log = (line: string) =>
        process.stderr.isTTY ? bars.log(`${line}\n`) : process.stderr.write(`${line}\n`);
      try {
        const run = await runBench(
          options,
          {
            onNote: (m) => log(m),
            onLoading: (done, total) => {
              if (done === total || done % 25 === 0) log(`loaded ${done}/${total} recordings`);
            },
            onStepProgress: (p: BenchProgress) => {
              const payload = {
                phase: p.phase,
                step: p.step,
                steps: p.steps,
                calls: p.concurrency,
                elapsed_s: (p.elapsedMs / 1000).toFixed(0),
                duration_s: (p.durationMs / 1000).toFixed(0),
                pps:
                  p.elapsedMs > last.ms
                    ? Math.round(((p.sent - last.sent) * 1000) / (p.elapsedMs - last.ms))
                    : 0,
                active: p.activeCalls,
              };
              last = { sent: p.sent, ms: p.elapsedMs };
              if (!process.stderr.isTTY) return;
              if (bar === null) bar = bars.create(p.durationMs, 0, payload);
              bar.update(Math.min(p.elapsedMs, p.durationMs), payload);
            },
            onStepDone: (phase, s) => {
              if (bar !== null) bars.remove(bar);
              bar = null;
              last = { sent: 0, ms: 0 };
              log(stepLine(phase, s));
            },
          },
          abort.signal,
        );
        bars.stop();
        if (abort.signal.aborted)
          throw new CliError('bench: stopped by signal (partial results not written)', 130);
        const command = `forkguard bench ${process.argv.slice(3).join(' ')}`.trim();
        const doc = benchDocument(run, options, { startedAt, command, loadBefore });
        const paths = writeBenchResults(doc, out, jsonPath);
        const t = doc.targets;
        process.stderr.write(
          `zero-loss ceiling: service ${t.concurrent_calls_zero_loss.measured} calls (${t.packets_per_second_zero_loss.measured} pkt/s), bare ${doc.summary.bare_zero_loss_calls} calls; p99 alert latency ${t.p99_alert_latency_ms.measured ?? '–'} ms; ${t.kib_per_active_call.measured ?? '–'} KiB/call\n` +
            `wrote ${paths.json}, ${paths.markdown}, ${paths.chart}\n`,
        );
      } catch (err) {
        bars.stop();
        if (err instanceof CliError) throw err;
        if (abort.signal.aborted)
          throw new CliError('bench: stopped by signal (children stopped, results not written)', 130);
        throw new CliError(`bench: ${(err as Error).message.split('\n')[0]}`, 1);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
