/**
 * Codec decode throughput: 20 ms packets per second for each payload decoder, with wavefile's G.711 decoders
 * measured in the same run as the baseline (its array API, which allocates per packet, and its per-sample
 * function into a preallocated buffer). Rates are per CPU-second of this process (process.cpuUsage), so a busy
 * shared machine distorts them less than wall time would. GC events during each timed run (v8.GCProfiler) are
 * the allocation check: zero means nothing was allocated per packet on the JS heap.
 * JIT order effect: whichever G.711 decoder is measured first runs ~1.5x faster than the second (swapping pcmu
 * and pcma swaps the figures), because the shared call sites turn polymorphic; the later figure is the one to
 * expect in the service, where a leg stream's call site sees several decoder classes.
 *
 * Run: npx tsx bench/codecs.bench.ts   (JSON: bench/results/codecs.json)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GCProfiler } from 'node:v8';
import { Decimator } from '../src/ingest/codecs/decimator.ts';
import type { PayloadDecoder } from '../src/ingest/codecs/decoder.ts';
import { createDecoder, createEncoder, type DecodableCodec } from '../src/ingest/codecs/registry.ts';

interface WavefileG711 {
  decode(samples: Uint8Array): Int16Array;
  decodeSample(code: number): number;
}

const RUN_MS = 700;
const PACKETS = 250; // 5 s of distinct packets, cycled

function speech(rate: number, seconds: number): Int16Array {
  const n = rate * seconds;
  const x = new Int16Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const f0 = 140 * (1 + 0.2 * Math.sin((2 * Math.PI * 3 * i) / rate));
    phase += (2 * Math.PI * f0) / rate;
    let s = 0;
    for (let h = 1; h * f0 * 1.2 < rate * 0.45; h++) s += Math.sin(h * phase + 0.7 * h) / (h * h);
    // Syllable-like envelope so adaptive codecs see level changes.
    const env = 0.2 + 0.8 * Math.abs(Math.sin((2 * Math.PI * 2.5 * i) / rate));
    x[i] = Math.round(12000 * env * s);
  }
  return x;
}

function packetsFor(codec: DecodableCodec): Uint8Array[] {
  if (codec === 'l16-16k') {
    const pcm = speech(16000, PACKETS / 50);
    const out: Uint8Array[] = [];
    for (let p = 0; p < pcm.length; p += 320) {
      const b = new Uint8Array(640);
      for (let i = 0; i < 320; i++) {
        b[2 * i] = (pcm[p + i] >> 8) & 0xff;
        b[2 * i + 1] = pcm[p + i] & 0xff;
      }
      out.push(b);
    }
    return out;
  }
  const wide = codec === 'g722' || codec === 'opus';
  const rate = wide ? 16000 : 8000;
  const pcm = speech(rate, PACKETS / 50);
  const enc = createEncoder(codec);
  const frame = rate / 50;
  const out: Uint8Array[] = [];
  for (let p = 0; p < pcm.length; p += frame) out.push(enc.encode(pcm.subarray(p, p + frame), rate));
  return out;
}

interface Result {
  name: string;
  /** Per CPU-second of this process. */
  packetsPerSecond: number;
  microsPerPacket: number;
  /** Audio seconds decoded per CPU-second. */
  realTimeFactor: number;
  gcEvents: number;
  packets: number;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Runs `body(rounds)` (which processes rounds x packets.length packets) for RUN_MS of CPU time. */
function timed(name: string, packetCount: number, body: (rounds: number) => void): Result {
  body(Math.ceil(2000 / packetCount)); // warm-up / JIT
  const profiler = new GCProfiler();
  profiler.start();
  let done = 0;
  const start = cpuMs();
  let now = start;
  while (now - start < RUN_MS) {
    body(1);
    done += packetCount;
    now = cpuMs();
  }
  const gc = profiler.stop();
  const pps = done / ((now - start) / 1000);
  return {
    name,
    packetsPerSecond: Math.round(pps),
    microsPerPacket: Number((1e6 / pps).toFixed(3)),
    realTimeFactor: Math.round(pps * 0.02),
    gcEvents: gc.statistics.length,
    packets: done,
  };
}

/** Decoder runs call dec.decode directly (one call site, as in the leg stream), no per-packet closure. */
function measureDecoder(name: string, packets: Uint8Array[], dec: PayloadDecoder, out: Int16Array): Result {
  return timed(name, packets.length, (rounds) => {
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < packets.length; k++) dec.decode(packets[k], 0, packets[k].length, out);
    }
  });
}

function measure(name: string, packets: Uint8Array[], step: (pkt: Uint8Array) => void): Result {
  return timed(name, packets.length, (rounds) => {
    for (let r = 0; r < rounds; r++) for (let k = 0; k < packets.length; k++) step(packets[k]);
  });
}

async function main(): Promise<void> {
  const mulaw = (await import('wavefile/lib/codecs/mulaw.js' as string)) as WavefileG711;
  const alaw = (await import('wavefile/lib/codecs/alaw.js' as string)) as WavefileG711;
  const out = new Int16Array(960);
  const results: Result[] = [];

  const g711: [DecodableCodec, WavefileG711][] = [
    ['pcmu', mulaw],
    ['pcma', alaw],
  ];
  const ratios: Record<string, number> = {};
  for (const [codec, wf] of g711) {
    const packets = packetsFor(codec);
    const ours = measureDecoder(`forkguard ${codec}`, packets, createDecoder(codec), out);
    const wfArray = measure(`wavefile ${codec} decode() [allocates]`, packets, (pkt) => {
      wf.decode(pkt);
    });
    const wfSample = measure(`wavefile ${codec} decodeSample() loop`, packets, (pkt) => {
      for (let i = 0; i < pkt.length; i++) out[i] = wf.decodeSample(pkt[i]);
    });
    results.push(ours, wfArray, wfSample);
    ratios[`${codec}_vs_wavefile_decode`] = Number(
      (ours.packetsPerSecond / wfArray.packetsPerSecond).toFixed(2),
    );
    ratios[`${codec}_vs_wavefile_decodeSample`] = Number(
      (ours.packetsPerSecond / wfSample.packetsPerSecond).toFixed(2),
    );
  }
  for (const codec of ['l16', 'l16-16k', 'g722', 'opus'] as const) {
    results.push(measureDecoder(`forkguard ${codec}`, packetsFor(codec), createDecoder(codec), out));
  }
  // A lost packet between received ones, the usual loss: each step decodes a packet and conceals the next. The
  // concealment's own cost is this row's time per packet minus the plain opus row's.
  const plcDecoder = createDecoder('opus');
  const warm = packetsFor('opus');
  results.push(
    measure('forkguard opus decode + 1 lost packet (PLC)', warm, (pkt) => {
      plcDecoder.decode(pkt, 0, pkt.length, out);
      plcDecoder.conceal(160, out);
    }),
  );
  for (const rate of [16000, 48000] as const) {
    const input = speech(rate, 0.02);
    const byEngine: Result[] = [];
    for (const engine of ['wasm', 'js'] as const) {
      const d = new Decimator(rate, 5760, engine);
      byEngine.push(
        measure(`decimator ${rate / 1000}k->8k (20 ms), ${engine}`, warm, () => {
          d.process(input, 0, input.length, out, 0);
        }),
      );
    }
    results.push(...byEngine);
    ratios[`decimator_${rate / 1000}k_wasm_vs_js`] = Number(
      (byEngine[0].packetsPerSecond / byEngine[1].packetsPerSecond).toFixed(2),
    );
  }

  console.log('codec decode, 20 ms packets, per CPU-second (single thread, same run)\n');
  console.log(
    `${'benchmark'.padEnd(42)} ${'packets/s'.padStart(12)} ${'µs/pkt'.padStart(9)} ${'x realtime'.padStart(11)} ${'GCs'.padStart(5)}`,
  );
  for (const r of results) {
    console.log(
      `${r.name.padEnd(42)} ${r.packetsPerSecond.toLocaleString('en-US').padStart(12)} ${r.microsPerPacket.toFixed(3).padStart(9)} ${r.realTimeFactor.toLocaleString('en-US').padStart(11)} ${String(r.gcEvents).padStart(5)}`,
    );
  }
  console.log('\nratios (same run): forkguard vs wavefile, decimator wasm vs JS stages:', ratios);

  const file = join(dirname(fileURLToPath(import.meta.url)), 'results', 'codecs.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    `${JSON.stringify({ node: process.version, runMsPerCase: RUN_MS, packetMs: 20, results, ratios, date: new Date().toISOString() }, null, 2)}\n`,
  );
  console.log(`\nwrote ${file}`);
}

await main();
