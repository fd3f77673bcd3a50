import { describe, expect, it } from 'vitest';
import { ALAW_DECODE_TABLE, MULAW_DECODE_TABLE } from '../../../src/ingest/codecs/g711.ts';
import { createDecoder } from '../../../src/ingest/codecs/registry.ts';
import { DATAGRAM_STAGE, HELD_STAGE, stageDatagram } from '../../../src/ingest/datagram-stage.ts';
import { DECODE_WORK } from '../../../src/ingest/wasm-memory.ts';
import { randomBytes } from './signals.ts';

// A staged payload decoded into DECODE_WORK (the frame assemblers' decode space) is written there by the
// WebAssembly loop directly: the samples and the frame kept for concealment must equal a decode into a plain array.
describe('G.711 staged decoding into DECODE_WORK', () => {
  it('decodes exactly like the table and leaves the same concealment frame as a plain output', () => {
    for (const [codec, table] of [
      ['pcmu', MULAW_DECODE_TABLE],
      ['pcma', ALAW_DECODE_TABLE],
    ] as const) {
      const inPlace = createDecoder(codec);
      const plain = createDecoder(codec);
      const plainOut = new Int16Array(DECODE_WORK.length);
      const concealed = [new Int16Array(960), new Int16Array(960)];
      let seed = 11;
      for (const length of [160, 80, 240, 480, 960, 961, 1200, 1, 2, 7, 8, 9, 15, 16, 17, 159, 161, 0]) {
        for (const header of [12, 16, 36, 13]) {
          const datagram = randomBytes(header + length, seed++);
          expect(stageDatagram(datagram, 0, datagram.length)).toBe(0);
          DECODE_WORK.fill(0x5555);
          expect(inPlace.decode(DATAGRAM_STAGE, header, length, DECODE_WORK)).toBe(length);
          expect(plain.decode(datagram, header, length, plainOut)).toBe(length);
          for (let i = 0; i < length; i++) {
            const want = table[datagram[header + i]];
            if (DECODE_WORK[i] !== want || plainOut[i] !== want) {
              throw new Error(`${codec} length ${length} header ${header} sample ${i}: ${want} expected`);
            }
          }
          // Nothing past the payload's samples is written.
          expect(DECODE_WORK[length]).toBe(0x5555);
          if (length === 0) continue;
          inPlace.conceal(960, concealed[0]);
          plain.conceal(960, concealed[1]);
          expect(Array.from(concealed[0])).toEqual(Array.from(concealed[1]));
        }
      }
    }
  });

  it('decodes a held payload from HELD_STAGE like a plain output, and conceals from the packet decoded last', () => {
    for (const codec of ['pcmu', 'pcma'] as const) {
      const inPlace = createDecoder(codec);
      const plain = createDecoder(codec);
      const plainOut = new Int16Array(DECODE_WORK.length);
      const concealed = [new Int16Array(400), new Int16Array(400)];
      let seed = 101;
      // Sizes in turn, so a 20 ms packet kept as codes is followed by others kept as samples, and back.
      for (const length of [160, 240, 160, 160, 80, 160, 161, 160, 960, 160]) {
        for (const stage of ['datagram', 'held'] as const) {
          const payload = randomBytes(length, seed++);
          const datagram = new Uint8Array(36 + length);
          datagram.set(payload, 36);
          if (stage === 'held') HELD_STAGE.set(payload);
          else expect(stageDatagram(datagram, 0, datagram.length)).toBe(0);
          const source = stage === 'held' ? HELD_STAGE : DATAGRAM_STAGE;
          expect(inPlace.decode(source, stage === 'held' ? 0 : 36, length, DECODE_WORK)).toBe(length);
          expect(plain.decode(payload, 0, length, plainOut)).toBe(length);
          expect(Array.from(DECODE_WORK.subarray(0, length))).toEqual(
            Array.from(plainOut.subarray(0, length)),
          );
          // Part of the fade only, every other time: the next packet must start the repeat afresh either way.
          const span = seed % 2 === 0 ? 400 : 100;
          inPlace.conceal(span, concealed[0]);
          plain.conceal(span, concealed[1]);
          expect(Array.from(concealed[0])).toEqual(Array.from(concealed[1]));
        }
      }
    }
  });

  // The in-place path computes samples by formula, sixteen lanes at a time: every code in every lane.
  it('every code decodes like the table in every lane of a SIMD step', () => {
    for (const [codec, table] of [
      ['pcmu', MULAW_DECODE_TABLE],
      ['pcma', ALAW_DECODE_TABLE],
    ] as const) {
      const dec = createDecoder(codec);
      for (let shift = 0; shift < 16; shift++) {
        const datagram = new Uint8Array(12 + 256);
        for (let i = 0; i < 256; i++) datagram[12 + i] = (i * 17 + shift) & 0xff;
        expect(stageDatagram(datagram, 0, datagram.length)).toBe(0);
        expect(dec.decode(DATAGRAM_STAGE, 12, 256, DECODE_WORK)).toBe(256);
        for (let i = 0; i < 256; i++) expect(DECODE_WORK[i]).toBe(table[datagram[12 + i]]);
      }
    }
  });
});

describe('G.711 packets kept as codes', () => {
  // A retained datagram is decoded in place and only its codes are kept: a loss after it decodes them again into the
  // fade's source, which every decoder shares. Two decoders conceal in turn, frame by frame, so each finds the source
  // last written by the other.
  it('conceals like a plain decoder, frame by frame, with another decoder concealing in between', () => {
    for (const codec of ['pcmu', 'pcma'] as const) {
      const kept = [createDecoder(codec), createDecoder(codec)];
      const plain = [createDecoder(codec), createDecoder(codec)];
      const plainOut = new Int16Array(DECODE_WORK.length);
      let seed = 501;
      for (const length of [160, 80, 240, 161, 960, 33]) {
        for (const k of [0, 1]) {
          const datagram = randomBytes(12 + length, seed++);
          expect(stageDatagram(datagram, 0, datagram.length, true)).toBe(0);
          expect(kept[k].decode(DATAGRAM_STAGE, 12, length, DECODE_WORK)).toBe(length);
          expect(plain[k].decode(datagram, 12, length, plainOut)).toBe(length);
        }
        // 60 ms of fade in 20 ms pieces, the two decoders alternating, then nothing more to conceal.
        for (let piece = 0; piece < 4; piece++) {
          for (const k of [0, 1]) {
            const got = new Int16Array(160);
            const want = new Int16Array(160);
            const made = kept[k].conceal(160, got);
            expect(made).toBe(plain[k].conceal(160, want));
            expect(made).toBe(piece < 3 ? 160 : 0);
            expect(Array.from(got)).toEqual(Array.from(want));
          }
        }
      }
    }
  });
});

describe('G.711 decoder switching between staged and plain decoding', () => {
  // One decoder may see both: a 30 ms staged packet grows its concealment frame, and a later plain decode (a
  // datagram read from an unaligned large buffer) must keep it there, not in the array it replaced.
  it('conceals from the packet decoded last after the concealment frame grew', () => {
    for (const codec of ['pcmu', 'pcma'] as const) {
      const mixed = createDecoder(codec);
      const plain = createDecoder(codec);
      const out = new Int16Array(960);
      const concealed = [new Int16Array(480), new Int16Array(480)];
      const long = randomBytes(12 + 240, 7);
      expect(stageDatagram(long, 0, long.length)).toBe(0);
      expect(mixed.decode(DATAGRAM_STAGE, 12, 240, DECODE_WORK)).toBe(240);
      const payload = randomBytes(160, 8);
      expect(mixed.decode(payload, 0, 160, out)).toBe(160);
      expect(plain.decode(payload, 0, 160, out)).toBe(160);
      mixed.conceal(480, concealed[0]);
      plain.conceal(480, concealed[1]);
      expect(Array.from(concealed[0])).toEqual(Array.from(concealed[1]));
    }
  });
});
