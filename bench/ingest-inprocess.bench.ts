/**
 * In-process ingest throughput: parse + reorder + decode + re-frame of PCMU 20 ms packets through CallMedia,
 * against werift-rtp's RtpPacket.deSerialize alone (the parser it replaces) measured in the same run, plus heap
 * growth and GC count over the full-path run (the hot path must not allocate per packet).
 *
 * The full path is fed three ways:
 *   wire       one 11 MB buffer with offsets (a capture read in place): cache-cold, and not what dgram delivers
 *   datagrams  the same bytes as one Buffer per datagram, as dgram hands them over: still cache-cold (the 11 MB
 *              rotate, so every packet's bytes come from far memory)
 *   hot        one Buffer per datagram from a ring of 64, sequence number and timestamp written just before the
 *              push: models a live receiver, where recv has just copied the datagram into a fresh buffer, so its
 *              bytes are in cache when ingest reads them (the header writes are timed too)
 * and `datagrams` is measured once more with CallMediaOptions.retainedDatagrams, as IngestServer runs CallMedia: the
 * three runs above copy each packet's samples for loss concealment, which the server's legs never do. And once
 * more in a process that has first loaded every module of the service (`service`): the same code runs measurably
 * slower there (see RtpPacket below).
 *
 * Every measure runs in a process of its own (this script with `--measure NAME`), REPEATS times, the measures
 * interleaved, and the median run is reported. Run one after another in one process, each measure inherited the
 * compiler's type feedback and inlining of the ones before it (a pass-through decoder, other input arrays), and the
 * same code read 10-15 % lower after them than first; a live server runs one such path from the start.
 *
 *   npx tsx bench/ingest-inprocess.bench.ts [--seconds 3] [--repeats 3]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import {
  parseBenchOptions,
  positiveIntegerArg,
  positiveNumberArg,
} from '../src/bench-harness/bench-options.ts';
import { collectGarbage } from '../src/bench-harness/collect-garbage.ts';
import { runMeasureChild } from '../src/bench-harness/measure-child.ts';
import { medianBy } from '../src/bench-harness/median.ts';
import { CallMedia } from '../src/ingest/call-media.ts';
import type { PayloadDecoder } from '../src/ingest/codecs/decoder.ts';
import type { DecoderFactory } from '../src/ingest/leg-stream.ts';
import type { DigitEvent, Leg, MediaSink } from '../src/ingest/media-sink.ts';
import { parseRtpHeader, RtpHeaderView } from '../src/ingest/rtp/rtp-header.ts';

const args = parseBenchOptions(
  'ingest-inprocess.bench.ts',
  'in-process ingest throughput against werift-rtp',
  {
    seconds: { description: 'seconds per measure', default: '3' },
    repeats: { description: 'runs of each measure (the median is reported)', default: '3' },
    measure: {
      description:
        'run one measure in this process and print its JSON: werift, parse, stream, wire, datagrams, hot, server or service',
    },
  },
);
const SECONDS = positiveNumberArg('seconds', args.seconds);
const REPEATS = positiveIntegerArg('repeats', args.repeats);
/** Set in a child process: the one measure it runs. */
const ONLY_MEASURE = args.measure ?? null;
const PACKET_BYTES = 12 + 160;
/** One full cycle of the 16-bit sequence space, so the full-path run crosses the wrap many times. */
const PACKETS = 65536;

const wire = new Uint8Array(PACKETS * PACKET_BYTES);
function writeTimestamps(cycle: number): void {
  for (let i = 0; i < PACKETS; i++) {
    const at = i * PACKET_BYTES;
    const ts = ((cycle * PACKETS + i) * 160) >>> 0;
    wire[at + 4] = ts >>> 24;
    wire[at + 5] = (ts >>> 16) & 0xff;
    wire[at + 6] = (ts >>> 8) & 0xff;
    wire[at + 7] = ts & 0xff;
  }
}
for (let i = 0; i < PACKETS; i++) {
  const at = i * PACKET_BYTES;
  wire[at] = 0x80;
  wire[at + 1] = 0;
  wire[at + 2] = i >>> 8;
  wire[at + 3] = i & 0xff;
  wire[at + 11] = 0x42;
  for (let k = 0; k < 160; k++) wire[at + 12 + k] = (i * 7 + k * 13) & 0xff;
}
writeTimestamps(0);
function restoreSequenceNumbers(): void {
  for (let i = 0; i < PACKETS; i++) {
    wire[i * PACKET_BYTES + 2] = i >>> 8;
    wire[i * PACKET_BYTES + 3] = i & 0xff;
  }
}
const buffers: Buffer[] = [];
for (let i = 0; i < PACKETS; i++) {
  buffers.push(Buffer.from(wire.buffer, wire.byteOffset + i * PACKET_BYTES, PACKET_BYTES));
}

class CountingSink implements MediaSink {
  frames = 0;
  checksum = 0;
  digits = 0;
  pushFrame(_leg: Leg, _frameIndex: number, pcm: Int16Array): void {
    this.frames++;
    this.checksum = (this.checksum + pcm[0] + pcm[159]) | 0;
  }
  pushDigit(_leg: Leg, _event: DigitEvent): void {
    this.digits++;
  }
  end(): void {}
}

interface Measure {
  packets: number;
  seconds: number;
  packetsPerSecond: number;
  /** CPU seconds of this process: on a shared, loaded machine the steadier figure. */
  cpuSeconds: number;
  packetsPerCpuSecond: number;
}

function cpuSecondsNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function measure(packets: number, seconds: number, cpuSeconds: number): Measure {
  return {
    packets,
    seconds,
    packetsPerSecond: packets / seconds,
    cpuSeconds,
    packetsPerCpuSecond: packets / cpuSeconds,
  };
}

function report(label: string, m: Measure): void {
  console.error(
    `${label}: ${(m.packetsPerSecond / 1e6).toFixed(2)} M packets/s wall, ${(m.packetsPerCpuSecond / 1e6).toFixed(2)} M/CPU-s`,
  );
}

function timed(label: string, run: (budgetMs: number) => number): Measure {
  run(300); // warm-up: reach optimised code before timing
  const start = process.hrtime.bigint();
  const cpu = cpuSecondsNow();
  const packets = run(SECONDS * 1000);
  const m = measure(packets, Number(process.hrtime.bigint() - start) / 1e9, cpuSecondsNow() - cpu);
  report(label, m);
  return m;
}

/**
 * werift-rtp, loaded only by the process that measures it. Loaded beside the packet path it lowered the median of
 * every full-path measure by 8-15 % (six runs of each with it, six without), and so does any of several libraries
 * the service loads (bullmq, ioredis, onnxruntime-node, pino: 8-18 % each, one at a time). Why was not found: none
 * changes a prototype or invalidates a V8 protector, and the profiles differ in what the compiler inlined into
 * the loop. The measures above are the packet path alone; `service` below is the same path in the company it
 * keeps in a service process.
 */
type WeriftRtpPacket = typeof import('werift-rtp').RtpPacket;
const RtpPacket: WeriftRtpPacket | null =
  ONLY_MEASURE === 'werift' ? (await import('werift-rtp')).RtpPacket : null;
// Every module `forkguard start` loads (importing it starts nothing).
if (ONLY_MEASURE === 'service') await import('../src/service/service.ts');

function weriftParse(budgetMs: number): number {
  if (RtpPacket === null) throw new Error('werift-rtp is loaded by the werift measure only');
  const end = performance.now() + budgetMs;
  let packets = 0;
  let sink = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 4096; i++) {
      const p = RtpPacket.deSerialize(buffers[(packets + i) & (PACKETS - 1)]);
      sink += p.payload.length;
    }
    packets += 4096;
  }
  if (sink === 0) throw new Error('unreachable');
  return packets;
}

const view = new RtpHeaderView();
function ourParse(budgetMs: number): number {
  const end = performance.now() + budgetMs;
  let packets = 0;
  let sink = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 4096; i++) {
      parseRtpHeader(wire, ((packets + i) & (PACKETS - 1)) * PACKET_BYTES, PACKET_BYTES, view);
      sink += view.payloadLength;
    }
    packets += 4096;
  }
  if (sink === 0) throw new Error('unreachable');
  return packets;
}

let gcCount = 0;
const gcObserver = new PerformanceObserver((list) => {
  gcCount += list.getEntries().length;
});

/**
 * Stands in for the codec to show what the stream itself (parse, sequence, reorder, timeline, re-framing) costs
 * apart from G.711 decoding: writes nothing, reports 20 ms.
 */
class PassThroughDecoder implements PayloadDecoder {
  readonly name = 'pcmu';
  readonly clockRate = 8000;
  decode(_payload: Uint8Array, _offset: number, length: number, _out: Int16Array): number {
    return length;
  }
  conceal(samples: number, _out: Int16Array): number {
    return samples;
  }
  reset(): void {}
}

type FullPathInput = 'wire' | 'datagrams' | 'hot';

/** Ring of cache-hot datagrams for the 'hot' input: small enough to stay in L1/L2 like a fresh recv buffer. */
const HOT_RING = 64;

function fullPath(
  budgetMs: number,
  heap?: HeapReport,
  createDecoder?: DecoderFactory,
  input: FullPathInput = 'wire',
  retainedDatagrams = false,
) {
  const sink = new CountingSink();
  const media = new CallMedia(sink, { reorderMs: 40, createDecoder, retainedDatagrams });
  let cycle = 0;
  writeTimestamps(0);
  let arrivalMs = 0;
  let packets = 0;
  if (heap) {
    collectGarbage();
    gcCount = 0;
    gcObserver.observe({ entryTypes: ['gc'] });
  }
  const end = performance.now() + budgetMs;
  let elapsed = 0;
  let cpu = 0;
  while (performance.now() < end) {
    const t = process.hrtime.bigint();
    const c = cpuSecondsNow();
    if (input === 'wire') {
      for (let i = 0; i < PACKETS; i++) {
        media.pushPacket(0, wire, i * PACKET_BYTES, PACKET_BYTES, arrivalMs);
        arrivalMs += 20;
        if ((i & 63) === 0) media.flush(arrivalMs);
      }
    } else if (input === 'datagrams') {
      for (let i = 0; i < PACKETS; i++) {
        media.pushPacket(0, buffers[i], 0, PACKET_BYTES, arrivalMs);
        arrivalMs += 20;
        if ((i & 63) === 0) media.flush(arrivalMs);
      }
    } else {
      for (let i = 0; i < PACKETS; i++) {
        const datagram = buffers[i & (HOT_RING - 1)];
        const ts = ((cycle * PACKETS + i) * 160) >>> 0;
        datagram[2] = i >>> 8;
        datagram[3] = i & 0xff;
        datagram[4] = ts >>> 24;
        datagram[5] = (ts >>> 16) & 0xff;
        datagram[6] = (ts >>> 8) & 0xff;
        datagram[7] = ts & 0xff;
        media.pushPacket(0, datagram, 0, PACKET_BYTES, arrivalMs);
        arrivalMs += 20;
        if ((i & 63) === 0) media.flush(arrivalMs);
      }
    }
    elapsed += Number(process.hrtime.bigint() - t);
    cpu += cpuSecondsNow() - c;
    packets += PACKETS;
    cycle++;
    // Heap growth counts from the end of the first cycle: in a fresh process the first cycle after the collection
    // takes about 4 MiB once, and every cycle after it a few KiB (the timing's own objects), so the packets are
    // not what took it.
    if (heap && cycle === 1) {
      heap.before = process.memoryUsage().heapUsed;
      heap.packets = -packets;
    }
    // The hot ring overwrote the headers of its first datagrams: rewrite every header for the next cycle.
    if (input === 'hot') restoreSequenceNumbers();
    writeTimestamps(cycle);
  }
  if (heap) {
    gcObserver.disconnect();
    heap.gcs = gcCount;
    heap.after = process.memoryUsage().heapUsed;
    heap.packets += packets;
  }
  media.end();
  if (sink.frames < packets - 2) throw new Error(`frames ${sink.frames} < packets ${packets}`);
  if (media.stats[0].lost !== 0 || media.legs[0].resyncs !== 0) throw new Error('unexpected loss or resync');
  return { packets, elapsedNs: elapsed, cpuSeconds: cpu };
}

const passThrough = () => new PassThroughDecoder();

interface HeapReport {
  before: number;
  after: number;
  gcs: number;
  /** Packets pushed between the two heap readings. */
  packets: number;
}

/** One full-path measure: its warm-up, then the timed run. */
function fullPathMeasure(
  label: string,
  createDecoder: DecoderFactory | undefined,
  input: FullPathInput,
  retained: boolean,
  heap?: HeapReport,
): Measure {
  fullPath(500, undefined, createDecoder, input, retained);
  const run = fullPath(SECONDS * 1000, heap, createDecoder, input, retained);
  const m = measure(run.packets, run.elapsedNs / 1e9, run.cpuSeconds);
  report(label, m);
  return m;
}

/** The measures, in the order each repeat runs them; each runs in a process of its own (see the header). */
const MEASURES = {
  werift: () => timed('werift-rtp RtpPacket.deSerialize', weriftParse),
  parse: () => timed('parseRtpHeader', ourParse),
  stream: () => fullPathMeasure('CallMedia.pushPacket without codec work', passThrough, 'wire', false),
  wire: (heap?: HeapReport) =>
    fullPathMeasure('CallMedia.pushPacket full path', undefined, 'wire', false, heap),
  datagrams: () =>
    fullPathMeasure(
      'CallMedia.pushPacket full path, a Buffer per datagram (cold)',
      undefined,
      'datagrams',
      false,
    ),
  hot: () =>
    fullPathMeasure('CallMedia.pushPacket full path, a Buffer per datagram (hot)', undefined, 'hot', false),
  // As IngestServer runs CallMedia: it never changes a datagram dgram handed over, so a G.711 leg keeps a reference
  // to its last payload for concealment instead of copying its samples (CallMediaOptions.retainedDatagrams). The
  // cold datagrams qualify: between cycles only their headers are rewritten, which nothing keeps.
  server: () =>
    fullPathMeasure(
      'CallMedia.pushPacket full path, a Buffer per datagram (cold), retained as IngestServer does',
      undefined,
      'datagrams',
      true,
    ),
  service: () =>
    fullPathMeasure(
      'CallMedia.pushPacket as IngestServer runs it, with every module of the service loaded',
      undefined,
      'datagrams',
      true,
    ),
} as const;
type MeasureName = keyof typeof MEASURES;
const MEASURE_NAMES = Object.keys(MEASURES) as MeasureName[];

/** What a child prints on its last line of stdout. */
interface ChildResult {
  measure: MeasureName;
  result: Measure;
  heap: HeapReport | null;
}

if (ONLY_MEASURE !== null) {
  if (!(ONLY_MEASURE in MEASURES)) {
    console.error(`unknown measure ${ONLY_MEASURE}; one of ${MEASURE_NAMES.join(', ')}`);
    process.exit(2);
  }
  const name = ONLY_MEASURE as MeasureName;
  // The heap is watched over the one-buffer full path, the figure the target is judged on.
  const heap = name === 'wire' ? { before: 0, after: 0, gcs: 0, packets: 0 } : null;
  const run: (heap?: HeapReport) => Measure = MEASURES[name];
  const result = run(heap ?? undefined);
  const line: ChildResult = { measure: name, result, heap };
  console.log(JSON.stringify(line));
  process.exit(0);
}

/** Runs one measure in a child process of this script and returns what it printed. */
function runChild(name: MeasureName): ChildResult {
  return runMeasureChild<ChildResult>(import.meta.url, ['--measure', name, '--seconds', String(SECONDS)]);
}

const runs = Object.fromEntries(MEASURE_NAMES.map((name) => [name, [] as ChildResult[]])) as Record<
  MeasureName,
  ChildResult[]
>;
for (let repeat = 0; repeat < REPEATS; repeat++) {
  for (const name of MEASURE_NAMES) runs[name].push(runChild(name));
}
/** The run whose packets/s is the median of a measure's runs. */
function medianRun(name: MeasureName): ChildResult {
  return medianBy(runs[name], (run) => run.result.packetsPerSecond);
}
const werift = medianRun('werift').result;
const parse = medianRun('parse').result;
const streamOnly = medianRun('stream').result;
const fullMedian = medianRun('wire');
const full = fullMedian.result;
const heap = fullMedian.heap ?? { before: 0, after: 0, gcs: 0, packets: 0 };
const datagrams = medianRun('datagrams').result;
const hot = medianRun('hot').result;
const server = medianRun('server').result;
const service = medianRun('service').result;

const TARGET = 5_000_000;
function againstTarget(r: Measure) {
  return {
    cpuNsPerPacket: 1e9 / r.packetsPerCpuSecond,
    target: TARGET,
    meetsTarget: r.packetsPerSecond >= TARGET,
    meetsTargetPerCpuSecond: r.packetsPerCpuSecond >= TARGET,
  };
}
const result = {
  bench: 'ingest-inprocess',
  node: process.version,
  codec: 'pcmu',
  packetMs: 20,
  payloadBytes: 160,
  secondsPerMeasure: SECONDS,
  cpus: availableParallelism(),
  loadAverage1m: loadavg()[0],
  isolation: 'a process per measure, repeats interleaved, median run reported',
  repeats: REPEATS,
  runsPacketsPerSecond: Object.fromEntries(
    MEASURE_NAMES.map((name) => [name, runs[name].map((r) => r.result.packetsPerSecond)]),
  ),
  baseline: { name: 'werift-rtp RtpPacket.deSerialize', ...werift },
  parse: {
    name: 'parseRtpHeader',
    ...parse,
    ratioToBaseline: parse.packetsPerSecond / werift.packetsPerSecond,
    cpuRatioToBaseline: parse.packetsPerCpuSecond / werift.packetsPerCpuSecond,
  },
  fullPath: {
    name: 'CallMedia.pushPacket (parse + reorder + decode + 20 ms frames)',
    ...full,
    ratioToBaseline: full.packetsPerSecond / werift.packetsPerSecond,
    cpuRatioToBaseline: full.packetsPerCpuSecond / werift.packetsPerCpuSecond,
    nsPerPacket: 1e9 / full.packetsPerSecond,
    ...againstTarget(full),
  },
  fullPathDatagrams: {
    name: 'CallMedia.pushPacket full path, one cache-cold Buffer per datagram (as dgram delivers)',
    ...datagrams,
    ...againstTarget(datagrams),
  },
  fullPathHot: {
    name: 'CallMedia.pushPacket full path, one cache-hot Buffer per datagram (a fresh recv copy)',
    ...hot,
    ...againstTarget(hot),
  },
  fullPathAsServer: {
    name: 'CallMedia.pushPacket full path, one cache-cold Buffer per datagram, retainedDatagrams as in IngestServer',
    ...server,
    ...againstTarget(server),
  },
  fullPathInService: {
    name: 'the same as fullPathAsServer, in a process that has loaded every module of the service',
    ...service,
    ...againstTarget(service),
  },
  streamWithoutCodec: {
    name: 'CallMedia.pushPacket with a pass-through decoder (the stream alone)',
    ...streamOnly,
    ratioToBaseline: streamOnly.packetsPerSecond / werift.packetsPerSecond,
    cpuNsPerPacket: 1e9 / streamOnly.packetsPerCpuSecond,
  },
  heap: {
    heapUsedBeforeBytes: heap.before,
    heapUsedAfterBytes: heap.after,
    growthBytes: heap.after - heap.before,
    growthBytesPerPacket: (heap.after - heap.before) / heap.packets,
    gcCount: heap.gcs,
    packets: heap.packets,
  },
};

const rows: [string, Measure][] = [
  ['werift-rtp deSerialize (baseline)', werift],
  ['parseRtpHeader', parse],
  ['stream alone (pass-through codec)', streamOnly],
  ['full path parse+reorder+decode', full],
  ['full path, Buffer per datagram, cold', datagrams],
  ['full path, Buffer per datagram, hot', hot],
  ['full path, as IngestServer (retained)', server],
  ['the same, service modules loaded', service],
];
console.log(
  `${'measure'.padEnd(36)} ${'M pkt/s'.padStart(9)} ${'x base'.padStart(8)} ${'M/CPU-s'.padStart(9)} ${'x base'.padStart(8)}`,
);
for (const [name, m] of rows) {
  console.log(
    `${name.padEnd(36)} ${(m.packetsPerSecond / 1e6).toFixed(2).padStart(9)} ${(m.packetsPerSecond / werift.packetsPerSecond).toFixed(2).padStart(8)} ${(m.packetsPerCpuSecond / 1e6).toFixed(2).padStart(9)} ${(m.packetsPerCpuSecond / werift.packetsPerCpuSecond).toFixed(2).padStart(8)}`,
  );
}
console.log(
  `full path ${result.fullPath.nsPerPacket.toFixed(0)} ns/packet (${result.fullPath.cpuNsPerPacket.toFixed(0)} CPU ns), target ${TARGET / 1e6} M/s: ${
    result.fullPath.meetsTarget ? 'met' : 'NOT met'
  }; heap growth ${(result.heap.growthBytes / 1024).toFixed(1)} KiB over ${heap.packets} packets after the first cycle, ${heap.gcs} GCs; load average ${result.loadAverage1m.toFixed(1)} on ${result.cpus} CPUs`,
);
// The same target for the inputs dgram really hands over (one Buffer per datagram), which the line above does not
// cover: a capture read in place is the one input no receiver delivers.
for (const [name, m] of [
  ['Buffer per datagram, cold', datagrams],
  ['Buffer per datagram, hot', hot],
  ['Buffer per datagram, retained as in IngestServer', server],
  ['the same with every module of the service loaded', service],
] as const) {
  console.log(
    `full path, ${name}: ${(m.packetsPerSecond / 1e6).toFixed(2)} M packets/s, target ${TARGET / 1e6} M/s: ${
      againstTarget(m).meetsTarget ? 'met' : 'NOT met'
    }`,
  );
}
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('./results/ingest-inprocess.json', import.meta.url),
  `${JSON.stringify(result, null, 2)}\n`,
);
