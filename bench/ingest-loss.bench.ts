/**
 * What packet loss costs ingest, in process: the whole IngestServer path (queue, STREP demux, sessions, latch,
 * parse, reorder, G.711 decode, concealment, 20 ms frames into a counting sink) driven without sockets at real-time
 * pacing, with no loss and with independent random loss at a few rates, in the same run.
 *
 * A lost packet is work for the receiver: the packets behind the gap wait in the reorder ring until the gap's
 * deadline passes, the gap is concealed (the last frame repeated, fading) and its frame still goes to the sink. What
 * one loss costs matters twice. A lossy network makes every call of it dearer. And a receiver that falls behind its
 * load loses datagrams from its socket buffer: if each loss costs it much more than a packet, it falls further
 * behind the more it loses, instead of degrading in step with its load.
 *
 * Pacing is by the arrival times the server is given (a synthetic clock, so no measurement waits): round r of
 * packets, one per leg, arrives spread over [20 r, 20 r + 20) ms, in one fixed shuffled order of the legs, and the
 * server is swept at the end of each round as its 20 ms sweep timer does. A lost packet is one the sender sent
 * (its sequence number and timestamp are used up) that never reaches the server. Each datagram is a fresh Buffer
 * with a backing store of its own, as dgram hands them over: what the server keeps of them (the last packet of a
 * leg, packets held behind a gap) then costs the collector what it does on the real path. (With Buffers cut from
 * Node's pool, keeping a datagram costs next to nothing, and this benchmark once credited a change with a gain that
 * the real path did not show.)
 *
 * Each lossy rate is measured twice: as the server runs by default, where a leg whose gaps keep coming out lost stops
 * waiting for them (NO_WAIT_AFTER_LOST_GAPS in leg-stream.ts), and with fixedReorderWait, every gap waiting the
 * reorder wait: what the adaptation saves, against a baseline measured in the same run.
 *
 * Reported per loss rate and wait: CPU ns per received packet (median of ROUNDS interleaved rounds), its ratio to the
 * lossless figure of the same run, the extra CPU per lost packet: (CPU - received x lossless CPU per packet) / lost,
 * and the default's CPU per received packet over the fixed wait's.
 *
 * Run: npx tsx bench/ingest-loss.bench.ts [--seconds 2] [--calls 500]   (JSON: bench/results/ingest-loss.json)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import {
  parseBenchOptions,
  positiveIntegerArg,
  positiveNumberArg,
} from '../src/bench-harness/bench-options.ts';
import { collectGarbage } from '../src/bench-harness/collect-garbage.ts';
import { median } from '../src/bench-harness/median.ts';
import {
  FrameCountingSink,
  shuffledOrder,
  strepPcmuDatagram,
  strepPcmuModel,
} from '../src/bench-harness/strep-pcmu-stream.ts';
import { xorshift32 } from '../src/bench-harness/xorshift32.ts';
import { IngestServer } from '../src/ingest/udp/ingest-server.ts';

const args = parseBenchOptions(
  'ingest-loss.bench.ts',
  'what packet loss costs ingest per packet, in process',
  {
    seconds: { description: 'seconds of CPU per measurement', default: '2' },
    calls: { description: 'STREP calls, two legs each', default: '500' },
  },
);
const SECONDS = positiveNumberArg('seconds', args.seconds);
const CALLS = positiveIntegerArg('calls', args.calls);
/** Independent loss probabilities per packet; the first is the baseline. */
const LOSS_RATES = [0, 0.02, 0.1, 0.25];
const ROUNDS = 5;
const DRAIN_EVERY = 32;
/** Rounds sent before timing: sessions open, code reaches its optimised tier, the lossy paths have run. */
const WARMUP_ROUNDS = 100;
const FRAME_MS = 20;

/** The next number of the xorshift32 sequence in `state`, in [0, 1): the same loss pattern every run. */
function nextRandom(state: Uint32Array): number {
  state[0] = xorshift32(state[0]);
  return state[0] / 4294967296;
}

interface Measurement {
  loss: number;
  fixedReorderWait: boolean;
  received: number;
  lost: number;
  cpuNsPerReceived: number;
  /** Frames the sinks got per packet sent in the timed rounds: 1 when every lost packet's frame was filled. */
  framesPerSent: number;
}

/** One measurement: a loss rate, and whether every gap waits the reorder wait (fixedReorderWait). */
interface Case {
  loss: number;
  fixedReorderWait: boolean;
}

/** The lossless baseline, then each lossy rate as the server runs by default and with the fixed wait. */
const CASES: Case[] = LOSS_RATES.flatMap((loss) =>
  loss === 0
    ? [{ loss, fixedReorderWait: false }]
    : [
        { loss, fixedReorderWait: false },
        { loss, fixedReorderWait: true },
      ],
);

async function measure({ loss, fixedReorderWait }: Case): Promise<Measurement> {
  // The calls of the measurement before are garbage now: collected here, not inside this one's timing.
  collectGarbage();
  const sinks: FrameCountingSink[] = [];
  const server = new IngestServer(
    { host: '127.0.0.1', strepPort: 0, maxSessions: CALLS + 1, idleMs: 3_600_000, fixedReorderWait },
    {
      open: () => {
        const sink = new FrameCountingSink();
        sinks.push(sink);
        return sink;
      },
      closed: () => {},
    },
  );
  const random = new Uint32Array([0x9e3779b9]);
  const streams = 2 * CALLS;
  const order = shuffledOrder(streams);
  const model = strepPcmuModel(0x10550000);
  let round = 0;
  let lost = 0;
  const sendRound = (): void => {
    const start = round * FRAME_MS;
    for (let i = 0; i < streams; i++) {
      // Every stream's first packets arrive, so every call has started before any loss is counted.
      if (round > 2 && nextRandom(random) < loss) {
        lost++;
        continue;
      }
      const stream = round === 0 ? i : order[i];
      const datagram = strepPcmuDatagram(model, stream, round, true);
      server.receiveStrep(datagram, '127.0.0.1', 5000, start + (i * FRAME_MS) / streams);
      if ((i + 1) % DRAIN_EVERY === 0) server.drain();
    }
    server.drain();
    server.sweep(start + FRAME_MS);
    round++;
  };
  while (round < WARMUP_ROUNDS) sendRound();
  const received0 = server.counters.received;
  const lost0 = lost;
  const rounds0 = round;
  const frames0 = sinks.reduce((sum, s) => sum + s.frames, 0);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) sendRound();
  const cpu = process.cpuUsage(cpu0);
  const received = server.counters.received - received0;
  const sent = (round - rounds0) * streams;
  const frames = sinks.reduce((sum, s) => sum + s.frames, 0) - frames0;
  const dropped = server.dropTotals().reduce((sum, n) => sum + n, 0);
  if (dropped > 0 || server.activeSessions !== CALLS) {
    throw new Error(`loss ${loss}: ${dropped} datagrams dropped, ${server.activeSessions} sessions`);
  }
  await server.stop();
  return {
    loss,
    fixedReorderWait,
    received,
    lost: lost - lost0,
    cpuNsPerReceived: ((cpu.user + cpu.system) * 1e3) / received,
    framesPerSent: frames / sent,
  };
}

const loadBefore = loadavg()[0];
/** Per round, one measurement per case, in CASES order. */
const runs: Measurement[][] = [];
for (let r = 0; r < ROUNDS; r++) {
  const run: Measurement[] = [];
  for (const c of CASES) run.push(await measure(c));
  runs.push(run);
}
/** Per case: the median CPU per received packet, and the extra CPU per lost packet paired round by round. */
const rates = CASES.map(({ loss, fixedReorderWait }, column) => {
  const perReceived = median(runs.map((run) => run[column].cpuNsPerReceived));
  // The same rate with the fixed wait, measured next in each round (none for the lossless baseline).
  const fixed = fixedReorderWait || loss === 0 ? null : column + 1;
  const perLost = median(
    runs.map((run) => {
      const m = run[column];
      return m.lost === 0 ? 0 : (m.received * (m.cpuNsPerReceived - run[0].cpuNsPerReceived)) / m.lost;
    }),
  );
  return {
    loss,
    wait: fixedReorderWait ? 'fixed' : 'default',
    cpuNsPerReceived: perReceived,
    // Paired round by round, like the extra per lost packet.
    overFixedWait:
      fixed === null
        ? null
        : median(runs.map((run) => run[column].cpuNsPerReceived / run[fixed].cpuNsPerReceived)),
    ratioToLossless: perReceived / median(runs.map((run) => run[0].cpuNsPerReceived)),
    extraCpuNsPerLost: perLost,
    framesPerSent: median(runs.map((run) => run[column].framesPerSent)),
  };
});
console.log(
  `${CALLS} calls at real-time pacing, independent random loss; median of ${ROUNDS} interleaved rounds`,
);
console.table(
  rates.map((r) => ({
    loss: `${(100 * r.loss).toFixed(0)}%`,
    wait: r.wait,
    'CPU ns/received': r.cpuNsPerReceived.toFixed(0),
    'vs lossless': r.ratioToLossless.toFixed(2),
    'extra CPU ns/lost': r.loss === 0 ? '-' : r.extraCpuNsPerLost.toFixed(0),
    'frames/sent': r.framesPerSent.toFixed(3),
    'vs fixed wait': r.overFixedWait === null ? '-' : r.overFixedWait.toFixed(2),
  })),
);
const json = {
  bench: 'ingest-loss',
  node: process.version,
  calls: CALLS,
  secondsPerMeasure: SECONDS,
  rounds: ROUNDS,
  loadAverage: { before: loadBefore, after: loadavg()[0] },
  baseline: rates[0],
  rates,
  runs,
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/ingest-loss.json', import.meta.url), `${JSON.stringify(json, null, 2)}\n`);
console.log('wrote bench/results/ingest-loss.json');
