import { describe, expect, it } from 'vitest';
import { AddressInterner } from '../../../src/ingest/trust/address-interner.ts';

/** A string with the content of `text` built at run time, as dgram builds each datagram's address. */
const fresh = (text: string): string => [...text].join('');

describe('AddressInterner', () => {
  it('gives back an equal string for every address, whatever order sources come in', () => {
    const interner = new AddressInterner();
    const sources = ['127.0.0.1', '10.0.0.2', '::1', 'fe80::1', '10.0.0.20'];
    for (let i = 0; i < 200; i++) {
      const address = sources[(i * 7 + (i >> 3)) % sources.length];
      expect(interner.intern(fresh(address))).toBe(address);
    }
    expect(interner.size).toBe(sources.length);
  });

  it('keeps at most its capacity of addresses under a flood of sources, and still answers each one', () => {
    const interner = new AddressInterner(16);
    for (let i = 0; i < 1000; i++) {
      const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      expect(interner.intern(fresh(address))).toBe(address);
      expect(interner.size).toBeLessThanOrEqual(16);
    }
  });
});
