import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DROP, DROP_REASONS } from '../../../src/ingest/drop-reasons.ts';
import {
  callLegIdWords,
  formatCallLegId,
  parseStrepHeader,
  STREP_HEADER_BYTES,
  StrepHeaderView,
  writeStrepHeader,
} from '../../../src/ingest/strep.ts';

const uuidArb = fc.uuid().map((u) => u.toLowerCase());

describe('STREP header', () => {
  it('puts magic, version, L and D in byte 0 as the Telnyx layout says', () => {
    const out = new Uint8Array(40);
    const id = '0123abcd-4567-89ef-fedc-ba9876543210';
    const n = writeStrepHeader(out, 4, { version: 1, leg: 'B', direction: 1, callLegId: id });
    expect(n).toBe(STREP_HEADER_BYTES);
    expect(out[4]).toBe(0b11_0001_1_1);
    expect(out[5]).toBe(24);
    expect([...out.subarray(6, 12)]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Buffer.from(out.subarray(12, 28)).toString('hex')).toBe(id.replace(/-/g, ''));
    writeStrepHeader(out, 0, { leg: 'A', direction: 0, callLegId: id });
    expect(out[0]).toBe(0b11_0001_0_0);

    const view = new StrepHeaderView();
    expect(parseStrepHeader(out, 0, 40, view)).toBe(0);
    expect(view.toHeader()).toEqual({ version: 1, leg: 'A', direction: 0, headerLength: 24, callLegId: id });
  });

  it('parses what it writes, for any field values and a larger header length', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 15 }),
        fc.constantFrom('A' as const, 'B' as const),
        fc.constantFrom(0 as const, 1 as const),
        fc.integer({ min: 24, max: 255 }),
        uuidArb,
        fc.integer({ min: 0, max: 7 }),
        (version, leg, direction, headerLength, callLegId, offset) => {
          const buf = new Uint8Array(offset + headerLength + 12);
          writeStrepHeader(buf, offset, { version, leg, direction, headerLength, callLegId });
          const view = new StrepHeaderView();
          expect(parseStrepHeader(buf, offset, buf.length - offset, view)).toBe(0);
          expect(view.toHeader()).toEqual({ version, leg, direction, headerLength, callLegId });
        },
      ),
    );
  });

  it('accepts call_leg_id text with or without dashes, in any case, and renders lowercase 8-4-4-4-12', () => {
    const words = callLegIdWords('0123ABCD456789EFFEDCBA9876543210');
    expect(formatCallLegId(words[0], words[1], words[2], words[3])).toBe(
      '0123abcd-4567-89ef-fedc-ba9876543210',
    );
    expect(() => callLegIdWords('not-a-uuid')).toThrow(/not a UUID/);
    expect(() => writeStrepHeader(new Uint8Array(24), 0, { direction: 0, callLegId: 'x' })).toThrow(
      /not a UUID/,
    );
    expect(() =>
      writeStrepHeader(new Uint8Array(24), 0, { direction: 0, headerLength: 20, callLegId: words.join('') }),
    ).toThrow(RangeError);
  });

  it('rejects wrong magic, version 0, short or inconsistent headers with the right reason', () => {
    const id = '11111111-2222-3333-4444-555555555555';
    const good = new Uint8Array(36);
    writeStrepHeader(good, 0, { direction: 0, callLegId: id });
    const view = new StrepHeaderView();
    const variant = (edit: (b: Uint8Array) => void, length = good.length) => {
      const b = good.slice();
      edit(b);
      const r = parseStrepHeader(b, 0, length, view);
      return view.ok ? 'ok' : r;
    };
    expect(variant(() => {})).toBe('ok');
    expect(variant((b) => (b[0] = 0x80))).toBe(DROP.bad_version); // plain RTP
    expect(variant((b) => (b[0] = 0x41))).toBe(DROP.bad_version); // SIP text ('A')
    expect(variant((b) => (b[0] = 0xc0))).toBe(DROP.bad_version); // version 0
    expect(variant((b) => (b[1] = 23))).toBe(DROP.bad_strep);
    expect(variant((b) => (b[1] = 0))).toBe(DROP.bad_strep);
    expect(variant((b) => (b[1] = 37))).toBe(DROP.truncated); // header beyond the datagram
    expect(variant(() => {}, 23)).toBe(DROP.truncated);
    expect(variant(() => {}, 1)).toBe(DROP.truncated); // magic right, nothing else
    expect(variant(() => {}, 0)).toBe(DROP.truncated);
  });

  it('never throws on random bytes and answers 0 or a DROP index', () => {
    const view = new StrepHeaderView();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const r = parseStrepHeader(bytes, 0, bytes.length, view);
        expect(r >= 0 && r < DROP_REASONS.length).toBe(true);
        if (view.ok) {
          expect(r).toBe(0);
          expect(view.headerLength).toBeLessThanOrEqual(bytes.length);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
