import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RtcpReceiverInfo, RtcpRrPacket, RtcpSenderInfo, RtcpSrPacket } from 'werift-rtp';
import { emptyLegStats } from '../../../src/ingest/media-sink.ts';
import { isRtcpSecondOctet, isValidCompoundRtcp, readRtcp } from '../../../src/ingest/rtp/rtcp.ts';
import { receiverReport } from '../udp/udp-test-kit.ts';

describe('RTCP on a media port', () => {
  it('tells RTCP from RTP by the second octet as RFC 5761 §4 does', () => {
    for (const rtcp of [192, 200, 201, 202, 203, 204, 205, 206, 207, 223])
      expect(isRtcpSecondOctet(rtcp)).toBe(true);
    // Payload types 0, 8, 9, 13, 96-127 with and without the marker bit are media.
    for (const pt of [0, 8, 9, 13, 18, 63, 96, 101, 111, 127]) {
      expect(isRtcpSecondOctet(pt)).toBe(false);
      expect(isRtcpSecondOctet(0x80 | pt)).toBe(false);
    }
  });

  it('reads the figures of a hand-written receiver report', () => {
    const stats = emptyLegStats();
    const rr = receiverReport(64, 258, 123);
    expect(isValidCompoundRtcp(rr, 0, rr.length)).toBe(true);
    readRtcp(rr, 0, rr.length, stats);
    expect(stats).toMatchObject({
      rtcpPackets: 1,
      rtcpMalformed: 0,
      rtcpSenderReports: 0,
      rtcpReportBlocks: 1,
      reportedFractionLost: 0.25,
      reportedCumulativeLost: 258,
      reportedJitter: 123,
    });
  });

  it('reads a compound SR + RR at an offset, counting each report block and keeping the last', () => {
    const sr = new RtcpSrPacket({
      ssrc: 7,
      senderInfo: new RtcpSenderInfo({
        ntpTimestamp: 1n << 40n,
        rtpTimestamp: 16000,
        packetCount: 100,
        octetCount: 16000,
      }),
      reports: [
        new RtcpReceiverInfo({ ssrc: 9, fractionLost: 128, packetsLost: 5, highestSequence: 1, jitter: 40 }),
      ],
    }).serialize();
    const rr = new RtcpRrPacket({
      ssrc: 7,
      reports: [
        new RtcpReceiverInfo({ ssrc: 9, fractionLost: 32, packetsLost: 6, highestSequence: 2, jitter: 41 }),
      ],
    }).serialize();
    const datagram = Buffer.concat([Buffer.alloc(24, 0xc5), sr, rr]);
    const stats = emptyLegStats();
    readRtcp(datagram, 24, datagram.length - 24, stats);
    expect(stats).toMatchObject({
      rtcpPackets: 1,
      rtcpMalformed: 0,
      rtcpSenderReports: 1,
      rtcpReportBlocks: 2,
      reportedFractionLost: 32 / 256,
      reportedCumulativeLost: 6,
      reportedJitter: 41,
    });
  });

  it('counts as malformed, and reads nothing of, a datagram whose lengths do not add up or whose version is not 2', () => {
    const rr = receiverReport(64, 258, 123);
    const cases = [
      rr.subarray(0, 31), // one byte short
      Buffer.concat([rr, Buffer.alloc(3)]), // trailing bytes
      Buffer.concat([rr, Buffer.from([0x40, 202, 0, 0])]), // a second packet of version 1
      Buffer.from([0x81, 201]), // shorter than a header
    ];
    const stats = emptyLegStats();
    for (const bad of cases) readRtcp(bad, 0, bad.length, stats);
    expect(stats.rtcpPackets).toBe(cases.length);
    expect(stats.rtcpMalformed).toBe(cases.length);
    expect(stats.rtcpReportBlocks).toBe(0);
  });

  it('never throws on random bytes, and its counts stay consistent', () => {
    const stats = emptyLegStats();
    let datagrams = 0;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, rtcpHeader) => {
        const data = Buffer.from(bytes);
        // Half of them start like RTCP, so the length walk and werift are reached too.
        if (rtcpHeader && data.length >= 2) {
          data[0] = 0x80 | (data[0] & 0x1f);
          data[1] = 200 + (data[1] % 8);
        }
        readRtcp(data, 0, data.length, stats);
        datagrams++;
      }),
      { numRuns: 2000 },
    );
    expect(stats.rtcpPackets).toBe(datagrams);
    expect(stats.rtcpMalformed).toBeLessThanOrEqual(datagrams);
    expect(stats.reportedFractionLost).toBeGreaterThanOrEqual(0);
    expect(stats.reportedFractionLost).toBeLessThan(1);
  });
});
