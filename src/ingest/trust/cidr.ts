/**
 * Source CIDR allow-list. Ranges are parsed once into 32-bit words; a source address is parsed once when the
 * source is first seen (the result is cached by SourceGuard), so packets never re-parse address text.
 * IPv4-mapped IPv6 sources (`::ffff:a.b.c.d`, what a dual-stack socket reports for IPv4 peers) match IPv4 ranges.
 */

const IPV4_PART = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const HEXTET = /^[0-9a-f]{1,4}$/i;

/** IPv4 dotted quad to an unsigned 32-bit number, or -1 when the text is not one. */
export function parseIpv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) return -1;
  let value = 0;
  for (const part of parts) {
    if (!IPV4_PART.test(part)) return -1;
    value = value * 256 + Number(part);
  }
  return value;
}

/** IPv6 text (with `::`, an embedded IPv4 tail or a `%zone`) into four big-endian words; false when invalid. */
export function parseIpv6(text: string, out: Uint32Array): boolean {
  const zone = text.indexOf('%');
  const address = zone >= 0 ? text.slice(0, zone) : text;
  const hextets: number[] = [];
  const halves = address.split('::');
  if (halves.length > 2) return false;
  const parseSide = (side: string, allowIpv4Tail: boolean): number[] | null => {
    if (side === '') return [];
    const groups = side.split(':');
    const values: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const group = groups[i];
      if (allowIpv4Tail && i === groups.length - 1 && group.includes('.')) {
        const v4 = parseIpv4(group);
        if (v4 < 0) return null;
        values.push(v4 >>> 16, v4 & 0xffff);
      } else if (HEXTET.test(group)) {
        values.push(Number.parseInt(group, 16));
      } else {
        return null;
      }
    }
    return values;
  };
  if (halves.length === 1) {
    const all = parseSide(address, true);
    if (all === null || all.length !== 8) return false;
    hextets.push(...all);
  } else {
    const head = parseSide(halves[0], false);
    const tail = parseSide(halves[1], true);
    if (head === null || tail === null || head.length + tail.length > 7) return false;
    hextets.push(...head);
    for (let i = head.length + tail.length; i < 8; i++) hextets.push(0);
    hextets.push(...tail);
  }
  for (let i = 0; i < 4; i++) out[i] = ((hextets[2 * i] << 16) | hextets[2 * i + 1]) >>> 0;
  return true;
}

function prefixMask(bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 32) return 0xffffffff;
  return (0xffffffff << (32 - bits)) >>> 0;
}

export class CidrAllowList {
  /** IPv4 ranges: network and mask per range. */
  private readonly v4Network: Uint32Array;
  private readonly v4Mask: Uint32Array;
  /** IPv6 ranges: four words of network and of mask per range. */
  private readonly v6Network: Uint32Array;
  private readonly v6Mask: Uint32Array;
  private readonly scratch = new Uint32Array(4);

  /** Throws an Error naming the first entry that is not an IPv4 or IPv6 address with an optional `/prefix`. */
  constructor(cidrs: readonly string[]) {
    const v4: [number, number][] = [];
    const v6: Uint32Array[] = [];
    for (const entry of cidrs) {
      const slash = entry.indexOf('/');
      const addressText = (slash >= 0 ? entry.slice(0, slash) : entry).trim();
      const prefixText = slash >= 0 ? entry.slice(slash + 1).trim() : '';
      const v4Address = parseIpv4(addressText);
      const isV4 = v4Address >= 0;
      const words = new Uint32Array(4);
      if (!isV4 && !parseIpv6(addressText, words)) {
        throw new Error(`allow-list entry ${JSON.stringify(entry)} is not an IPv4 or IPv6 address/prefix`);
      }
      const maxBits = isV4 ? 32 : 128;
      const bits = prefixText === '' ? maxBits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : -1;
      if (bits < 0 || bits > maxBits) {
        throw new Error(`allow-list entry ${JSON.stringify(entry)} has a prefix outside 0-${maxBits}`);
      }
      if (isV4) {
        const mask = prefixMask(bits);
        v4.push([(v4Address & mask) >>> 0, mask]);
      } else {
        const range = new Uint32Array(8);
        for (let i = 0; i < 4; i++) {
          const mask = prefixMask(bits - 32 * i);
          range[i] = (words[i] & mask) >>> 0;
          range[4 + i] = mask;
        }
        v6.push(range);
      }
    }
    this.v4Network = Uint32Array.from(v4, (r) => r[0]);
    this.v4Mask = Uint32Array.from(v4, (r) => r[1]);
    this.v6Network = new Uint32Array(v6.length * 4);
    this.v6Mask = new Uint32Array(v6.length * 4);
    v6.forEach((range, i) => {
      this.v6Network.set(range.subarray(0, 4), 4 * i);
      this.v6Mask.set(range.subarray(4), 4 * i);
    });
  }

  get size(): number {
    return this.v4Mask.length + this.v6Mask.length / 4;
  }

  /** Whether a source address as reported by dgram falls in any range; unparseable text is never allowed. */
  allows(address: string): boolean {
    const v4 = parseIpv4(address);
    if (v4 >= 0) return this.allowsIpv4(v4);
    const w = this.scratch;
    if (!parseIpv6(address, w)) return false;
    if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff && this.allowsIpv4(w[3])) return true;
    const net = this.v6Network;
    const mask = this.v6Mask;
    for (let i = 0; i < net.length; i += 4) {
      if (
        (w[0] & mask[i]) >>> 0 === net[i] &&
        (w[1] & mask[i + 1]) >>> 0 === net[i + 1] &&
        (w[2] & mask[i + 2]) >>> 0 === net[i + 2] &&
        (w[3] & mask[i + 3]) >>> 0 === net[i + 3]
      ) {
        return true;
      }
    }
    return false;
  }

  private allowsIpv4(address: number): boolean {
    for (let i = 0; i < this.v4Mask.length; i++) {
      if ((address & this.v4Mask[i]) >>> 0 === this.v4Network[i]) return true;
    }
    return false;
  }
}
