/**
 * When each live session next needs the sweep, in one compact array, so that the sweep visits only those sessions.
 *
 * The sweep runs every 20 ms for reorder deadlines, idle legs and idle sessions. A call whose packets flow in
 * order has none of these, yet visiting it read the session, its media, both legs and their rows: half a dozen
 * objects that had left the CPU caches since the call's last packet, for every call, fifty times a second. With
 * thousands of calls that was a tenth of ingest's time per packet (measured in process). Here the sweep reads two
 * numbers per session from an array that stays in cache, and visits a session only once one of them has come.
 *
 * Each leg writes its own number (rx at 2 * slot, tx at 2 * slot + 1) after each packet and each flush: the
 * earliest time at which a flush could have work for it, or at which the session could have gone idle because
 * of it. A time earlier than that is always safe (the visit finds nothing to do and the leg writes again); a later
 * one would delay media or an idle end, so a leg that cannot tell writes -Infinity (every sweep).
 */

/** Times per slot: one per leg. */
const SLOT_TIMES = 2;
const INITIAL_SLOTS = 64;

export class FlushSchedule {
  /**
   * Per slot, the time from which each leg needs the sweep (Infinity for a free slot). Replaced by a larger array
   * when slots run out: writers read it from here at every write rather than keep it.
   */
  due = new Float64Array(INITIAL_SLOTS * SLOT_TIMES).fill(Number.POSITIVE_INFINITY);
  /**
   * The longest a leg's packet can keep its session from the sweep: the owner's idle time, so that an idle end is
   * never later for a leg having written a time further off.
   */
  readonly horizonMs: number;
  /** Slots handed out so far, live or free: the sweep looks at slots below this. */
  private top = 0;
  private readonly freeSlots: number[] = [];

  constructor(horizonMs = Number.POSITIVE_INFINITY) {
    this.horizonMs = horizonMs;
  }

  get slotCount(): number {
    return this.top;
  }

  /** A slot for a new session, both of its legs due at `dueMs` (when the session would be idle without packets). */
  take(dueMs: number): number {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      if ((this.top + 1) * SLOT_TIMES > this.due.length) this.grow();
      slot = this.top++;
    }
    this.due[dueIndex(slot, 0)] = dueMs;
    this.due[dueIndex(slot, 1)] = dueMs;
    return slot;
  }

  /** Frees a session's slot for the next; its legs' later writes (none are expected) land on a free slot. */
  release(slot: number): void {
    this.due[dueIndex(slot, 0)] = Number.POSITIVE_INFINITY;
    this.due[dueIndex(slot, 1)] = Number.POSITIVE_INFINITY;
    this.freeSlots.push(slot);
  }

  /** Whether the session in `slot` needs the sweep at `nowMs`. */
  isDue(slot: number, nowMs: number): boolean {
    const due = this.due;
    return due[dueIndex(slot, 0)] <= nowMs || due[dueIndex(slot, 1)] <= nowMs;
  }

  private grow(): void {
    const grown = new Float64Array(this.due.length * 2).fill(Number.POSITIVE_INFINITY);
    grown.set(this.due);
    this.due = grown;
  }
}

/** A session's place in its owner's schedule, as the owner hands it to the session's media and on to its legs. */
export interface FlushSlot {
  schedule: FlushSchedule;
  slot: number;
}

/** The index in `due` where leg `leg` of `slot` writes. */
export function dueIndex(slot: number, leg: 0 | 1): number {
  return slot * SLOT_TIMES + leg;
}

/**
 * Where legs without a sweeping owner write (a CallMedia used on its own, whose owner calls flush itself): a slot
 * nothing reads.
 */
const UNSWEPT = new FlushSchedule();
export const UNSWEPT_SLOT: FlushSlot = { schedule: UNSWEPT, slot: UNSWEPT.take(Number.POSITIVE_INFINITY) };
