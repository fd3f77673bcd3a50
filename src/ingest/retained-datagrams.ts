/**
 * The datagrams G.711 decoders keep to conceal a loss from (see G711Decoder.decodeRetainedInPlace), in one table:
 * each decoder that keeps one has a slot of its own.
 *
 * A decoder used to keep its last datagram in a field of its own. dgram's Buffer is young and the decoder old, so
 * every packet's store went through V8's write barrier into the remembered set of the decoder's page: with
 * thousands of calls the decoders lie on hundreds of pages, and the barrier read a cold page header and a cold
 * remembered-set bucket for every packet (3.5 % of the receiver's CPU at 2,000 real-time calls, by `perf record`).
 * Stored into one array, every packet's barrier finds the same page's, in cache.
 */

import { OwnedSlots } from './owned-slots.ts';

const datagrams: (Uint8Array | null)[] = [];
/** A decoder dropped without releasing its slot (a call nobody ended) still gives it back when collected. */
const slots = new OwnedSlots((slot) => {
  datagrams[slot] = null;
});

/** A slot of `owner`'s own, empty, until releaseRetainedSlot or until the owner is collected. */
export function takeRetainedSlot(owner: object): number {
  const slot = slots.take(owner);
  if (slot === datagrams.length) datagrams.push(null);
  return slot;
}

/** Drops the slot's datagram and gives the slot back; `owner` must be the one that took it. */
export function releaseRetainedSlot(owner: object, slot: number): void {
  datagrams[slot] = null;
  slots.release(owner, slot);
}

/** Keeps `bytes` (or nothing, for null) in the slot. */
export function retainDatagram(slot: number, bytes: Uint8Array | null): void {
  datagrams[slot] = bytes;
}

/** The datagram kept in the slot, or null. */
export function retainedDatagram(slot: number): Uint8Array | null {
  return datagrams[slot];
}

/** Slots taken and not given back (for tests). */
export function retainedSlotsInUse(): number {
  return slots.inUse;
}
