/**
 * Reads the call state a batch of queued datagrams will be handled with before handling any of them.
 *
 * With thousands of live calls, a call's state has left the CPU caches by the time its next packet comes (20 ms and
 * thousands of other calls later), and handling a packet walks a chain of it: the call_leg_id table's row, the
 * session, its latch and the latched address, the call's media, the leg, and the leg's pooled row, frame assembler
 * and decoder. Each link is found only once the one before has arrived from memory, so a packet waits for half a
 * dozen memory round trips one after another, and a packet's handling is too long for the CPU to overlap them
 * with the next packet's.
 *
 * Read in passes across the whole batch instead, the loads of a pass are independent of each other, and the CPU
 * keeps many of them in flight at once: the batch's chains arrive in about as many round trips as one chain has
 * links, and the handling that follows finds them in cache. Three passes: the sessions (by the same lookup the
 * handling makes, in IngestServer), then each session's media, leg and latched address, then the leg's state.
 * One pass per link measured no better with many calls and cost more with few: every pass has its own cost per
 * datagram. JavaScript has no prefetch instruction; a plain load whose value is summed into `checksum` does the
 * same.
 *
 * It only reads: whatever happens to a session between this and its datagram's turn (ended by a sink, replaced by
 * an announcement), the handling looks everything up again as before.
 */
import type { Leg } from '../media-sink.ts';
import type { IngestSession, LegStateReadAhead } from '../sessions/ingest-session.ts';

export class CallStateReadAhead {
  /** Per queue entry, the link of its chain a pass starts from: filled by add(), emptied as run() moves on. */
  private readonly sessions: (IngestSession | null)[];
  private readonly legStates: (LegStateReadAhead | null)[];
  private readonly legs: Uint8Array;
  /** Sum of every number read: kept in a field, so the compiler cannot drop the reads as unused. */
  checksum = 0;

  constructor(capacity: number) {
    this.sessions = new Array<IngestSession | null>(capacity).fill(null);
    this.legStates = new Array<LegStateReadAhead | null>(capacity).fill(null);
    this.legs = new Uint8Array(capacity);
  }

  /** Queue entry `i` is a datagram of `leg` of `session` (null: none found, nothing to read for it). */
  add(i: number, session: IngestSession | null, leg: Leg): void {
    this.sessions[i] = session;
    this.legs[i] = leg;
  }

  /** Reads the state of entries 0..count-1; returns how many legs' state it reached. */
  run(count: number): number {
    const { sessions, legStates, legs } = this;
    let sum = 0;
    for (let i = 0; i < count; i++) {
      const session = sessions[i];
      if (session === null) continue;
      sessions[i] = null;
      const leg = legs[i] as Leg;
      legStates[i] = session.media.legState(leg);
      sum += session.latch.readAhead(leg);
    }
    let reached = 0;
    for (let i = 0; i < count; i++) {
      const state = legStates[i];
      if (state === null) continue;
      legStates[i] = null;
      sum += state.readAhead();
      reached++;
    }
    this.checksum = sum;
    return reached;
  }
}
