import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RX, TX } from '../../src/ingest/media-sink.ts';
import { STREP_HEADER_BYTES, writeStrepHeader } from '../../src/ingest/strep.ts';
import { encodePcap, type PcapDatagram } from '../../src/recordings/pcap-writer.ts';
import { readRecordedCall } from '../../src/recordings/recorded-call.ts';
import { packetize } from '../../src/recordings/rtp-packetizer.ts';
import {
  ethernetVlan,
  ipv4,
  ipv6,
  nullLoopback,
  PcapngBuilder,
  sll,
  sll2,
  udpPacket,
} from './capture-builders.ts';
import { expectOneLineReadError } from './read-error.ts';

const dir = mkdtempSync(join(tmpdir(), 'fg-pcap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_767_225_600_000; // capture clock of the fixtures, ms since the epoch

function tone(samples: number, step: number): Int16Array {
  const pcm = new Int16Array(samples);
  for (let i = 0; i < samples; i++) pcm[i] = Math.round(8000 * Math.sin(i * step));
  return pcm;
}

/** 1 s of two RTP legs: rx to port 40000, tx to 40001, tx starting 7 ms after rx. */
function twoLegDatagrams(): PcapDatagram[] {
  const rx = packetize(tone(8000, 0.1), 8000, 'pcmu', 0x1111, { firstSequence: 65530 });
  const tx = packetize(tone(8000, 0.3), 8000, 'pcma', 0x2222);
  const all = [
    ...rx.map((p) => ({ timeMs: T0 + p.timeMs, srcPort: 30000, dstPort: 40000, data: p.data })),
    ...tx.map((p) => ({ timeMs: T0 + 7 + p.timeMs, srcPort: 30002, dstPort: 40001, data: p.data })),
  ];
  return all.sort((a, b) => a.timeMs - b.timeMs);
}

async function readFile(name: string, bytes: Uint8Array) {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return readRecordedCall(path);
}

function expectLegs(call: Awaited<ReturnType<typeof readRecordedCall>>, datagrams: PcapDatagram[]): void {
  if (call.kind !== 'packets') throw new Error('expected packets');
  for (const [leg, port] of [
    [RX, 40000],
    [TX, 40001],
  ] as const) {
    const want = datagrams.filter((d) => d.dstPort === port);
    const got = call.packets.filter((p) => p.leg === leg);
    expect(got.length).toBe(want.length);
    got.forEach((p, i) => {
      expect(p.data).toEqual(want[i].data);
      expect(p.timeMs).toBeCloseTo(want[i].timeMs - T0, 2);
    });
  }
  for (let i = 1; i < call.packets.length; i++)
    expect(call.packets[i].timeMs).toBeGreaterThanOrEqual(call.packets[i - 1].timeMs);
}

/** Rewrites our little-endian microsecond pcap as big-endian with nanosecond timestamps. */
function toBigEndianNano(le: Uint8Array): Uint8Array {
  const out = new Uint8Array(le);
  const src = new DataView(le.buffer, le.byteOffset, le.byteLength);
  const dst = new DataView(out.buffer);
  dst.setUint32(0, 0xa1b23c4d, false);
  dst.setUint16(4, src.getUint16(4, true), false);
  dst.setUint16(6, src.getUint16(6, true), false);
  dst.setUint32(16, src.getUint32(16, true), false);
  dst.setUint32(20, src.getUint32(20, true), false);
  for (let p = 24; p < le.length; ) {
    const captured = src.getUint32(p + 8, true);
    dst.setUint32(p, src.getUint32(p, true), false);
    dst.setUint32(p + 4, src.getUint32(p + 4, true) * 1000, false);
    dst.setUint32(p + 8, captured, false);
    dst.setUint32(p + 12, src.getUint32(p + 12, true), false);
    p += 16 + captured;
  }
  return out;
}

describe('pcap reader', () => {
  it('reads what the writer writes: raw IPv4 and Ethernet link types', async () => {
    const datagrams = twoLegDatagrams();
    expectLegs(await readFile('raw.pcap', encodePcap(datagrams)), datagrams);
    expectLegs(await readFile('eth.pcap', encodePcap(datagrams, { linkType: 'ethernet' })), datagrams);
  });

  it('reads big-endian nanosecond pcap', async () => {
    const datagrams = twoLegDatagrams();
    expectLegs(await readFile('be-nano.pcap', toBigEndianNano(encodePcap(datagrams))), datagrams);
  });

  it('reads the media of flows that also carry STUN checks and multiplexed RTCP, whatever comes first', async () => {
    const media = twoLegDatagrams();
    // A STUN binding request (RFC 8489: type 0x0001, length 0, magic cookie, transaction id).
    const stun = Uint8Array.from([
      0,
      1,
      0,
      0,
      0x21,
      0x12,
      0xa4,
      0x42,
      ...Array.from({ length: 12 }, (_, i) => i),
    ]);
    // An RTCP receiver report without report blocks, and a transport feedback packet (type 205).
    const rr = Uint8Array.from([0x80, 201, 0, 1, 0, 0, 0x11, 0x11]);
    const feedback = Uint8Array.from([0x81, 205, 0, 2, 0, 0, 0x11, 0x11, 0, 0, 0x22, 0x22]);
    const control = (timeMs: number, dstPort: number, data: Uint8Array): PcapDatagram => ({
      timeMs,
      srcPort: dstPort === 40000 ? 30000 : 30002,
      dstPort,
      data,
    });
    const all = [
      control(T0 - 5, 40000, stun),
      control(T0 - 4, 40000, stun),
      control(T0 - 3, 40000, rr),
      control(T0 - 2, 40001, stun),
      ...media,
      control(T0 + 30, 40001, feedback),
      control(T0 + 45, 40001, rr),
      control(T0 + 46, 40000, feedback),
    ].sort((a, b) => a.timeMs - b.timeMs);
    expectLegs(await readFile('muxed.pcap', encodePcap(all)), media);
  });

  it('writes valid IPv4 and UDP checksums', () => {
    const bytes = encodePcap([{ timeMs: 0, srcPort: 1234, dstPort: 5678, data: new Uint8Array([1, 2, 3]) }]);
    const ip = bytes.subarray(24 + 16);
    const sum = (b: Uint8Array, start: number, end: number, acc: number) => {
      for (let i = start; i < end; i += 2) acc += (b[i] << 8) | (i + 1 < end ? b[i + 1] : 0);
      while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
      return acc;
    };
    expect(sum(ip, 0, 20, 0)).toBe(0xffff);
    const udpLength = 8 + 3;
    expect(sum(ip, 20, 20 + udpLength, sum(ip, 12, 20, 17 + udpLength))).toBe(0xffff);
  });
});

describe('pcapng reader', () => {
  it('reads hand-built pcapng: per-interface link types and timestamp resolutions, both byte orders', async () => {
    const datagrams = twoLegDatagrams();
    for (const little of [true, false]) {
      const b = new PcapngBuilder(little).sectionHeader();
      b.interface(276, 9); // 0: Linux SLL2, nanoseconds
      b.interface(229, 0x80 | 20); // 1: raw IPv6, 2^-20 s
      b.interface(1); // 2: Ethernet (with VLAN tag), default microseconds
      b.interface(113, 3); // 3: Linux SLL, milliseconds
      b.interface(0, 6); // 4: BSD null loopback
      b.interface(228); // 5: raw IPv4
      b.other();
      datagrams.forEach((d, i) => {
        const udp = udpPacket(d.srcPort, d.dstPort, d.data);
        const ms = BigInt(Math.round(d.timeMs));
        switch (i % 6) {
          case 0:
            b.enhancedPacket(0, ms * 1_000_000n, sll2(ipv4(udp), 0x0800));
            break;
          case 1:
            b.enhancedPacket(1, (ms * 1_048_576n) / 1000n, ipv6(udp));
            break;
          case 2:
            b.enhancedPacket(2, ms * 1000n, ethernetVlan(ipv6(udp), 0x86dd));
            break;
          case 3:
            b.enhancedPacket(3, ms, sll(ipv4(udp), 0x0800));
            break;
          case 4:
            b.enhancedPacket(4, ms * 1000n, nullLoopback(ipv6(udp), 30));
            break;
          default:
            b.enhancedPacket(5, ms * 1000n, ipv4(udp));
        }
      });
      // Noise that must be ignored: TCP, a non-first IPv4 fragment, and a non-RTP UDP flow.
      b.enhancedPacket(3, BigInt(T0), sll(ipv4(udpPacket(1, 2, new Uint8Array(20)), 6), 0x0800));
      b.enhancedPacket(3, BigInt(T0), sll(ipv4(udpPacket(1, 40000, new Uint8Array(20)), 17, 0x0010), 0x0800));
      for (let i = 0; i < 5; i++) {
        b.enhancedPacket(
          3,
          BigInt(T0 + i),
          sll(ipv4(udpPacket(5060, 5060, new TextEncoder().encode('OPTIONS sip:x SIP/2.0'))), 0x0800),
        );
      }
      const call = await readFile(`hand-${little ? 'le' : 'be'}.pcapng`, b.bytes());
      const expected = datagrams.map((d) => ({ ...d, timeMs: Math.round(d.timeMs) }));
      // 2^-20 s resolution truncates each timestamp by under a microsecond (the check allows 5 µs).
      expectLegs(call, expected);
      expect(call.kind === 'packets' && call.warnings.join()).toMatch(
        /ignored non-RTP UDP to port\(s\) 5060/,
      );
    }
  });

  it('times Simple Packet Blocks from RTP sequence numbers', async () => {
    const rx = packetize(tone(1600, 0.1), 8000, 'pcmu', 7, { firstSequence: 65534 });
    const b = new PcapngBuilder().sectionHeader().interface(101);
    for (const p of rx) b.simplePacket(ipv4(udpPacket(1, 40000, p.data)));
    const call = await readFile('spb.pcapng', b.bytes());
    expect(call.kind === 'packets' && call.packets.map((p) => p.timeMs)).toEqual(rx.map((p) => p.timeMs));
  });
});

function strepDatagram(callLegId: string, direction: 0 | 1, rtp: Uint8Array): Uint8Array {
  const out = new Uint8Array(STREP_HEADER_BYTES + rtp.length);
  writeStrepHeader(out, 0, { direction, callLegId });
  out.set(rtp, STREP_HEADER_BYTES);
  return out;
}

describe('STREP captures', () => {
  const busy = '6f1c7d3e-8a2b-4c5d-9e0f-112233445566';
  const quiet = '00000000-1111-2222-3333-444444444444';

  it('strips the header, takes the direction from the D bit and keeps the busiest call_leg_id', async () => {
    const rx = packetize(tone(4000, 0.1), 8000, 'pcmu', 1);
    const tx = packetize(tone(4000, 0.2), 8000, 'pcmu', 2);
    const other = packetize(tone(800, 0.3), 8000, 'pcma', 3);
    const datagrams: PcapDatagram[] = [];
    rx.forEach((p, i) => {
      datagrams.push({
        timeMs: T0 + p.timeMs,
        srcPort: 7000,
        dstPort: 9000,
        data: strepDatagram(busy, 0, p.data),
      });
      datagrams.push({
        timeMs: T0 + p.timeMs + 1,
        srcPort: 7000,
        dstPort: 9000,
        data: strepDatagram(busy, 1, tx[i].data),
      });
      if (i < other.length) {
        datagrams.push({
          timeMs: T0 + p.timeMs + 2,
          srcPort: 7000,
          dstPort: 9000,
          data: strepDatagram(quiet, 0, other[i].data),
        });
      }
    });
    const call = await readFile('strep.pcap', encodePcap(datagrams));
    if (call.kind !== 'packets') throw new Error('expected packets');
    expect(call.callLegId).toBe(busy);
    expect(call.packets.filter((p) => p.leg === RX).map((p) => p.data)).toEqual(rx.map((p) => p.data));
    expect(call.packets.filter((p) => p.leg === TX).map((p) => p.data)).toEqual(tx.map((p) => p.data));
    expect(call.packets[0].timeMs).toBe(0);
    expect(call.packets.every((p) => p.callLegId === busy)).toBe(true);
    expect(call.warnings.join()).toContain(`ignoring ${quiet} (${other.length})`);
  });
});

/** Ten records of two RTP legs, and the byte offset of record n in it. */
const good = encodePcap(twoLegDatagrams().slice(0, 10));
function recordAt(n: number): number {
  let p = 24;
  const view = new DataView(good.buffer);
  for (let i = 0; i < n; i++) p += 16 + view.getUint32(p + 8, true);
  return p;
}

describe('bad captures get one-line errors naming the file', () => {
  const badLink = new Uint8Array(good.subarray(0, 24));
  new DataView(badLink.buffer).setUint32(20, 147, true);
  const threeStreams = encodePcap(
    [40000, 40002, 40004].flatMap((port) =>
      packetize(tone(800, 0.1), 8000, 'pcmu', port).map((p) => ({
        timeMs: p.timeMs,
        srcPort: 1,
        dstPort: port,
        data: p.data,
      })),
    ),
  );
  const cases: [string, string, Uint8Array, RegExp][] = [
    ['empty', 'empty.pcap', new Uint8Array(0), /: empty file$/],
    [
      'wrong magic',
      'magic.pcap',
      new TextEncoder().encode('RIFF....WAVEfmt not a capture'),
      /: not a pcap or pcapng file \(unknown magic number\)$/,
    ],
    ['header only', 'short.pcap', good.subarray(0, 10), /: truncated pcap file header$/],
    [
      'cut inside its first record',
      'cut0.pcap',
      good.subarray(0, recordAt(0) + 30),
      /: no RTP or STREP packets in capture \(0 UDP datagrams\), and the file is cut short at byte 24$/,
    ],
    ['unsupported link type', 'link.pcap', badLink, /: unsupported pcap link type 147$/],
    [
      'no packets',
      'none.pcap',
      good.subarray(0, 24),
      /: no RTP or STREP packets in capture \(0 UDP datagrams\)$/,
    ],
    [
      'three RTP streams',
      'three.pcap',
      threeStreams,
      /: 3 RTP streams \(destination ports 40000, 40002, 40004\); expected 1 or 2$/,
    ],
    [
      'truncated pcapng block',
      'cut.pcapng',
      new PcapngBuilder()
        .sectionHeader()
        .interface(101)
        .enhancedPacket(0, 0n, new Uint8Array(40))
        .bytes()
        .subarray(0, 80),
      /: no RTP or STREP packets in capture \(0 UDP datagrams\), and the file is cut short at byte 52$/,
    ],
    [
      'pcapng packet on an undeclared interface',
      'iface.pcapng',
      new PcapngBuilder().sectionHeader().interface(101).enhancedPacket(3, 0n, new Uint8Array(40)).bytes(),
      /: packet for undeclared pcapng interface 3$/,
    ],
    [
      'a WAV named .pcap',
      'wav.pcap',
      new TextEncoder().encode('RIFF\x24\x00\x00\x00WAVEfmt '),
      /unknown magic number/,
    ],
  ];
  for (const [name, file, bytes, message] of cases) {
    it(name, async () => {
      const path = join(dir, file);
      await expectOneLineReadError(path, bytes, message);
    });
  }
});

describe('a capture cut short inside its last record (stopped while writing)', () => {
  for (const [name, records, extra] of [
    ['inside a record', 3, 30],
    ['inside a record header', 5, 7],
  ] as const) {
    it(`${name}: keeps the records before it and says where it was cut`, async () => {
      const path = join(dir, `cut-${records}.pcap`);
      writeFileSync(path, good.subarray(0, recordAt(records) + extra));
      const call = await readRecordedCall(path);
      if (call.kind !== 'packets') throw new Error('expected packets');
      expect(call.packets.length).toBe(records);
      expect(call.warnings).toContain(
        `capture cut short inside its last record (byte ${recordAt(records)}): read what came before`,
      );
    });
  }

  it('a pcapng cut inside a packet block keeps the blocks before it', async () => {
    const path = join(dir, 'cut-late.pcapng');
    // Link type 101: raw IP.
    const builder = new PcapngBuilder().sectionHeader().interface(101);
    for (const d of twoLegDatagrams().slice(0, 4))
      builder.enhancedPacket(0, BigInt(d.timeMs) * 1000n, ipv4(udpPacket(d.srcPort, d.dstPort, d.data)));
    const bytes = builder.bytes();
    writeFileSync(path, bytes.subarray(0, bytes.length - 10));
    const call = await readRecordedCall(path);
    if (call.kind !== 'packets') throw new Error('expected packets');
    expect(call.packets.length).toBe(3);
    expect(call.warnings.some((w) => w.startsWith('capture cut short inside its last record'))).toBe(true);
  });
});
