/**
 * Reads the call state a batch of queued datagrams will be handled with before handling any of them.
 *
 * With thousands of live calls, a call's state has left the CPU caches by the time its next packet comes (20 ms and
 * thousands of other calls later), and handling a packet walks a chain of it: the call_leg_id table's row, the
 * session (which is also the leg latch), the call's media, the leg, and the leg's pooled row (its frame position
 * among it), decoder and sink. Each link is found only once the one before has arrived from memory, so a packet waits
 * for half a dozen memory round trips one after another, and a packet's handling is too long for the CPU to overlap
 * them with the next packet's.
 *
 * Read in passes across the whole batch instead, the loads of a pass are independent of each other, and the CPU
 * keeps many of them in flight at once: the batch's chains arrive in about as many round trips as one chain has
 * links, and the handling that follows finds them in cache. Three passes: the sessions (by the same lookup the
 * handling makes, in IngestServer), then each session's media and leg, then the leg's state.
 * One pass per link measured no better with many calls and cost more with few: every pass has its own cost per
 * datagram. JavaScript has no prefetch instruction; a plain load whose value is summed into `checksum` does the
 * same.
 *
 * It only reads. The sessions the first pass finds are also what the handling starts from (IngestServer), unless one
 * has ended by its datagram's turn (a sink can end a call): then the datagram's session is looked up again.
 */
import type { Leg } from '../media-sink.ts';
import type { IngestSession, LegStateReadAhead } from '../sessions/ingest-session.ts';

export class CallStateReadAhead {
  /** Per batch entry, the leg state found by the first pass for the second. */
  private readonly legStates: (LegStateReadAhead | null)[];
  /** Sum of every number read: kept in a field, so the compiler cannot drop the reads as unused. */
  checksum = 0;

  constructor(capacity: number) {
    this.legStates = new Array<LegStateReadAhead | null>(capacity).fill(null);
  }

  /**
   * Reads the state of the datagrams of `sessions[0..count)` (null: no live session found, nothing to read), each of
   * leg `legs[i]`; returns how many legs' state it reached. `sessions` is the caller's and is left as it is.
   */
  run(sessions: readonly (IngestSession | null)[], legs: Uint8Array, count: number): number {
    const legStates = this.legStates;
    let sum = 0;
    for (let i = 0; i < count; i++) {
      const session = sessions[i];
      if (session === null) {
        // Whatever an earlier run left here (it stopped on a fault) is not this entry's.
        legStates[i] = null;
        continue;
      }
      const leg = legs[i] as Leg;
      // The session's own line, which the latch check reads too (the session is its latch), arrives with `media`.
      legStates[i] = session.media.legState(leg);
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
