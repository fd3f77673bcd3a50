/**
 * The per-packet state of every live leg, side by side in one Float64Array: a row of LEG_ROW_DOUBLES per leg.
 *
 * A packet of a leg reads and writes a few dozen numbers: its sequence, timeline, jitter and playout state. As
 * fields of the leg's objects they were a dozen places in the heap (the objects, the boxes V8 keeps non-integer
 * fields in, the reorder ring's own 4 KiB block), on as many memory pages; with thousands of calls every one of
 * them has left the caches and the TLB by the time the leg's next packet comes, and each is fetched only after the
 * pointer leading to it. In a row they are a few adjacent cache lines on one page, fetched together, and the rows
 * of all legs together fit the second-level TLB (5,000 legs: 1.9 MiB).
 *
 * A row belongs to one holder (a LegStream) from takeRow until releaseRow, which gives the holder a private copy
 * to go on with (a leg read after its call ended) and the row back for the next leg. A holder dropped without
 * releaseRow gives its row back when it is collected. When rows run out the pool doubles: every holder is then
 * pointed at the new array, so a holder reads `rowState` afresh rather than keeping the array across a call that
 * could open a leg.
 */

/** Numbers per row: LegStream's fields, then its 16-slot sequence ring as 32-bit words (see leg-stream.ts). */
export const LEG_ROW_DOUBLES = 48;
const INITIAL_ROWS = 64;

/** What a row's owner keeps: where its row is. Written by this module only. */
export interface LegStateHolder {
  rowState: Float64Array;
  /** rowState's buffer as 32-bit words (the row's doubles start at word rowBase * 2). */
  rowWords: Int32Array;
  /** Index in rowState of the row's first number. */
  rowBase: number;
}

let pool = new Float64Array(INITIAL_ROWS * LEG_ROW_DOUBLES);
let poolWords = new Int32Array(pool.buffer);
/** Rows never handed out start at `fresh`; rows given back wait in `freeRows`. */
let fresh = 0;
const freeRows: number[] = [];
/** The holder of each row handed out, weakly: a holder dropped without releaseRow is still collected. */
const holders: (WeakRef<LegStateHolder> | undefined)[] = [];

const collected = new FinalizationRegistry<number>((row) => {
  holders[row] = undefined;
  freeRows.push(row);
});

/** Gives `holder` a zeroed row of its own. */
export function takeRow(holder: LegStateHolder): void {
  let row = freeRows.pop();
  if (row === undefined) {
    if ((fresh + 1) * LEG_ROW_DOUBLES > pool.length) grow();
    row = fresh++;
  }
  const base = row * LEG_ROW_DOUBLES;
  pool.fill(0, base, base + LEG_ROW_DOUBLES);
  holder.rowState = pool;
  holder.rowWords = poolWords;
  holder.rowBase = base;
  holders[row] = new WeakRef(holder);
  collected.register(holder, row, holder);
}

/**
 * Gives the holder's row back. The holder goes on with a private copy of it, so reading it later (or even using it)
 * stays correct; it just no longer shares the pool. Does nothing for a holder that holds no pooled row.
 */
export function releaseRow(holder: LegStateHolder): void {
  if (holder.rowState !== pool) return;
  const base = holder.rowBase;
  const row = base / LEG_ROW_DOUBLES;
  const own = pool.slice(base, base + LEG_ROW_DOUBLES);
  holder.rowState = own;
  holder.rowWords = new Int32Array(own.buffer);
  holder.rowBase = 0;
  collected.unregister(holder);
  holders[row] = undefined;
  freeRows.push(row);
}

/** Rows handed out and not given back (for tests and metrics). */
export function rowsInUse(): number {
  return fresh - freeRows.length;
}

function grow(): void {
  const next = new Float64Array(pool.length * 2);
  next.set(pool);
  const nextWords = new Int32Array(next.buffer);
  const previous = pool;
  pool = next;
  poolWords = nextWords;
  for (let row = 0; row < fresh; row++) {
    const holder = holders[row]?.deref();
    if (holder !== undefined && holder.rowState === previous) {
      holder.rowState = next;
      holder.rowWords = nextWords;
    }
  }
}
