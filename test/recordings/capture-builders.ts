/** Hand-built capture pieces for reader tests: link-layer frames and pcapng blocks, independent of the writer. */

export function udpPacket(srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, srcPort);
  view.setUint16(2, dstPort);
  view.setUint16(4, out.length);
  out.set(payload, 8);
  return out;
}

export function ipv4(udp: Uint8Array, protocol = 17, flagsFragment = 0x4000): Uint8Array {
  const out = new Uint8Array(20 + udp.length);
  const view = new DataView(out.buffer);
  out[0] = 0x45;
  view.setUint16(2, out.length);
  view.setUint16(6, flagsFragment);
  out[8] = 64;
  out[9] = protocol;
  out.set([127, 0, 0, 1, 127, 0, 0, 1], 12);
  out.set(udp, 20);
  return out;
}

/** IPv6 with a destination-options extension header before UDP, so the chain walk is exercised. */
export function ipv6(udp: Uint8Array): Uint8Array {
  const out = new Uint8Array(40 + 8 + udp.length);
  const view = new DataView(out.buffer);
  out[0] = 0x60;
  view.setUint16(4, 8 + udp.length);
  out[6] = 60; // destination options
  out[7] = 64;
  out[15] = 1; // ::1
  out[39] = 1;
  out[40] = 17; // next header: UDP
  out[41] = 0; // (0 + 1) * 8 bytes
  out.set(udp, 48);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function ethernetVlan(ip: Uint8Array, etherType: number): Uint8Array {
  const header = new Uint8Array(18);
  const view = new DataView(header.buffer);
  view.setUint16(12, 0x8100);
  view.setUint16(14, 42); // VLAN id
  view.setUint16(16, etherType);
  return concat(header, ip);
}

export function sll(ip: Uint8Array, etherType: number): Uint8Array {
  const header = new Uint8Array(16);
  new DataView(header.buffer).setUint16(14, etherType);
  return concat(header, ip);
}

export function sll2(ip: Uint8Array, etherType: number): Uint8Array {
  const header = new Uint8Array(20);
  new DataView(header.buffer).setUint16(0, etherType);
  return concat(header, ip);
}

/** BSD loopback: address family in host order (little-endian here), 30 = AF_INET6 on macOS. */
export function nullLoopback(ip: Uint8Array, family: number): Uint8Array {
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, family, true);
  return concat(header, ip);
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** pcapng block writer in either byte order. */
export class PcapngBuilder {
  private readonly blocks: Uint8Array[] = [];
  constructor(private readonly little = true) {}

  private block(type: number, body: Uint8Array): this {
    const total = 12 + pad4(body.length);
    const out = new Uint8Array(total);
    const view = new DataView(out.buffer);
    view.setUint32(0, type, this.little);
    view.setUint32(4, total, this.little);
    out.set(body, 8);
    view.setUint32(total - 4, total, this.little);
    this.blocks.push(out);
    return this;
  }

  sectionHeader(): this {
    const body = new Uint8Array(16);
    const view = new DataView(body.buffer);
    view.setUint32(0, 0x1a2b3c4d, this.little);
    view.setUint16(4, 1, this.little);
    view.setBigInt64(8, -1n, this.little);
    return this.block(0x0a0d0d0a, body);
  }

  /** tsresol: the raw if_tsresol byte (e.g. 9 = ns, 0x80 | 10 = 1/1024 s), undefined = default microseconds. */
  interface(linkType: number, tsresol?: number): this {
    const options = tsresol === undefined ? new Uint8Array(4) : new Uint8Array(12);
    const ov = new DataView(options.buffer);
    if (tsresol !== undefined) {
      ov.setUint16(0, 9, this.little);
      ov.setUint16(2, 1, this.little);
      options[4] = tsresol;
    }
    const body = concat(new Uint8Array(8), options);
    const view = new DataView(body.buffer);
    view.setUint16(0, linkType, this.little);
    view.setUint32(4, 65535, this.little);
    return this.block(1, body);
  }

  enhancedPacket(iface: number, units: bigint, frame: Uint8Array): this {
    const body = new Uint8Array(20 + pad4(frame.length));
    const view = new DataView(body.buffer);
    view.setUint32(0, iface, this.little);
    view.setUint32(4, Number(units >> 32n), this.little);
    view.setUint32(8, Number(units & 0xffffffffn), this.little);
    view.setUint32(12, frame.length, this.little);
    view.setUint32(16, frame.length, this.little);
    body.set(frame, 20);
    return this.block(6, body);
  }

  simplePacket(frame: Uint8Array): this {
    const body = new Uint8Array(4 + pad4(frame.length));
    new DataView(body.buffer).setUint32(0, frame.length, this.little);
    body.set(frame, 4);
    return this.block(3, body);
  }

  /** A block forkguard must skip (name resolution). */
  other(): this {
    return this.block(4, new Uint8Array(4));
  }

  bytes(): Uint8Array {
    return concat(...this.blocks);
  }
}
