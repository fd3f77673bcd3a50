/**
 * Reads the UDP datagrams out of a classic pcap or a pcapng capture.
 *
 * Hand-written because no well-kept npm package reads both formats with per-interface link types and
 * timestamp resolutions (the maintained ones cover classic pcap on Ethernet only, or live capture through
 * libpcap bindings that need a native build). Capture files are read whole; this is the offline path.
 */
import { isSupportedLinkType, type SkipReason, udpInFrame } from './link-layer.ts';

export interface CapturedDatagram {
  /** Capture time, milliseconds since the epoch; NaN for pcapng Simple Packet Blocks, which carry none. */
  timeMs: number;
  srcPort: number;
  dstPort: number;
  /** The UDP payload (a view into the file's bytes). */
  payload: Uint8Array;
}

export interface CaptureContents {
  datagrams: CapturedDatagram[];
  skipped: Record<SkipReason, number>;
  /**
   * Byte offset of a last record or block that the file ends inside (a capture stopped while writing), or null.
   * What came before it is kept: a capture cut short is a shorter call, not an unreadable one.
   */
  cutShortAt: number | null;
}

const PCAP_MICRO = 0xa1b2c3d4;
const PCAP_NANO = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER = 0x1a2b3c4d;

/** One-line error naming the file and the problem. */
export function recordingError(path: string, problem: string): Error {
  return new Error(`${path}: ${problem}`);
}

export function isCaptureMagic(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, 4);
  const be = view.getUint32(0, false);
  const le = view.getUint32(0, true);
  return be === PCAPNG_SHB || be === PCAP_MICRO || be === PCAP_NANO || le === PCAP_MICRO || le === PCAP_NANO;
}

export function readCapture(path: string, bytes: Uint8Array): CaptureContents {
  if (bytes.length < 4) throw recordingError(path, 'not a pcap or pcapng file (too short for a header)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: CaptureContents = {
    datagrams: [],
    skipped: { not_udp: 0, fragment: 0, truncated: 0, unsupported_link: 0 },
    cutShortAt: null,
  };
  const be = view.getUint32(0, false);
  if (be === PCAPNG_SHB) readPcapng(path, bytes, view, out);
  else readClassicPcap(path, bytes, view, out);
  return out;
}

function addFrame(
  out: CaptureContents,
  linkType: number,
  bytes: Uint8Array,
  offset: number,
  length: number,
  timeMs: number,
): void {
  const udp = udpInFrame(linkType, bytes, offset, length);
  if (typeof udp === 'string') {
    out.skipped[udp]++;
    return;
  }
  out.datagrams.push({
    timeMs,
    srcPort: udp.srcPort,
    dstPort: udp.dstPort,
    payload: bytes.subarray(udp.payloadOffset, udp.payloadOffset + udp.payloadLength),
  });
}

function readClassicPcap(path: string, bytes: Uint8Array, view: DataView, out: CaptureContents): void {
  const magicLe = view.getUint32(0, true);
  const magicBe = view.getUint32(0, false);
  let little: boolean;
  let nano: boolean;
  if (magicLe === PCAP_MICRO || magicLe === PCAP_NANO) {
    little = true;
    nano = magicLe === PCAP_NANO;
  } else if (magicBe === PCAP_MICRO || magicBe === PCAP_NANO) {
    little = false;
    nano = magicBe === PCAP_NANO;
  } else {
    throw recordingError(path, 'not a pcap or pcapng file (unknown magic number)');
  }
  if (bytes.length < 24) throw recordingError(path, 'truncated pcap file header');
  // The top bits of the link type field carry FCS information in newer files.
  const linkType = view.getUint32(20, little) & 0x03ffffff;
  if (!isSupportedLinkType(linkType)) throw recordingError(path, `unsupported pcap link type ${linkType}`);
  const fractionToMs = nano ? 1e-6 : 1e-3;
  let p = 24;
  while (p < bytes.length) {
    const captured = p + 16 <= bytes.length ? view.getUint32(p + 8, little) : 0;
    if (p + 16 + captured > bytes.length) {
      out.cutShortAt = p;
      return;
    }
    const seconds = view.getUint32(p, little);
    const fraction = view.getUint32(p + 4, little);
    addFrame(out, linkType, bytes, p + 16, captured, seconds * 1000 + fraction * fractionToMs);
    p += 16 + captured;
  }
}

interface PcapngInterface {
  linkType: number;
  /** Timestamp units per second (10^n or 2^n). */
  unitsPerSecond: bigint;
  offsetSeconds: bigint;
}

function readPcapng(path: string, bytes: Uint8Array, view: DataView, out: CaptureContents): void {
  let little = true;
  let interfaces: PcapngInterface[] = [];
  let p = 0;
  while (p < bytes.length) {
    if (p + 12 > bytes.length) {
      out.cutShortAt = p;
      return;
    }
    const blockType = view.getUint32(p, little);
    if (blockType === PCAPNG_SHB) {
      // Each section declares its own byte order.
      const order = view.getUint32(p + 8, true);
      if (order === PCAPNG_BYTE_ORDER) little = true;
      else if (view.getUint32(p + 8, false) === PCAPNG_BYTE_ORDER) little = false;
      else throw recordingError(path, `bad pcapng byte-order magic at byte ${p + 8}`);
      interfaces = [];
    }
    const total = view.getUint32(p + 4, little);
    if (total < 12 || total % 4 !== 0)
      throw recordingError(path, `bad pcapng block length ${total} at byte ${p}`);
    if (p + total > bytes.length) {
      out.cutShortAt = p;
      return;
    }
    const body = p + 8;
    const bodyEnd = p + total - 4;
    switch (blockType) {
      case 1: {
        // Interface Description Block
        if (body + 8 > bodyEnd) throw recordingError(path, `truncated pcapng interface block at byte ${p}`);
        const linkType = view.getUint16(body, little);
        if (!isSupportedLinkType(linkType)) {
          throw recordingError(
            path,
            `unsupported link type ${linkType} on pcapng interface ${interfaces.length}`,
          );
        }
        interfaces.push(readInterfaceOptions(view, body + 8, bodyEnd, little, linkType));
        break;
      }
      case 6: {
        // Enhanced Packet Block
        if (body + 20 > bodyEnd) throw recordingError(path, `truncated pcapng packet block at byte ${p}`);
        const ifIndex = view.getUint32(body, little);
        const iface = interfaces[ifIndex];
        if (iface === undefined)
          throw recordingError(path, `packet for undeclared pcapng interface ${ifIndex}`);
        const high = view.getUint32(body + 4, little);
        const low = view.getUint32(body + 8, little);
        const captured = view.getUint32(body + 12, little);
        if (body + 20 + captured > bodyEnd)
          throw recordingError(path, `truncated pcapng packet block at byte ${p}`);
        addFrame(out, iface.linkType, bytes, body + 20, captured, timestampMs(iface, high, low));
        break;
      }
      case 3: {
        // Simple Packet Block: always interface 0, no timestamp, captured length = what fits in the block.
        const iface = interfaces[0];
        if (iface === undefined)
          throw recordingError(path, 'simple packet block before any pcapng interface');
        const original = view.getUint32(body, little);
        const available = bodyEnd - (body + 4);
        addFrame(out, iface.linkType, bytes, body + 4, Math.min(original, available), Number.NaN);
        break;
      }
      default:
        // Name resolution, statistics, custom and obsolete blocks carry nothing forkguard needs.
        break;
    }
    p += total;
  }
}

function readInterfaceOptions(
  view: DataView,
  p: number,
  end: number,
  little: boolean,
  linkType: number,
): PcapngInterface {
  const iface: PcapngInterface = { linkType, unitsPerSecond: 1_000_000n, offsetSeconds: 0n };
  while (p + 4 <= end) {
    const code = view.getUint16(p, little);
    const length = view.getUint16(p + 2, little);
    if (code === 0) break;
    if (code === 9 && length >= 1) {
      // if_tsresol: high bit set = negative power of two, else negative power of ten.
      const resolution = view.getUint8(p + 4);
      const exponent = BigInt(resolution & 0x7f);
      iface.unitsPerSecond = resolution & 0x80 ? 1n << exponent : 10n ** exponent;
    } else if (code === 14 && length >= 8) {
      iface.offsetSeconds = view.getBigInt64(p + 4, little);
    }
    p += 4 + Math.ceil(length / 4) * 4;
  }
  return iface;
}

function timestampMs(iface: PcapngInterface, high: number, low: number): number {
  // 64-bit nanosecond timestamps exceed 2^53: split into whole seconds and a fraction before leaving BigInt.
  const units = (BigInt(high) << 32n) | BigInt(low);
  const seconds = units / iface.unitsPerSecond + iface.offsetSeconds;
  const fraction = units % iface.unitsPerSecond;
  return Number(seconds) * 1000 + (Number(fraction) * 1000) / Number(iface.unitsPerSecond);
}
