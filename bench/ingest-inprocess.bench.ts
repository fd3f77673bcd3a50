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
 * three runs above copy each packet's samples for loss concealment, which the server's legs never do.
 *
 *   npx tsx bench/ingest-inprocess.bench.ts [--seconds 3]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { RtpPacket } from 'werift-rtp';
import { collectGarbage } from '../src/bench-harness/collect-garbage.ts';
import { CallMedia } from '../src/ingest/call-media.ts';
import type { PayloadDecoder } from '../src/ingest/codecs/decoder.ts';
import type { DecoderFactory } from '../src/ingest/leg-stream.ts';
import type { DigitEvent, Leg, MediaSink } from '../src/ingest/media-sink.ts';
import { parseRtpHeader, RtpHeaderView } from '../src/ingest/rtp/rtp-header.ts';

const secondsArg = process.argv.indexOf('--seconds');
const SECONDS = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 3;
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

function weriftParse(budgetMs: number): number {
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
  heap?: { before: number; after: number; gcs: number },
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
    // Fill the first cycle untimed for allocation purposes: decoders and the ring are created on first packets.
    collectGarbage();
    heap.before = process.memoryUsage().heapUsed;
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
    // The hot ring overwrote the headers of its first datagrams: rewrite every header for the next cycle.
    if (input === 'hot') restoreSequenceNumbers();
    writeTimestamps(cycle);
  }
  if (heap) {
    gcObserver.disconnect();
    heap.gcs = gcCount;
    heap.after = process.memoryUsage().heapUsed;
  }
  media.end();
  if (sink.frames < packets - 2) throw new Error(`frames ${sink.frames} < packets ${packets}`);
  if (media.stats[0].lost !== 0 || media.legs[0].resyncs !== 0) throw new Error('unexpected loss or resync');
  return { packets, elapsedNs: elapsed, cpuSeconds: cpu };
}

const werift = timed('werift-rtp RtpPacket.deSerialize', weriftParse);
const parse = timed('parseRtpHeader', ourParse);
const passThrough = () => new PassThroughDecoder();
fullPath(500, undefined, passThrough);
const streamRun = fullPath(SECONDS * 1000, undefined, passThrough);
const streamOnly = measure(streamRun.packets, streamRun.elapsedNs / 1e9, streamRun.cpuSeconds);
report('CallMedia.pushPacket without codec work', streamOnly);
fullPath(500);
const heap = { before: 0, after: 0, gcs: 0 };
const fullRun = fullPath(SECONDS * 1000, heap);
const full = measure(fullRun.packets, fullRun.elapsedNs / 1e9, fullRun.cpuSeconds);
report('CallMedia.pushPacket full path', full);
fullPath(500, undefined, undefined, 'datagrams');
const datagramRun = fullPath(SECONDS * 1000, undefined, undefined, 'datagrams');
const datagrams = measure(datagramRun.packets, datagramRun.elapsedNs / 1e9, datagramRun.cpuSeconds);
report('CallMedia.pushPacket full path, a Buffer per datagram (cold)', datagrams);
fullPath(500, undefined, undefined, 'hot');
const hotRun = fullPath(SECONDS * 1000, undefined, undefined, 'hot');
const hot = measure(hotRun.packets, hotRun.elapsedNs / 1e9, hotRun.cpuSeconds);
report('CallMedia.pushPacket full path, a Buffer per datagram (hot)', hot);
// As IngestServer runs CallMedia: it never changes a datagram dgram handed over, so a G.711 leg keeps a reference to
// its last payload for concealment instead of copying its samples (CallMediaOptions.retainedDatagrams). The cold
// datagrams qualify: between cycles only their headers are rewritten, which nothing keeps.
fullPath(500, undefined, undefined, 'datagrams', true);
const serverRun = fullPath(SECONDS * 1000, undefined, undefined, 'datagrams', true);
const server = measure(serverRun.packets, serverRun.elapsedNs / 1e9, serverRun.cpuSeconds);
report('CallMedia.pushPacket full path, a Buffer per datagram (cold), retained as IngestServer does', server);
restoreSequenceNumbers();
writeTimestamps(0);

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
    growthBytesPerPacket: (heap.after - heap.before) / full.packets,
    gcCount: heap.gcs,
    packets: full.packets,
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
  }; heap growth ${(result.heap.growthBytes / 1024).toFixed(1)} KiB over ${full.packets} packets, ${heap.gcs} GCs; load average ${result.loadAverage1m.toFixed(1)} on ${result.cpus} CPUs`,
);
// The same target for the inputs dgram really hands over (one Buffer per datagram), which the line above does not
// cover: a capture read in place is the one input no receiver delivers.
for (const [name, m] of [
  ['Buffer per datagram, cold', datagrams],
  ['Buffer per datagram, hot', hot],
  ['Buffer per datagram, retained as in IngestServer', server],
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
