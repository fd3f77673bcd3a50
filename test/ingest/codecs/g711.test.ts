import { describe, expect, it } from 'vitest';
import {
  ALAW_DECODE_TABLE,
  aLawToLinear,
  linearToALaw,
  linearToMuLaw,
  MULAW_DECODE_TABLE,
  muLawToLinear,
} from '../../../src/ingest/codecs/g711.ts';
import { createDecoder, createEncoder } from '../../../src/ingest/codecs/registry.ts';
import { DATAGRAM_STAGE, stageDatagram } from '../../../src/ingest/datagram-stage.ts';
import { randomBytes } from './signals.ts';
import { ALAW, SIGNED16, soxAvailable, soxConvert, ULAW } from './sox.ts';

const allCodes = new Uint8Array(256).map((_, i) => i);

/** Every 16-bit value once, ascending: the full ramp. */
function fullRamp(): Int16Array {
  const r = new Int16Array(65536);
  for (let i = 0; i < 65536; i++) r[i] = i - 32768;
  return r;
}

function asInt16(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = bytes[2 * i] | (bytes[2 * i + 1] << 8);
  return out;
}

function le16(pcm: Int16Array): Uint8Array {
  return new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
}

describe.skipIf(!soxAvailable())('G.711 against sox', () => {
  for (const [name, fmt, table] of [
    ['mu-law', ULAW, MULAW_DECODE_TABLE],
    ['A-law', ALAW, ALAW_DECODE_TABLE],
  ] as const) {
    it(`${name}: decode table equals sox for all 256 codes`, () => {
      const ref = asInt16(soxConvert(allCodes, fmt, SIGNED16));
      expect(Array.from(table)).toEqual(Array.from(ref));
    });
  }

  // sox rounds the 16-bit sample to 14 (mu) / 13 (A) bits to nearest before quantising; G.711 (G.191, g711.c)
  // truncates. The relation below is exact for all 65 536 inputs, and the two agree everywhere else.
  it('mu-law: encode equals sox on every 16-bit input, up to sox rounding (x+2)', () => {
    const ramp = fullRamp();
    const ref = soxConvert(le16(ramp), SIGNED16, ULAW);
    let same = 0;
    let mismatches = 0;
    for (let i = 0; i < 65536; i++) {
      const x = ramp[i];
      if (ref[i] !== linearToMuLaw(Math.min(32767, x + 2))) mismatches++;
      if (ref[i] === linearToMuLaw(x)) same++;
    }
    expect(mismatches).toBe(0);
    // Only inputs within 2 LSB below a decision level differ.
    expect(65536 - same).toBeLessThan(600);
  });

  it('A-law: encode equals sox on every 16-bit input, up to sox rounding (x+4)', () => {
    const ramp = fullRamp();
    const ref = soxConvert(le16(ramp), SIGNED16, ALAW);
    let same = 0;
    let mismatches = 0;
    for (let i = 0; i < 65536; i++) {
      const x = ramp[i];
      if (ref[i] !== linearToALaw(Math.min(32767, x + 4))) mismatches++;
      if (ref[i] === linearToALaw(x)) same++;
    }
    expect(mismatches).toBe(0);
    expect(65536 - same).toBeLessThan(1100);
  });

  it('decodes a sox-encoded sine identically to sox', () => {
    const pcm = new Int16Array(8000);
    for (let i = 0; i < pcm.length; i++)
      pcm[i] = Math.round(20000 * Math.sin((2 * Math.PI * 440 * i) / 8000));
    for (const [codec, fmt] of [
      ['pcmu', ULAW],
      ['pcma', ALAW],
    ] as const) {
      const encoded = soxConvert(le16(pcm), SIGNED16, fmt);
      const ref = asInt16(soxConvert(encoded, fmt, SIGNED16));
      const dec = createDecoder(codec);
      const out = new Int16Array(960);
      for (let p = 0; p < encoded.length; p += 160) {
        expect(dec.decode(encoded, p, 160, out)).toBe(160);
        for (let i = 0; i < 160; i++) expect(out[i]).toBe(ref[p + i]);
      }
    }
  });
});

describe('G.711 against wavefile (second, independent decoder)', () => {
  it('decode tables equal wavefile for all 256 codes of both laws', async () => {
    // wavefile's encoders round differently at some segment boundaries, so only its decoders are a reference.
    const mulaw = (await import('wavefile/lib/codecs/mulaw.js' as string)) as {
      decodeSample(c: number): number;
    };
    const alaw = (await import('wavefile/lib/codecs/alaw.js' as string)) as {
      decodeSample(c: number): number;
    };
    // `+ 0` folds wavefile's -0 (negated zero of mu-law code 0x7f) into 0, as an Int16Array store would.
    for (let c = 0; c < 256; c++) {
      expect(muLawToLinear(c)).toBe(mulaw.decodeSample(c) + 0);
      expect(aLawToLinear(c)).toBe(alaw.decodeSample(c) + 0);
    }
  });
});

describe('G.711 self-consistency', () => {
  it('encode(decode(code)) is the identity, except the two zero codes of mu-law', () => {
    for (let c = 0; c < 256; c++) {
      expect(linearToALaw(aLawToLinear(c))).toBe(c);
      // mu-law has +0 (0xff) and -0 (0x7f); both decode to 0, which encodes as 0xff.
      if (c !== 0x7f) expect(linearToMuLaw(muLawToLinear(c))).toBe(c);
    }
    expect(linearToMuLaw(0)).toBe(0xff);
  });

  it('decoded values are monotonic in the code magnitude and within range', () => {
    expect(muLawToLinear(0x00)).toBe(-32124);
    expect(muLawToLinear(0x80)).toBe(32124);
    expect(aLawToLinear(0xaa)).toBe(32256);
    expect(aLawToLinear(0x2a)).toBe(-32256);
  });

  it('encoder payloads decode back within the quantisation step', () => {
    const pcm = new Int16Array(160);
    for (let i = 0; i < 160; i++) pcm[i] = Math.round(12000 * Math.sin((2 * Math.PI * 1000 * i) / 8000));
    for (const codec of ['pcmu', 'pcma'] as const) {
      const enc = createEncoder(codec);
      expect(enc.payloadType).toBe(codec === 'pcmu' ? 0 : 8);
      const payload = enc.encode(pcm, 8000);
      expect(payload.length).toBe(160);
      const out = new Int16Array(960);
      createDecoder(codec).decode(payload, 0, payload.length, out);
      for (let i = 0; i < 160; i++)
        expect(Math.abs(out[i] - pcm[i])).toBeLessThanOrEqual(Math.abs(pcm[i]) / 16 + 16);
    }
  });

  it('conceal repeats the last frame and fades to silence over 60 ms', () => {
    const dec = createDecoder('pcmu');
    const payload = new Uint8Array(160).fill(linearToMuLaw(10000));
    const out = new Int16Array(960);
    dec.decode(payload, 0, 160, out);
    const level = out[0];
    expect(dec.conceal(160, out)).toBe(160);
    expect(out[0]).toBeGreaterThan(level * 0.99);
    expect(out[159]).toBeLessThan(level * 0.7);
    expect(dec.conceal(160, out)).toBe(160);
    expect(dec.conceal(160, out)).toBe(160);
    expect(out[159]).toBe(0);
    // Faded out: nothing more to conceal, the rest of the gap is the caller's silence.
    expect(dec.conceal(160, out)).toBe(0);
  });
});

describe('G.711 decode paths', () => {
  // The staged path (WebAssembly loop plus a JS tail), the JS pair-table path and the unaligned
  // one-sample path must all equal the single-sample table, and leave the same frame for concealment.
  it('staged datagrams, plain buffers and unaligned outputs decode exactly like the table', () => {
    for (const [codec, table] of [
      ['pcmu', MULAW_DECODE_TABLE],
      ['pcma', ALAW_DECODE_TABLE],
    ] as const) {
      const staged = createDecoder(codec);
      const plain = createDecoder(codec);
      const unaligned = createDecoder(codec);
      const stagedOut = new Int16Array(960);
      const plainOut = new Int16Array(960);
      const unalignedOut = new Int16Array(new ArrayBuffer(2 * 961), 2, 960);
      const concealed = [new Int16Array(160), new Int16Array(160), new Int16Array(160)];
      let seed = 7;
      for (const length of [160, 80, 240, 480, 960, 1, 2, 7, 8, 9, 15, 16, 17, 159, 161, 0]) {
        for (const header of [12, 16, 36, 13]) {
          const datagram = randomBytes(header + length, seed++);
          expect(stageDatagram(datagram, 0, datagram.length)).toBe(0);
          const stage = DATAGRAM_STAGE;
          expect(staged.decode(stage, header, length, stagedOut)).toBe(length);
          const big = new Uint8Array(4096);
          big.set(datagram, 100);
          expect(plain.decode(big, 100 + header, length, plainOut)).toBe(length);
          expect(unaligned.decode(datagram, header, length, unalignedOut)).toBe(length);
          for (let i = 0; i < length; i++) {
            const want = table[datagram[header + i]];
            if (stagedOut[i] !== want || plainOut[i] !== want || unalignedOut[i] !== want) {
              throw new Error(`${codec} length ${length} header ${header} sample ${i}: ${want} expected`);
            }
          }
          if (length === 0) continue;
          staged.conceal(160, concealed[0]);
          plain.conceal(160, concealed[1]);
          unaligned.conceal(160, concealed[2]);
          expect(Array.from(concealed[0])).toEqual(Array.from(concealed[1]));
          expect(Array.from(concealed[0])).toEqual(Array.from(concealed[2]));
        }
      }
    }
  });

  it('every code decodes identically in every position of a staged payload', () => {
    for (const [codec, table] of [
      ['pcmu', MULAW_DECODE_TABLE],
      ['pcma', ALAW_DECODE_TABLE],
    ] as const) {
      const dec = createDecoder(codec);
      const out = new Int16Array(960);
      for (let shift = 0; shift < 8; shift++) {
        const datagram = new Uint8Array(12 + 256);
        for (let i = 0; i < 256; i++) datagram[12 + i] = (i + shift * 37) & 0xff;
        expect(stageDatagram(datagram, 0, datagram.length)).toBe(0);
        dec.decode(DATAGRAM_STAGE, 12, 256, out);
        for (let i = 0; i < 256; i++) expect(out[i]).toBe(table[datagram[12 + i]]);
      }
    }
  });
});
