/**
 * Memory one live call costs the service, measured without the noise of a running benchmark: opens N calls in
 * a real MediaPipeline (what `forkguard start` builds per session: ingest session and legs, CallAnalyzer,
 * LiveCall and its judge), plays seconds of two-leg PCMU noise into each so that state sized on demand reaches
 * its working size, and reads heap and ArrayBuffer growth after full collections. Sockets are never bound and
 * no model run happens, so the figure is per-call state alone, without datagram or model-run garbage. Needs
 * Redis (the replay index writes to it, under a key prefix of its own that is deleted afterwards).
 *
 *   npx tsx src/bench-harness/call-footprint.ts [--calls 200] [--seconds 10]
 */
import { pathToFileURL } from 'node:url';
import type { Leg } from '../ingest/media-sink.ts';
import { buildRtpPacket, REPLAY_PAYLOAD_TYPES } from '../recordings/rtp-packetizer.ts';
import { loadServiceConfig } from '../service/config/load-config.ts';
import { logger } from '../service/logger.ts';
import { MediaPipeline } from '../service/media-pipeline.ts';
import { loadScorer } from '../service/service-startup.ts';
import { AlertCollector } from './alert-collector.ts';
import { parseBenchOptions, positiveIntegerArg, positiveNumberArg } from './bench-options.ts';
import { collectGarbage } from './collect-garbage.ts';
import { xorshift32 } from './xorshift32.ts';

export interface CallFootprint {
  calls: number;
  /** V8 heap growth per call (objects, arrays, closures), KiB. */
  heap_kib_per_call: number;
  /** ArrayBuffer growth per call (typed array storage, outside the V8 heap), KiB. */
  array_buffer_kib_per_call: number;
  total_kib_per_call: number;
}

function settledMemory(): { heap: number; arrayBuffers: number } {
  for (let i = 0; i < 4; i++) collectGarbage();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, arrayBuffers: m.arrayBuffers };
}

/**
 * RTP PCMU packet `seq` of a leg carrying noise (from a per-leg xorshift state): every frame is fingerprinted,
 * so the loop detector and everything else that only wakes up for sound is at its working size.
 */
function packet(seq: number, ssrc: number, state: Uint32Array): Uint8Array {
  const payload = new Uint8Array(160);
  let x = state[0];
  for (let k = 0; k < payload.length; k++) {
    x = xorshift32(x);
    payload[k] = x & 0xff;
  }
  state[0] = x;
  return buildRtpPacket(REPLAY_PAYLOAD_TYPES.pcmu, seq, (seq * 160) >>> 0, ssrc, false, payload);
}

export async function measureCallFootprint(options: {
  calls: number;
  seconds: number;
}): Promise<CallFootprint> {
  const first = 40000;
  const prefix = `fgfootprint-${process.pid}-${Date.now().toString(36)}`;
  const config = loadServiceConfig({
    rtpPorts: `${first}-${first + 2 * options.calls + 1}`,
    logLevel: 'silent',
    maxSessions: String(options.calls + 2),
    queuePrefix: prefix,
    keyPrefix: `${prefix}:`,
  });
  logger.level = 'silent';
  const scorer = await loadScorer(config);
  const pipeline = new MediaPipeline({ config, rtpPorts: config.rtpPorts, strepPort: null, scorer });
  // Warm up once (shared tables, code, the first session's lazily built state) before the baseline.
  const frames = Math.round(options.seconds * 50);
  const play = async (calls: number, base: number) => {
    const sessions = [];
    for (let c = 0; c < calls; c++) {
      sessions.push(
        pipeline.ingest.announce({
          port: first + 2 * (base + c),
          callControlId: null,
          callLegId: null,
          callSessionId: null,
        }),
      );
    }
    const t0 = performance.now();
    const noise = new Uint32Array(1);
    for (let f = 0; f < frames; f++) {
      // A second of media at a time, then the event loop turns as it would live (replay-index writes go out).
      if (f % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
      for (let c = 0; c < calls; c++) {
        for (let leg = 0; leg < 2; leg++) {
          noise[0] = (base + c) * 7919 + leg * 104729 + f * 31 + 1;
          const p = packet(f, 0x1000 + 2 * c + leg, noise);
          sessions[c].media.pushPacket(leg as Leg, p, 0, p.length, t0 + f * 20);
        }
      }
    }
    await pipeline.replayIndex.flush();
    return sessions;
  };
  const warm = await play(1, options.calls);
  for (const s of warm) pipeline.end(s.identity.stream, 'request');
  await new Promise((r) => setTimeout(r, 10));
  const before = settledMemory();
  const open = await play(options.calls, 0);
  const after = settledMemory();
  const heap = (after.heap - before.heap) / 1024 / options.calls;
  const ab = (after.arrayBuffers - before.arrayBuffers) / 1024 / options.calls;
  if (open.length !== options.calls) throw new Error('not every call opened');
  await pipeline.stop(0);
  const cleanup = new AlertCollector(config.redisUrl, prefix);
  await cleanup.deletePrefix(`${prefix}:`).catch(() => {});
  cleanup.close();
  const r1 = (x: number) => Math.round(x * 10) / 10;
  return {
    calls: options.calls,
    heap_kib_per_call: r1(heap),
    array_buffer_kib_per_call: r1(ab),
    total_kib_per_call: r1(heap + ab),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = parseBenchOptions('call-footprint.ts', 'heap and buffers one live call holds in the service', {
    calls: { description: 'calls replayed at once', default: '200' },
    seconds: { description: 'seconds they run before the heap is measured', default: '10' },
  });
  const result = await measureCallFootprint({
    calls: positiveIntegerArg('calls', args.calls),
    seconds: positiveNumberArg('seconds', args.seconds),
  });
  console.log(JSON.stringify(result));
  process.exit(0);
}
