/**
 * Re-frames decoded audio of any packet size (10/20/30/60 ms or odd Opus durations) into the canonical 20 ms
 * frames the sink expects, numbering them on the call media timeline. Position is counted in 8 kHz samples from
 * call media time zero, so `position` is where the next written sample lands.
 */
// Where a whole concealed frame is written on its way to the sink (sinks read it during pushFrame only): one frame
// every leg finds in cache, where the leg's own frame, idle since its last partial packet, was five cold lines to
// fetch before writing over them; and the WebAssembly fade writes it in place.
import { CONCEAL_FRAME } from '../codecs/conceal-wasm.ts';
import type { PayloadDecoder } from '../codecs/decoder.ts';
import { FRAME_SAMPLES, type Leg, type MediaSink } from '../media-sink.ts';
import { DECODE_WORK } from '../wasm-memory.ts';

/** Decode space: any decoder output (<= 120 ms at 8 kHz, with room) lands here. */
const WORK_SAMPLES = DECODE_WORK.length;

/**
 * Decoder output is handed to the sink or copied onto the timeline before the call returns, and holds nothing
 * between packets, so every assembler (two per call) shares these: the sink a frame goes to reads it during
 * pushFrame and never feeds packets back into ingest.
 * - SHARED_WORK: where a packet that starts on a frame boundary decodes; its whole frames go to the sink from
 *   SHARED_FRAME (its start) without a copy into the leg's frame. It lies in WebAssembly memory (DECODE_WORK), so
 *   the G.711 decoder writes a staged packet's samples there directly.
 * - SHARED_SCRATCH: where a packet decodes that must be appended to a partly filled frame (or skip samples).
 */
const SHARED_WORK = DECODE_WORK;
const SHARED_FRAME = SHARED_WORK.subarray(0, FRAME_SAMPLES);
const SHARED_SCRATCH = new Int16Array(WORK_SAMPLES);
/**
 * One frame of digital silence handed to the sink for every whole silent frame of a gap (sinks read frames and
 * never write them, as with SHARED_FRAME). A lossy leg fills most of its timeline with silence: writing 160 zeros
 * per frame was the largest cost of a leg that loses nine packets in ten.
 */
const SILENT_FRAME = new Int16Array(FRAME_SAMPLES);

/**
 * Where an assembler's position lives: two 32-bit words of `rowWords` from word 2 * rowBase + `at` on, the index of
 * the frame being filled, then how many of its samples are filled. A leg keeps them in its pooled row (see
 * leg-state-pool.ts), beside the rest of what its packets read, so that the common packet (a whole 20 ms on a
 * frame boundary) is placed by decodeOnTimeline without reading the assembler object, one cold cache line less per
 * packet with thousands of calls.
 */
export interface FramePositionRow {
  rowWords: Int32Array;
  rowBase: number;
}
const FRAME_INDEX_WORD = 0;
const FILL_WORD = 1;
/** Words a FramePositionRow needs at its offset. */
export const FRAME_POSITION_WORDS = 2;

/** The position in 8 kHz samples from call media time zero kept at `row`/`at`: where the next sample lands. */
export function framePositionOf(row: FramePositionRow, at: number): number {
  const w = 2 * row.rowBase + at;
  return row.rowWords[w + FRAME_INDEX_WORD] * FRAME_SAMPLES + row.rowWords[w + FILL_WORD];
}

/**
 * Hands the complete frame in `samples` to `sink` as the frame at `row`/`at`, and moves the position to the start of
 * the next frame. State first: a sink that throws must not make the same frame index come out twice. The row is
 * read afresh at every call: a sink may open a call (the pool moves) or end this one (the leg takes a copy of its
 * row), so a caller handing over several frames must not keep an offset across them.
 */
function pushNextFrame(
  row: FramePositionRow,
  at: number,
  sink: MediaSink,
  leg: Leg,
  samples: Int16Array,
): void {
  const w = 2 * row.rowBase + at;
  const words = row.rowWords;
  const index = words[w + FRAME_INDEX_WORD];
  words[w + FRAME_INDEX_WORD] = index + 1;
  words[w + FILL_WORD] = 0;
  sink.pushFrame(leg, index, samples);
}

/**
 * Decodes one payload onto the timeline of `assembler`, dropping its first `skip` samples (overlap with audio
 * already written); returns the decoder's sample count. On a frame boundary the decoder writes straight into the
 * frame the sink sees, so the common 20 ms packet costs no copy, and the assembler object is not read at all:
 * `row`/`at` (its position), `sink` and `leg` are what the caller keeps of it (the same as the assembler's own).
 */
export function decodeOnTimeline(
  assembler: FrameAssembler,
  row: FramePositionRow,
  at: number,
  sink: MediaSink,
  leg: Leg,
  decoder: PayloadDecoder,
  payload: Uint8Array,
  offset: number,
  length: number,
  skip: number,
): number {
  if (row.rowWords[2 * row.rowBase + at + FILL_WORD] !== 0 || skip !== 0) {
    const count = decoder.decode(payload, offset, length, SHARED_SCRATCH);
    if (skip < count) assembler.write(SHARED_SCRATCH, skip, count);
    return count;
  }
  const work = SHARED_WORK;
  const count = decoder.decode(payload, offset, length, work);
  let done = 0;
  while (count - done >= FRAME_SAMPLES) {
    if (done > 0) work.copyWithin(0, done, done + FRAME_SAMPLES);
    pushNextFrame(row, at, sink, leg, SHARED_FRAME);
    done += FRAME_SAMPLES;
  }
  // A part frame left over (packets that are not whole 20 ms) waits in the leg's own frame.
  if (done < count) assembler.write(work, done, count);
  return count;
}

export class FrameAssembler {
  /** This leg's frame being filled: the samples it holds wait here between packets. */
  private readonly frame = new Int16Array(FRAME_SAMPLES);
  private noiseState = 0x2545f491;
  private readonly row: FramePositionRow;
  private readonly at: number;

  /**
   * `row` and `at`: where the position lives (see FramePositionRow); by default in two words of the assembler's
   * own.
   */
  constructor(
    private readonly leg: Leg,
    private readonly sink: MediaSink,
    row?: FramePositionRow,
    at = 0,
  ) {
    this.row = row ?? { rowWords: new Int32Array(FRAME_POSITION_WORDS), rowBase: 0 };
    this.at = at;
  }

  /** Samples of the frame being filled. Read from the row afresh: the pool may have moved it. */
  private get fill(): number {
    return this.row.rowWords[2 * this.row.rowBase + this.at + FILL_WORD];
  }
  private set fill(value: number) {
    this.row.rowWords[2 * this.row.rowBase + this.at + FILL_WORD] = value;
  }

  get position(): number {
    return framePositionOf(this.row, this.at);
  }

  /**
   * Writes up to `count` samples of the decoder's loss concealment; returns how many it produced. The decoder
   * writes where the samples go without a copy: a whole frame into CONCEAL_FRAME, which goes to the sink as it is,
   * a part frame into the leg's frame. A leg losing most of its packets conceals a burst after nearly every packet
   * it gets, and a copy through scratch space was a quarter of that cost.
   */
  writeConcealed(decoder: PayloadDecoder, count: number): number {
    const frame = this.frame;
    let left = count;
    while (left > 0) {
      const fill = this.fill;
      if (fill === 0 && left >= FRAME_SAMPLES) {
        const made = decoder.conceal(FRAME_SAMPLES, CONCEAL_FRAME, 0);
        if (made <= 0) break;
        left -= made;
        if (made === FRAME_SAMPLES) {
          this.emit(CONCEAL_FRAME);
        } else {
          // The fade ended inside the frame: what it made starts the leg's frame, the caller fills the rest.
          for (let k = 0; k < made; k++) frame[k] = CONCEAL_FRAME[k];
          this.fill = made;
        }
        continue;
      }
      const room = FRAME_SAMPLES - fill;
      const made = decoder.conceal(Math.min(left, room), frame, fill);
      if (made <= 0) break;
      left -= made;
      this.fill = fill + made;
      if (this.fill === FRAME_SAMPLES) this.emit(frame);
    }
    return count - left;
  }

  write(samples: Int16Array, start: number, end: number): void {
    const frame = this.frame;
    let i = start;
    while (i < end) {
      let fill = this.fill;
      const room = FRAME_SAMPLES - fill;
      const take = Math.min(end - i, room);
      for (let k = 0; k < take; k++) frame[fill + k] = samples[i + k];
      i += take;
      fill += take;
      this.fill = fill;
      if (fill === FRAME_SAMPLES) this.emit(frame);
    }
  }

  /** Writes `count` samples of digital silence. */
  writeSilence(count: number): void {
    this.writeNoise(count, 0);
  }

  /**
   * Writes `count` samples of uniform white noise with the given RMS (0 = digital silence). Comfort noise is
   * audible as a low floor, which keeps level/VAD features honest about a line that is open but quiet.
   */
  writeNoise(count: number, rms: number): void {
    const frame = this.frame;
    const amplitude = rms * 1.7320508; // uniform on [-a, a] has RMS a / sqrt(3)
    let state = this.noiseState;
    let left = count;
    while (left > 0) {
      let fill = this.fill;
      const room = FRAME_SAMPLES - fill;
      const take = Math.min(left, room);
      if (amplitude === 0) {
        if (take === FRAME_SAMPLES) {
          this.emit(SILENT_FRAME);
          left -= take;
          continue;
        }
        frame.fill(0, fill, fill + take);
      } else {
        for (let k = 0; k < take; k++) {
          // xorshift32: cheap, allocation-free, deterministic per leg.
          state ^= state << 13;
          state ^= state >>> 17;
          state ^= state << 5;
          frame[fill + k] = Math.round(((state >>> 0) / 4294967296 - 0.5) * 2 * amplitude);
        }
      }
      left -= take;
      fill += take;
      this.fill = fill;
      if (fill === FRAME_SAMPLES) this.emit(frame);
    }
    this.noiseState = state;
  }

  /** Completes a partly filled frame with silence so the last frame index is emitted too. */
  finish(): void {
    if (this.fill > 0) this.writeSilence(FRAME_SAMPLES - this.fill);
  }

  /** Hands the complete frame in `samples` (the leg's frame, or a shared one) to the sink. */
  private emit(samples: Int16Array): void {
    pushNextFrame(this.row, this.at, this.sink, this.leg, samples);
  }
}
