import { describe, expect, it } from 'vitest';
import { CallMedia } from '../../../src/ingest/call-media.ts';
import {
  releaseRetainedSlot,
  retainDatagram,
  retainedDatagram,
  retainedSlotsInUse,
  takeRetainedSlot,
} from '../../../src/ingest/retained-datagrams.ts';
import { pcmuPayload, RecordingSink, rtpPacket } from './stream-helpers.ts';

describe('retained datagrams', () => {
  it('gives each owner a slot of its own, keeps what is put there, and hands a released slot out again', () => {
    const before = retainedSlotsInUse();
    const owners = [{}, {}, {}];
    const slots = owners.map((owner) => takeRetainedSlot(owner));
    expect(new Set(slots).size).toBe(3);
    expect(retainedSlotsInUse()).toBe(before + 3);
    const bytes = slots.map((_, i) => new Uint8Array([i]));
    for (let i = 0; i < slots.length; i++) {
      expect(retainedDatagram(slots[i])).toBeNull();
      retainDatagram(slots[i], bytes[i]);
    }
    for (let i = 0; i < slots.length; i++) expect(retainedDatagram(slots[i])).toBe(bytes[i]);
    releaseRetainedSlot(owners[1], slots[1]);
    expect(retainedSlotsInUse()).toBe(before + 2);
    // The slot comes back empty, to the next owner, and the others keep theirs.
    const next = takeRetainedSlot({});
    expect(next).toBe(slots[1]);
    expect(retainedDatagram(next)).toBeNull();
    expect(retainedDatagram(slots[0])).toBe(bytes[0]);
    expect(retainedDatagram(slots[2])).toBe(bytes[2]);
    for (const [owner, slot] of [
      [owners[0], slots[0]],
      [owners[2], slots[2]],
    ] as const) {
      releaseRetainedSlot(owner, slot);
    }
    expect(retainedSlotsInUse()).toBe(before + 1);
  });

  it('are let go when a call ends: its G.711 decoders give their slots back', () => {
    const before = retainedSlotsInUse();
    const calls = [0, 1, 2].map(() => new CallMedia(new RecordingSink(), { retainedDatagrams: true }));
    for (let n = 0; n < 5; n++) {
      for (const media of calls) {
        for (const leg of [0, 1] as const) {
          const packet = rtpPacket({ sequence: n, timestamp: n * 160, payload: pcmuPayload(1000 + n) });
          expect(media.pushPacket(leg, packet, 0, packet.length, 1000 + n * 20)).toBe(0);
        }
      }
    }
    // One PCMU decoder per leg keeps its last datagram.
    expect(retainedSlotsInUse()).toBe(before + 6);
    calls[1].end();
    expect(retainedSlotsInUse()).toBe(before + 4);
    for (const media of calls) media.end();
    expect(retainedSlotsInUse()).toBe(before);
  });
});
