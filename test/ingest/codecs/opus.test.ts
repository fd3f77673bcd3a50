import OpusScript from 'opusscript';
import { describe, expect, it } from 'vitest';
import { Decimator } from '../../../src/ingest/codecs/decimator.ts';
import { OpusPayloadDecoder } from '../../../src/ingest/codecs/opus.ts';
import { createDecoder, createEncoder } from '../../../src/ingest/codecs/registry.ts';
import { harmonics, rms, tone } from './signals.ts';

function encodeStream(x: Int16Array, rate: number): Uint8Array[] {
  const enc = createEncoder('opus');
  const frame = rate / 50;
  const packets: Uint8Array[] = [];
  for (let p = 0; p + frame <= x.length; p += frame) packets.push(enc.encode(x.subarray(p, p + frame), rate));
  return packets;
}

function decodeStream(packets: Uint8Array[], dec = createDecoder('opus')): Int16Array {
  const y = new Int16Array(packets.length * 160);
  const out = new Int16Array(960);
  packets.forEach((pkt, k) => {
    expect(dec.decode(pkt, 0, pkt.length, out)).toBe(160);
    y.set(out.subarray(0, 160), k * 160);
  });
  return y;
}

/** Power of `hz` in x relative to total power (Goertzel), 0..1. */
function toneShare(x: Int16Array, rate: number, hz: number, from: number, to: number): number {
  const w = (2 * Math.PI * hz) / rate;
  let s1 = 0;
  let s2 = 0;
  for (let i = from; i < to; i++) {
    const s = x[i] + 2 * Math.cos(w) * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  const power = (s1 * s1 + s2 * s2 - 2 * Math.cos(w) * s1 * s2) / (to - from) / ((to - from) / 2);
  const total = rms(x, from, to) ** 2;
  return power / total;
}

describe('Opus', () => {
  it('decode equals opusscript 48 kHz decode followed by the decimator, bit-exact', () => {
    const packets = encodeStream(harmonics(8000, 1, 150, 12000), 8000);
    const reference = new OpusScript(48000, 1, OpusScript.Application.VOIP);
    const decimator = new Decimator(48000);
    const expected = new Int16Array(packets.length * 160);
    let at = 0;
    for (const pkt of packets) {
      const wide = reference.decode(Buffer.from(pkt));
      const pcm = new Int16Array(wide.buffer.slice(wide.byteOffset, wide.byteOffset + wide.length));
      at += decimator.process(pcm, 0, pcm.length, expected, at);
    }
    reference.delete();
    expect(Array.from(decodeStream(packets))).toEqual(Array.from(expected));
  });

  it('wideband input: in-band tones keep their level, content from 5 kHz up does not fold back', () => {
    const at = (y: Int16Array, hz: number) => 10 * Math.log10(toneShare(y, 8000, hz, 1600, y.length) + 1e-12);
    // 1 kHz at full level with 5 kHz 6 dB below: the 5 kHz tone would alias to 3 kHz.
    const x = new Int16Array(32000);
    for (let i = 0; i < x.length; i++)
      x[i] = Math.round(
        8000 * Math.sin((2 * Math.PI * 1000 * i) / 16000) + 4000 * Math.sin((2 * Math.PI * 5000 * i) / 16000),
      );
    const y = decodeStream(encodeStream(x, 16000));
    expect(at(y, 1000)).toBeGreaterThan(-0.5);
    expect(at(y, 3000)).toBeLessThan(-40);
  });

  it('encode equals opusscript encode (same settings), bit-exact', () => {
    const x = harmonics(8000, 0.5, 130, 15000);
    const reference = new OpusScript(8000, 1, OpusScript.Application.VOIP);
    reference.setBitrate(32000);
    const ours = encodeStream(x, 8000);
    ours.forEach((pkt, k) => {
      const frame = x.subarray(k * 160, k * 160 + 160);
      const expected = reference.encode(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength), 160);
      expect(Buffer.from(pkt).equals(expected)).toBe(true);
    });
    reference.delete();
  });

  it('a 1 kHz tone survives encode/decode at its level and frequency (8 and 16 kHz encoder input)', () => {
    for (const rate of [8000, 16000]) {
      const x = tone(rate, 1000, 10000, rate);
      const y = decodeStream(encodeStream(x, rate));
      const level = 20 * Math.log10(rms(y, 1600, 8000) / (10000 / Math.SQRT2));
      expect(Math.abs(level)).toBeLessThan(1);
      expect(toneShare(y, 8000, 1000, 1600, 8000)).toBeGreaterThan(0.95);
    }
  });

  it('many decoder instances stay independent and correct (shared wasm scratch)', () => {
    const packets = encodeStream(harmonics(8000, 0.2, 180, 9000), 8000);
    const expected = decodeStream(packets);
    // Enough instances to force wasm heap growth (which breaks the OpusScript wrapper's cached views).
    const decoders = Array.from({ length: 400 }, () => new OpusPayloadDecoder());
    const out = new Int16Array(960);
    let wrong = 0;
    for (let k = 0; k < packets.length; k++) {
      for (const dec of decoders) {
        if (dec.decode(packets[k], 0, packets[k].length, out) !== 160) wrong++;
        for (let i = 0; i < 160; i++) if (out[i] !== expected[k * 160 + i]) wrong++;
      }
    }
    expect(wrong).toBe(0);
    for (const dec of decoders) dec.dispose();
  });

  it('loss: PLC continues the signal 20 ms at a time, fades, writes zeros once the gap is long, then decoding resumes', () => {
    const packets = encodeStream(tone(8000, 440, 10000, 16000), 8000);
    const dec = createDecoder('opus');
    const out = new Int16Array(960);
    for (let k = 0; k < 20; k++) dec.decode(packets[k], 0, packets[k].length, out);
    expect(dec.conceal(160, out)).toBe(160);
    expect(rms(out, 0, 160)).toBeGreaterThan(1000);
    expect(toneShare(out, 8000, 440, 0, 160)).toBeGreaterThan(0.5);
    // Odd request sizes are served from what one concealment call made, in order.
    expect(dec.conceal(100, out, 0)).toBe(100);
    expect(dec.conceal(60, out, 100)).toBe(60);
    expect(rms(out, 0, 160)).toBeGreaterThan(100);
    for (let k = 0; k < 30; k++) expect(dec.conceal(160, out)).toBe(160);
    // Over half a second into the gap: silence, not a buzz.
    expect(rms(out, 0, 160)).toBe(0);
    expect(dec.decode(packets[52], 0, packets[52].length, out)).toBe(160);
    expect(dec.decode(packets[53], 0, packets[53].length, out)).toBe(160);
    expect(toneShare(out, 8000, 440, 0, 160)).toBeGreaterThan(0.5);
    // After a decoded packet the next loss is concealed by libopus again.
    expect(dec.conceal(160, out)).toBe(160);
    expect(rms(out, 0, 160)).toBeGreaterThan(1000);
  });

  it('loss before any packet, or of a 60 ms stream: the right sample counts', () => {
    const dec = createDecoder('opus');
    const out = new Int16Array(960);
    expect(dec.conceal(160, out)).toBe(160);
    expect(rms(out, 0, 160)).toBe(0);
    const enc = new OpusScript(8000, 1, OpusScript.Application.VOIP);
    const x = tone(8000, 700, 8000, 480 * 10);
    let pkt = new Uint8Array(0);
    for (let k = 0; k < 10; k++) {
      const frame = x.subarray(k * 480, k * 480 + 480);
      pkt = new Uint8Array(enc.encode(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength), 480));
      expect(dec.decode(pkt, 0, pkt.length, out)).toBe(480);
    }
    enc.delete();
    expect(dec.conceal(160, out, 0)).toBe(160);
    expect(rms(out, 0, 160)).toBeGreaterThan(500);
    for (let k = 0; k < 2; k++) expect(dec.conceal(160, out, 0)).toBe(160);
  });

  it('rejects malformed packets without throwing', () => {
    const dec = createDecoder('opus');
    const out = new Int16Array(960);
    // TOC code 3 with a frame count of 0 is invalid (RFC 6716 section 3.2.5).
    expect(dec.decode(new Uint8Array([0x03, 0x00]), 0, 2, out)).toBe(0);
    expect(dec.decode(new Uint8Array(0), 0, 0, out)).toBe(0);
    expect(dec.decode(new Uint8Array(5000), 0, 5000, out)).toBe(0);
  });

  it('reports the RFC 7587 clock and the ingest default payload type', () => {
    expect(createDecoder('opus').clockRate).toBe(48000);
    expect(createEncoder('opus').payloadType).toBe(96);
    expect(createEncoder('opus', 100).payloadType).toBe(100);
  });
});
