import { describe, expect, it } from 'vitest';
import { CallMedia } from '../../../src/ingest/call-media.ts';
import {
  LEG_ROW_BYTES,
  LEG_ROW_DOUBLES,
  type LegStateHolder,
  poolLineOffset,
  releaseRow,
  rowsInUse,
  takeRow,
} from '../../../src/ingest/leg-state-pool.ts';
import { type Leg, RX, TX } from '../../../src/ingest/media-sink.ts';
import { levelOf, pcmuPayload, RecordingSink, rtpPacket, telephoneEvent } from './stream-helpers.ts';

function holder(): LegStateHolder {
  return {
    rowState: new Float64Array(0),
    rowWords: new Int32Array(0),
    rowBytes: new Uint8Array(0),
    rowBase: 0,
  };
}

function row(h: LegStateHolder): number[] {
  return Array.from(h.rowState.subarray(h.rowBase, h.rowBase + LEG_ROW_DOUBLES));
}

describe('leg state pool', () => {
  it('keeps every row where its holder finds it while the pool grows under it', () => {
    const holders: LegStateHolder[] = [];
    // Far more rows than the pool starts with: it doubles several times while earlier holders hold theirs.
    for (let i = 0; i < 1000; i++) {
      const h = holder();
      takeRow(h);
      expect(row(h).every((v) => v === 0)).toBe(true);
      for (let k = 0; k < LEG_ROW_DOUBLES; k++) h.rowState[h.rowBase + k] = i * 1000 + k;
      h.rowWords[2 * h.rowBase + 1] = -i; // the word view is the same memory as the row
      h.rowBytes[8 * h.rowBase + 3] = i & 0xff; // so is the byte view
      holders.push(h);
    }
    for (let i = 0; i < holders.length; i++) {
      const h = holders[i];
      expect(h.rowState.buffer).toBe(holders[0].rowState.buffer);
      expect(h.rowWords.buffer).toBe(h.rowState.buffer);
      expect(h.rowWords[2 * h.rowBase + 1]).toBe(-i | 0);
      expect(h.rowBytes.buffer).toBe(h.rowState.buffer);
      expect(h.rowBytes[8 * h.rowBase + 3]).toBe(i & 0xff);
      for (let k = 1; k < LEG_ROW_DOUBLES; k++) expect(h.rowState[h.rowBase + k]).toBe(i * 1000 + k);
    }
    for (const h of holders) releaseRow(h);
  });

  it('starts every row on a 64-byte cache line, so that a row is LEG_ROW_BYTES / 64 lines and no more', () => {
    expect(LEG_ROW_BYTES % 64).toBe(0);
    expect(poolLineOffset()).toBe(0);
    const h = holder();
    takeRow(h);
    expect((h.rowState.byteOffset + 8 * h.rowBase) % 64).toBe(0);
    releaseRow(h);
  });

  it('gives a released row to the next holder zeroed, and leaves the old holder a private copy', () => {
    const before = rowsInUse();
    const first = holder();
    takeRow(first);
    first.rowState.fill(7, first.rowBase, first.rowBase + LEG_ROW_DOUBLES);
    const pooled = first.rowState;
    releaseRow(first);
    expect(rowsInUse()).toBe(before);
    expect(first.rowState).not.toBe(pooled);
    expect(first.rowBase).toBe(0);
    expect(row(first)).toEqual(new Array(LEG_ROW_DOUBLES).fill(7));

    const second = holder();
    takeRow(second);
    expect(rowsInUse()).toBe(before + 1);
    expect(row(second).every((v) => v === 0)).toBe(true);
    second.rowState.fill(9, second.rowBase, second.rowBase + LEG_ROW_DOUBLES);
    // The first holder's copy is its own: the row's new owner does not write into it.
    expect(row(first)).toEqual(new Array(LEG_ROW_DOUBLES).fill(7));
    releaseRow(second);
    releaseRow(second); // a second release is a no-op
    expect(rowsInUse()).toBe(before);
  });
});

/** Deterministic per-call packet plan: reordering, a duplicate, a loss and a digit, varied by call. */
interface PlannedPacket {
  leg: Leg;
  bytes: Uint8Array;
  /** Offset from the call's start, ms. */
  atMs: number;
}

function planCall(call: number, packets: number): PlannedPacket[] {
  const plan: PlannedPacket[] = [];
  for (const leg of [RX, TX] as Leg[]) {
    const ssrc = 0x1000 + call * 2 + leg;
    const seq0 = (call * 7919 + leg * 101) & 0xffff;
    const ts0 = (call * 104729 + leg * 3) >>> 0;
    const order: number[] = [];
    for (let n = 0; n < packets; n++) order.push(n);
    // Swap a pair (reordered), drop one (lost), send one twice (duplicate): where depends on the call.
    const swap = 3 + (call % 5);
    [order[swap], order[swap + 1]] = [order[swap + 1], order[swap]];
    const lost = 12 + (call % 7);
    order.splice(order.indexOf(lost), 1);
    order.splice(20, 0, order[18]);
    order.forEach((n, position) => {
      // Packets 30-33 of tx are one RFC 4733 digit: one event timestamp, the last packet marked as its end.
      const digit = leg === TX && n >= 30 && n < 34;
      plan.push({
        leg,
        atMs: position * 20 + ((call + position) % 3) * 4,
        bytes: rtpPacket({
          sequence: (seq0 + n) & 0xffff,
          timestamp: (ts0 + (digit ? 30 : n) * 160) >>> 0,
          ssrc,
          payloadType: digit ? 101 : 0,
          payload: digit
            ? telephoneEvent(call % 10, n === 33, (n - 29) * 160)
            : pcmuPayload(levelOf(n + call)),
        }),
      });
    });
  }
  return plan.sort((a, b) => a.atMs - b.atMs || a.leg - b.leg);
}

interface CallOutcome {
  frames: [number[], number[]];
  indices: [number[], number[]];
  digits: unknown[];
  stats: unknown;
}

function outcome(sink: RecordingSink, media: CallMedia): CallOutcome {
  return {
    frames: [sink.frames[RX].flatMap((f) => Array.from(f)), sink.frames[TX].flatMap((f) => Array.from(f))],
    indices: sink.indices,
    digits: [...sink.digits[RX], ...sink.digits[TX]],
    stats: JSON.parse(JSON.stringify(media.stats)),
  };
}

const T0 = 5_000_000;
const PACKETS = 50;

function runAlone(call: number): CallOutcome {
  const sink = new RecordingSink();
  const media = new CallMedia(sink);
  for (const p of planCall(call, PACKETS)) {
    media.pushPacket(p.leg, p.bytes, 0, p.bytes.length, T0 + p.atMs);
    media.flush(T0 + p.atMs);
  }
  media.end();
  return outcome(sink, media);
}

describe('legs sharing the pool', () => {
  it('give each call the media it gives alone, with calls opening, growing the pool and ending among each other', () => {
    const CALLS = 150;
    const STAGGER_MS = 7;
    const alone = Array.from({ length: CALLS }, (_, call) => runAlone(call));
    const before = rowsInUse();

    // All calls at once: call c starts c * STAGGER_MS after the first, so new legs take rows (and the pool grows)
    // while earlier calls are mid-stream, and early calls end (giving rows back) while later ones still run.
    const sinks = Array.from({ length: CALLS }, () => new RecordingSink());
    const medias: (CallMedia | null)[] = new Array(CALLS).fill(null);
    const events: { call: number; packet: PlannedPacket; atMs: number }[] = [];
    for (let call = 0; call < CALLS; call++) {
      for (const packet of planCall(call, PACKETS)) {
        events.push({ call, packet, atMs: call * STAGGER_MS + packet.atMs });
      }
    }
    events.sort((a, b) => a.atMs - b.atMs || a.call - b.call);
    const left = new Array(CALLS).fill(0);
    for (const e of events) left[e.call]++;
    const ended: CallOutcome[] = new Array(CALLS);
    let peakRows = 0;
    for (const e of events) {
      let media = medias[e.call];
      if (media === null) {
        media = new CallMedia(sinks[e.call]);
        medias[e.call] = media;
      }
      const now = T0 + e.atMs - e.call * STAGGER_MS;
      media.pushPacket(e.packet.leg, e.packet.bytes, 0, e.packet.bytes.length, now);
      media.flush(now);
      peakRows = Math.max(peakRows, rowsInUse() - before);
      left[e.call]--;
      if (left[e.call] === 0) {
        media.end();
        ended[e.call] = outcome(sinks[e.call], media);
      }
    }
    expect(peakRows).toBeGreaterThan(64);
    expect(peakRows).toBeLessThan(2 * CALLS);
    expect(rowsInUse()).toBe(before);
    for (let call = 0; call < CALLS; call++) {
      // What a call reports after it ended stays its own while its rows serve later calls.
      expect(outcome(sinks[call], medias[call] as CallMedia).stats).toEqual(ended[call].stats);
      expect(ended[call]).toEqual(alone[call]);
    }
    // The plan's reordering, duplicate, loss and digits all reached the statistics compared above.
    expect(alone[0].stats).toMatchObject([
      { packets: PACKETS - 1, lost: 1, duplicates: 1, reordered: 1, codec: 'pcmu' },
      { packets: PACKETS - 1, lost: 1, duplicates: 1 },
    ]);
    expect(alone[0].digits.length).toBe(1);
  });
});
