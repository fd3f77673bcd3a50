import { BlockList } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CidrAllowList, parseIpv4, parseIpv6 } from '../../../src/ingest/trust/cidr.ts';

const v4Arb = fc.ipV4();
const v6Arb = fc.ipV6();

/** `address` with bit `bit` (0 = most significant) flipped: probes right at a range's edges. */
function flipV4(address: string, bit: number): string {
  const value = (address.split('.').reduce((a, p) => a * 256 + Number(p), 0) ^ (2 ** (31 - bit))) >>> 0;
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

function flipV6(address: string, bit: number): string {
  const w = new Uint32Array(4);
  parseIpv6(address, w);
  w[bit >> 5] ^= 2 ** (31 - (bit & 31));
  const groups: string[] = [];
  for (const word of w) groups.push((word >>> 16).toString(16), (word & 0xffff).toString(16));
  return groups.join(':');
}

describe('CIDR allow-list', () => {
  it('parses IPv4 and IPv6 forms once into words', () => {
    expect(parseIpv4('10.1.2.3')).toBe(0x0a010203);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '', 'a.b.c.d'])
      expect(parseIpv4(bad)).toBe(-1);
    const w = new Uint32Array(4);
    expect(parseIpv6('2001:db8::1', w)).toBe(true);
    expect([...w]).toEqual([0x20010db8, 0, 0, 1]);
    expect(parseIpv6('::ffff:192.0.2.1', w)).toBe(true);
    expect([...w]).toEqual([0, 0, 0xffff, 0xc0000201]);
    expect(parseIpv6('fe80::1%eth0', w)).toBe(true);
    expect([...w]).toEqual([0xfe800000, 0, 0, 1]);
    for (const bad of ['1::2::3', '12345::', ':::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', 'g::']) {
      expect(parseIpv6(bad, w)).toBe(false);
    }
  });

  it('names the bad entry', () => {
    expect(() => new CidrAllowList(['10.0.0.0/8', 'nonsense/3'])).toThrow(/"nonsense\/3"/);
    expect(() => new CidrAllowList(['10.0.0.0/33'])).toThrow(/prefix outside 0-32/);
    expect(() => new CidrAllowList(['::/129'])).toThrow(/prefix outside 0-128/);
  });

  it('matches IPv4-mapped IPv6 sources against IPv4 ranges', () => {
    const list = new CidrAllowList(['192.0.2.0/24']);
    expect(list.allows('192.0.2.77')).toBe(true);
    expect(list.allows('::ffff:192.0.2.77')).toBe(true);
    expect(list.allows('::ffff:192.0.3.77')).toBe(false);
    expect(list.allows('garbage')).toBe(false);
  });

  const families = [
    { family: 'ipv4' as const, address: v4Arb, bits: 32, flip: flipV4 },
    { family: 'ipv6' as const, address: v6Arb, bits: 128, flip: flipV6 },
  ];
  it.each(families)('agrees with node:net BlockList on random $family ranges and addresses', (f) => {
    fc.assert(
      fc.property(
        f.address,
        fc.integer({ min: 0, max: f.bits }),
        fc.array(f.address, { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 0, max: f.bits - 1 }), { minLength: 1, maxLength: 8 }),
        (net, bits, randomProbes, flips) => {
          // Random probes rarely land in a range; the network with one bit flipped sits right at its edges.
          const probes = [...randomProbes, net, ...flips.map((bit) => f.flip(net, bit))];
          const list = new CidrAllowList([`${net}/${bits}`]);
          const oracle = new BlockList();
          oracle.addSubnet(net, bits, f.family);
          for (const probe of probes) {
            // IPv4-mapped IPv6 is matched against IPv4 ranges on purpose, which BlockList does not do.
            if (probe.toLowerCase().startsWith('::ffff:')) continue;
            expect(list.allows(probe)).toBe(oracle.check(probe, f.family));
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
