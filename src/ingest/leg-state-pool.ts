/**
 * The per-packet state of every live leg, side by side in one memory: a row of LEG_ROW_BYTES per leg.
 *
 * A packet of a leg reads and writes a few dozen numbers: its sequence, timeline, jitter and playout state. As
 * fields of the leg's objects they were a dozen places in the heap (the objects, the boxes V8 keeps non-integer
 * fields in, the reorder ring's own 4 KiB block), on as many memory pages; with thousands of calls every one of
 * them has left the caches and the TLB by the time the leg's next packet comes, and each is fetched only after the
 * pointer leading to it. In a row they are adjacent cache lines on one page, fetched together, and the rows of all
 * legs together fit the second-level TLB (5,000 legs: 0.9 MiB).
 *
 * A row is three 64-byte cache lines, and starts on a line: the pool lives in a WebAssembly.Memory, whose buffer
 * starts on a page boundary, where an ArrayBuffer's backing store is only 16-byte aligned and a row would straddle
 * a fourth line three times in four. The row's owner reads it through three views of the same memory: doubles
 * (times, counts), 32-bit words (sequence numbers, payload types, the reorder ring) and bytes (flags); what each
 * offset holds is the owner's business (see leg-stream.ts).
 *
 * A row belongs to one holder (a LegStream) from takeRow until releaseRow, which gives the holder a private copy
 * to go on with (a leg read after its call ended) and the row back for the next leg. A holder dropped without
 * releaseRow gives its row back when it is collected. When rows run out the pool doubles into a new memory and
 * every holder is pointed at the new views, so a holder reads `rowState` afresh rather than keeping a view across a
 * call that could open a leg.
 */

import { OwnedSlots } from './owned-slots.ts';
import { WASM } from './wasm-memory.ts';

/** Bytes per row: three cache lines. */
export const LEG_ROW_BYTES = 192;
/** The same row in doubles, in 32-bit words. */
export const LEG_ROW_DOUBLES = LEG_ROW_BYTES / 8;
export const LEG_ROW_WORDS = LEG_ROW_BYTES / 4;
const PAGE_BYTES = 64 * 1024;

/** What a row's owner keeps: where its row is. Written by this module only. */
export interface LegStateHolder {
  rowState: Float64Array;
  /** rowState's memory as 32-bit words (the row's words start at rowBase * 2). */
  rowWords: Int32Array;
  /** rowState's memory as bytes (the row's bytes start at rowBase * 8). */
  rowBytes: Uint8Array;
  /** Index in rowState of the row's first number. */
  rowBase: number;
}

let memory = new WASM.Memory({ initial: 1 });
let pool = new Float64Array(memory.buffer);
let poolWords = new Int32Array(memory.buffer);
let poolBytes = new Uint8Array(memory.buffer);
/** The holder of each row handed out, weakly: a holder dropped without releaseRow is still collected. */
const holders: (WeakRef<LegStateHolder> | undefined)[] = [];
const rows = new OwnedSlots((row) => {
  holders[row] = undefined;
});

/** Gives `holder` a zeroed row of its own. */
export function takeRow(holder: LegStateHolder): void {
  const row = rows.take(holder);
  if ((row + 1) * LEG_ROW_BYTES > memory.buffer.byteLength) grow();
  const base = row * LEG_ROW_DOUBLES;
  pool.fill(0, base, base + LEG_ROW_DOUBLES);
  holder.rowState = pool;
  holder.rowWords = poolWords;
  holder.rowBytes = poolBytes;
  holder.rowBase = base;
  holders[row] = new WeakRef(holder);
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
  holder.rowBytes = new Uint8Array(own.buffer);
  holder.rowBase = 0;
  holders[row] = undefined;
  rows.release(holder, row);
}

/** Rows handed out and not given back (for tests and metrics). */
export function rowsInUse(): number {
  return rows.inUse;
}

/** Byte offset of the pool's first row in its memory's buffer modulo 64, for tests: 0 (rows start on a line). */
export function poolLineOffset(): number {
  return pool.byteOffset % 64;
}

function grow(): void {
  const previous = pool;
  // A new memory of twice the size, the rows copied over: growing the memory in place would detach its old buffer,
  // and the first detached buffer of a process makes V8 check every typed-array access in optimised code for
  // detachment from then on.
  memory = new WASM.Memory({ initial: (2 * memory.buffer.byteLength) / PAGE_BYTES });
  pool = new Float64Array(memory.buffer);
  pool.set(previous);
  poolWords = new Int32Array(memory.buffer);
  poolBytes = new Uint8Array(memory.buffer);
  for (let row = 0; row < rows.issued; row++) {
    const holder = holders[row]?.deref();
    if (holder !== undefined && holder.rowState === previous) {
      holder.rowState = pool;
      holder.rowWords = poolWords;
      holder.rowBytes = poolBytes;
    }
  }
}
