/**
 * Run as its own process by no-allocation.test.ts (a clean isolate, as the service runs: the test runner's module
 * instrumentation allocates in code it transforms), with a 16 MB young generation. Prints, per scenario, the heap
 * bytes allocated per packet and the collections during the measured run of 2,000,000 packets, as one JSON line:
 * at 8 bytes or more per packet that run would fill the young generation and collect at least once.
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CallMedia } from '../../../src/ingest/call-media.ts';
import type { DigitEvent, Leg, MediaSink } from '../../../src/ingest/media-sink.ts';
import { parseRtpHeader, RtpHeaderView } from '../../../src/ingest/rtp/rtp-header.ts';
import { pcmuPayload, rtpPacket } from './stream-helpers.ts';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
/** Packets per warm-up run, and in the measured run. */
const WARM_PACKETS = 200_000;
const PACKETS = 2_000_000;

class CountingSink implements MediaSink {
  frames = 0;
  pushFrame(_leg: Leg, _frameIndex: number, pcm: Int16Array): void {
    this.frames += pcm.length === 160 ? 1 : 0;
  }
  pushDigit(_leg: Leg, _event: DigitEvent): void {}
  end(): void {}
}

/**
 * Heap bytes allocated per packet and collections while `run` handles PACKETS packets, after warm-up runs that
 * let the optimising compiler install its code (which allocates as it lands).
 */
async function allocatedBy(
  run: (packets: number) => void,
): Promise<{ bytesPerPacket: number; collections: number }> {
  for (let i = 0; i < 3; i++) {
    run(WARM_PACKETS);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  // Young-generation collections only: garbage made at packet rate fills the young generation. (The heap's
  // memory reducer may also run full collections on its own timers, whatever the code does.)
  let collections = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const detail = (entry as unknown as { detail?: { kind?: number } }).detail;
      if (detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) collections++;
    }
  });
  collectGarbage();
  observer.observe({ entryTypes: ['gc'] });
  const before = getHeapStatistics().used_heap_size;
  run(PACKETS);
  const after = getHeapStatistics().used_heap_size;
  await new Promise((resolve) => setTimeout(resolve, 20)); // GC entries arrive asynchronously
  observer.disconnect();
  return { bytesPerPacket: (after - before) / PACKETS, collections };
}

/** One Buffer per datagram from a ring, as dgram hands them over. */
const ring = Array.from({ length: 64 }, (_, i) =>
  Buffer.from(rtpPacket({ sequence: i, timestamp: i * 160, payload: pcmuPayload(1000) })),
);

function parser(): (packets: number) => void {
  const view = new RtpHeaderView();
  let sum = 0;
  return (packets) => {
    for (let i = 0; i < packets; i++) {
      const packet = ring[i & 63];
      parseRtpHeader(packet, 0, packet.length, view);
      sum = (sum + view.sequence) | 0;
    }
  };
}

/** A call leg with every 13th pair of packets swapped and every 11th packet lost: held, reordered, concealed. */
function lossyCall(media: CallMedia): (packets: number) => void {
  let next = 0;
  let clock = 1000;
  return (packets) => {
    for (let i = 0; i < packets; i++) {
      const position = next++;
      clock += 20;
      const r = position % 13;
      const n = r === 7 ? position + 1 : r === 8 ? position - 1 : position;
      if (n % 11 === 5) continue;
      const packet = ring[i & 63];
      packet.writeUInt16BE(n & 0xffff, 2);
      packet.writeUInt32BE((n * 160) >>> 0, 4);
      media.pushPacket(0, packet, 0, packet.length, clock);
      media.flush(clock);
    }
  };
}

const sink = new CountingSink();
const media = new CallMedia(sink, { reorderMs: 40 });
const result = {
  parser: await allocatedBy(parser()),
  call: await allocatedBy(lossyCall(media)),
  frames: sink.frames,
  lost: media.stats[0].lost,
  reordered: media.stats[0].reordered,
  packets: PACKETS,
};
console.log(JSON.stringify(result));
