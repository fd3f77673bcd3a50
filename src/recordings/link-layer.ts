/**
 * From one captured link-layer frame to the UDP datagram inside it, for the link types fork targets and
 * capture tools actually write. Only UDP matters to forkguard; anything else yields null.
 */

export const LINKTYPE = {
  null: 0, // BSD loopback: 4-byte address family in the capturing host's byte order
  ethernet: 1,
  rawBsd12: 12, // DLT_RAW as some BSDs number it
  rawBsd14: 14,
  raw: 101, // IPv4 or IPv6, no link header
  loop: 108, // OpenBSD loopback: address family in network byte order
  linuxSll: 113,
  ipv4: 228,
  ipv6: 229,
  linuxSll2: 276,
} as const;

/** Where the UDP payload sits inside the frame buffer. */
export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  payloadOffset: number;
  payloadLength: number;
}

/** Why a frame held no usable UDP datagram; counted by the reader so a bad capture can say what it saw. */
export type SkipReason = 'not_udp' | 'fragment' | 'truncated' | 'unsupported_link';

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = [0x8100, 0x88a8, 0x9100];
const IPPROTO_UDP = 17;

export function isSupportedLinkType(linkType: number): boolean {
  return Object.values(LINKTYPE).includes(linkType as never);
}

/**
 * Finds the UDP datagram in frame[offset, offset+length). Returns the datagram, or the reason there is none.
 */
export function udpInFrame(
  linkType: number,
  frame: Uint8Array,
  offset: number,
  length: number,
): UdpDatagram | SkipReason {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const end = offset + length;
  switch (linkType) {
    case LINKTYPE.ethernet: {
      let p = offset + 12;
      if (p + 2 > end) return 'truncated';
      let etherType = view.getUint16(p);
      while (ETHERTYPE_VLAN.includes(etherType)) {
        p += 4;
        if (p + 2 > end) return 'truncated';
        etherType = view.getUint16(p);
      }
      return udpInEtherType(etherType, view, p + 2, end);
    }
    case LINKTYPE.linuxSll:
      if (offset + 16 > end) return 'truncated';
      return udpInEtherType(view.getUint16(offset + 14), view, offset + 16, end);
    case LINKTYPE.linuxSll2:
      if (offset + 20 > end) return 'truncated';
      return udpInEtherType(view.getUint16(offset), view, offset + 20, end);
    case LINKTYPE.null:
    case LINKTYPE.loop:
      // The address family's value differs by OS (AF_INET6 is 10, 24, 28 or 30); the IP version nibble does not.
      return udpInIp(view, offset + 4, end);
    case LINKTYPE.raw:
    case LINKTYPE.rawBsd12:
    case LINKTYPE.rawBsd14:
    case LINKTYPE.ipv4:
    case LINKTYPE.ipv6:
      return udpInIp(view, offset, end);
    default:
      return 'unsupported_link';
  }
}

function udpInEtherType(etherType: number, view: DataView, p: number, end: number): UdpDatagram | SkipReason {
  if (etherType !== ETHERTYPE_IPV4 && etherType !== ETHERTYPE_IPV6) return 'not_udp';
  return udpInIp(view, p, end);
}

function udpInIp(view: DataView, p: number, end: number): UdpDatagram | SkipReason {
  if (p + 1 > end) return 'truncated';
  const version = view.getUint8(p) >> 4;
  if (version === 4) return udpInIpv4(view, p, end);
  if (version === 6) return udpInIpv6(view, p, end);
  return 'not_udp';
}

function udpInIpv4(view: DataView, p: number, end: number): UdpDatagram | SkipReason {
  if (p + 20 > end) return 'truncated';
  const headerLength = (view.getUint8(p) & 0x0f) * 4;
  const totalLength = view.getUint16(p + 2);
  const flagsFragment = view.getUint16(p + 6);
  if (view.getUint8(p + 9) !== IPPROTO_UDP) return 'not_udp';
  // RTP datagrams are far below any MTU; reassembly is not worth its code, so fragments are counted and skipped.
  if ((flagsFragment & 0x3fff) !== 0) return 'fragment';
  // A zero total length happens with TCP segmentation offload captures; then the frame end is the packet end.
  const packetEnd = totalLength === 0 ? end : p + totalLength;
  return udpAt(view, p + headerLength, packetEnd, end);
}

function udpInIpv6(view: DataView, p: number, end: number): UdpDatagram | SkipReason {
  if (p + 40 > end) return 'truncated';
  const packetEnd = p + 40 + view.getUint16(p + 4);
  let next = view.getUint8(p + 6);
  let q = p + 40;
  // Walk the extension header chain (hop-by-hop, routing, destination options; fragments are skipped).
  for (let hops = 0; hops < 8; hops++) {
    if (next === IPPROTO_UDP) return udpAt(view, q, packetEnd, end);
    if (next === 44) return 'fragment';
    if (next !== 0 && next !== 43 && next !== 60) return 'not_udp';
    if (q + 8 > end) return 'truncated';
    next = view.getUint8(q);
    q += (view.getUint8(q + 1) + 1) * 8;
  }
  return 'not_udp';
}

function udpAt(view: DataView, q: number, packetEnd: number, frameEnd: number): UdpDatagram | SkipReason {
  if (q + 8 > frameEnd) return 'truncated';
  const udpLength = view.getUint16(q + 4);
  if (udpLength < 8 || q + udpLength > packetEnd || q + udpLength > frameEnd) return 'truncated';
  return {
    srcPort: view.getUint16(q),
    dstPort: view.getUint16(q + 2),
    payloadOffset: q + 8,
    payloadLength: udpLength - 8,
  };
}
