/**
 * Map keyed by a 128-bit call_leg_id held as four 32-bit words, so the per-packet STREP lookup needs no string
 * (building the UUID text per packet would allocate at every datagram).
 *
 * Open addressing with linear probing over flat arrays: a lookup reads one entry of `values` and one 16-byte key
 * row in `keys` (and their neighbours on a collision, usually the same cache lines). With a thousand calls on one
 * socket every lookup is a cache miss; a Map of buckets of entry objects costs three or four dependent misses
 * per packet (table, bucket array, its elements, the entry), this costs two. A row's state is its entry in
 * `values` (undefined: empty; TOMBSTONE: deleted), not a byte in an array of its own, which was a third line per
 * lookup. The words are compared in full, so ids whose mixes collide stay distinct. Deleted rows become tombstones
 * until the next rebuild.
 */

/** The value of a deleted row: probes go on past it, unlike past an empty (undefined) one. */
const TOMBSTONE: unique symbol = Symbol('deleted');
const INITIAL_CAPACITY = 64;

function mix(w0: number, w1: number, w2: number, w3: number): number {
  // UUIDs are mostly random already; the multiply spreads structured ids (e.g. sequential test ids) too.
  return (Math.imul(w0 ^ w2, 0x9e3779b1) ^ Math.imul(w1 ^ w3, 0x85ebca77)) | 0;
}

/** Values are never undefined: that marks an empty row. */
export class LegIdMap<V extends NonNullable<unknown>> {
  size = 0;
  private capacity = INITIAL_CAPACITY;
  private mask = INITIAL_CAPACITY - 1;
  /** Rows that hold a value or a tombstone: probes stop only at empty rows, so both count towards the load. */
  private used = 0;
  private keys = new Int32Array(INITIAL_CAPACITY * 4);
  private values: (V | typeof TOMBSTONE | undefined)[] = new Array(INITIAL_CAPACITY).fill(undefined);

  get(w0: number, w1: number, w2: number, w3: number): V | undefined {
    const row = this.find(w0 | 0, w1 | 0, w2 | 0, w3 | 0);
    return row < 0 ? undefined : (this.values[row] as V);
  }

  set(w0: number, w1: number, w2: number, w3: number, value: V): void {
    w0 |= 0;
    w1 |= 0;
    w2 |= 0;
    w3 |= 0;
    const found = this.find(w0, w1, w2, w3);
    if (found >= 0) {
      this.values[found] = value;
      return;
    }
    if ((this.used + 1) * 2 > this.capacity) this.rebuild(this.size + 1);
    const values = this.values;
    const mask = this.mask;
    // Reuse the first tombstone on the probe path, else the empty row that ended it.
    let row = mix(w0, w1, w2, w3) & mask;
    for (let v = values[row]; v !== undefined && v !== TOMBSTONE; v = values[row]) row = (row + 1) & mask;
    if (values[row] === undefined) this.used++;
    const k = row << 2;
    this.keys[k] = w0;
    this.keys[k + 1] = w1;
    this.keys[k + 2] = w2;
    this.keys[k + 3] = w3;
    this.values[row] = value;
    this.size++;
  }

  delete(w0: number, w1: number, w2: number, w3: number): boolean {
    const row = this.find(w0 | 0, w1 | 0, w2 | 0, w3 | 0);
    if (row < 0) return false;
    this.values[row] = TOMBSTONE;
    this.size--;
    return true;
  }

  forEach(visit: (w0: number, w1: number, w2: number, w3: number, value: V) => void): void {
    const { keys, values } = this;
    for (let row = 0; row < values.length; row++) {
      const value = values[row];
      if (value === undefined || value === TOMBSTONE) continue;
      const k = row << 2;
      visit(keys[k], keys[k + 1], keys[k + 2], keys[k + 3], value);
    }
  }

  clear(): void {
    this.values.fill(undefined);
    this.size = 0;
    this.used = 0;
  }

  /** Row holding the key, or -1. Keys are int32 (callers pass `| 0` words). */
  private find(w0: number, w1: number, w2: number, w3: number): number {
    const values = this.values;
    const keys = this.keys;
    const mask = this.mask;
    let row = mix(w0, w1, w2, w3) & mask;
    // The load stays at most one half, so an empty row always ends the probe.
    for (;;) {
      const value = values[row];
      if (value === undefined) return -1;
      if (value !== TOMBSTONE) {
        const k = row << 2;
        if (keys[k] === w0 && keys[k + 1] === w1 && keys[k + 2] === w2 && keys[k + 3] === w3) return row;
      }
      row = (row + 1) & mask;
    }
  }

  /** Re-inserts every live key into a table sized for `needed` keys at most one quarter full (drops tombstones). */
  private rebuild(needed: number): void {
    let capacity = INITIAL_CAPACITY;
    while (capacity < needed * 4) capacity *= 2;
    const { keys, values } = this;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.keys = new Int32Array(capacity * 4);
    this.values = new Array(capacity).fill(undefined);
    this.size = 0;
    this.used = 0;
    for (let row = 0; row < values.length; row++) {
      const value = values[row];
      if (value === undefined || value === TOMBSTONE) continue;
      const k = row << 2;
      this.set(keys[k], keys[k + 1], keys[k + 2], keys[k + 3], value);
    }
  }
}
