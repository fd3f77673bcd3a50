/**
 * Writes UDP datagrams as a classic pcap (little-endian, microsecond timestamps) the way a capture on the
 * loopback interface would record them: IPv4 127.0.0.1 -> 127.0.0.1 with valid IP and UDP checksums, behind
 * either no link header (LINKTYPE_RAW) or an Ethernet header.
 */
import { writeFile } from 'node:fs/promises';
import { LINKTYPE } from './link-layer.ts';

export interface PcapDatagram {
  /** Capture time, milliseconds since the epoch (0 is allowed: readers make times call-relative). */
  timeMs: number;
  srcPort: number;
  dstPort: number;
  /** UDP payload: RTP, or STREP + RTP. */
  data: Uint8Array;
}

export interface PcapWriteOptions {
  linkType?: 'raw' | 'ethernet';
}

const LOOPBACK = [127, 0, 0, 1];
const IPV4_HEADER = 20;
const UDP_HEADER = 8;
const ETHERNET_HEADER = 14;
const MAX_UDP_PAYLOAD = 65_507;

function onesComplementSum(bytes: Uint8Array, start: number, end: number, sum: number): number {
  for (let i = start; i + 1 < end; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if ((end - start) & 1) sum += bytes[end - 1] << 8;
  return sum;
}

function foldChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The whole pcap file for `packets` (in the order given). */
export function encodePcap(packets: PcapDatagram[], options: PcapWriteOptions = {}): Uint8Array {
  const ethernet = options.linkType === 'ethernet';
  const linkHeader = ethernet ? ETHERNET_HEADER : 0;
  let size = 24;
  for (const p of packets) {
    if (p.data.length > MAX_UDP_PAYLOAD)
      throw new RangeError(`UDP payload of ${p.data.length} bytes is too large`);
    size += 16 + linkHeader + IPV4_HEADER + UDP_HEADER + p.data.length;
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0xa1b2c3d4, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  view.setUint32(16, 262_144, true); // snaplen
  view.setUint32(20, ethernet ? LINKTYPE.ethernet : LINKTYPE.raw, true);
  let at = 24;
  let ipId = 0;
  for (const p of packets) {
    const frameBytes = linkHeader + IPV4_HEADER + UDP_HEADER + p.data.length;
    const micros = Math.round(p.timeMs * 1000);
    view.setUint32(at, Math.floor(micros / 1e6), true);
    view.setUint32(at + 4, micros % 1e6, true);
    view.setUint32(at + 8, frameBytes, true);
    view.setUint32(at + 12, frameBytes, true);
    let q = at + 16;
    if (ethernet) {
      view.setUint16(q + 12, 0x0800); // MAC addresses stay zero, as on a loopback capture
      q += ETHERNET_HEADER;
    }
    const ip = q;
    const udpLength = UDP_HEADER + p.data.length;
    out[ip] = 0x45;
    view.setUint16(ip + 2, IPV4_HEADER + udpLength);
    view.setUint16(ip + 4, ipId++ & 0xffff);
    view.setUint16(ip + 6, 0x4000); // don't fragment
    out[ip + 8] = 64;
    out[ip + 9] = 17;
    out.set(LOOPBACK, ip + 12);
    out.set(LOOPBACK, ip + 16);
    view.setUint16(ip + 10, foldChecksum(onesComplementSum(out, ip, ip + IPV4_HEADER, 0)));
    const udp = ip + IPV4_HEADER;
    view.setUint16(udp, p.srcPort);
    view.setUint16(udp + 2, p.dstPort);
    view.setUint16(udp + 4, udpLength);
    out.set(p.data, udp + UDP_HEADER);
    // Pseudo-header: source and destination address, protocol, UDP length.
    const pseudo = onesComplementSum(out, ip + 12, ip + 20, 17 + udpLength);
    const checksum = foldChecksum(onesComplementSum(out, udp, udp + udpLength, pseudo));
    view.setUint16(udp + 6, checksum === 0 ? 0xffff : checksum);
    at += 16 + frameBytes;
  }
  return out;
}

export async function writePcap(
  path: string,
  packets: PcapDatagram[],
  options?: PcapWriteOptions,
): Promise<void> {
  await writeFile(path, encodePcap(packets, options));
}
