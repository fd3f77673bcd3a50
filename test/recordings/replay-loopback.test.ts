/**
 * Issue 2's proof: a WAV replayed over loopback UDP into the real ingest server comes back as the same samples
 * (bit-exact after G.711/L16, within a stated tolerance after G.722/Opus), through port pairs and STREP; and a
 * replayed capture gives the same frames live as offline.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  aLawToLinear,
  linearToALaw,
  linearToMuLaw,
  muLawToLinear,
} from '../../src/ingest/codecs/registry.ts';
import type { CallIdentity, DigitEvent, Leg, MediaSink } from '../../src/ingest/media-sink.ts';
import { FRAME_SAMPLES, RX, TX } from '../../src/ingest/media-sink.ts';
import { IngestServer } from '../../src/ingest/udp/ingest-server.ts';
import { feedRecordedCall } from '../../src/recordings/feed-recorded-call.ts';
import { encodePcap } from '../../src/recordings/pcap-writer.ts';
import { readRecordedCall } from '../../src/recordings/recorded-call.ts';
import { replayCalls } from '../../src/recordings/replay-engine.ts';
import { packetize, type ReplayCodec } from '../../src/recordings/rtp-packetizer.ts';
import type { UdpTarget } from '../../src/recordings/udp-target.ts';
import { writeWav } from '../../src/recordings/wav-writer.ts';

/** Port-pair range of this test file. */
const FIRST_PORT = 27_400;
const dir = mkdtempSync(join(tmpdir(), 'fg-loopback-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

class CollectingSink implements MediaSink {
  readonly pcm: [number[], number[]] = [[], []];
  ended = false;
  /** Transport stats of the session, for failure messages. */
  stats = '';
  pushFrame(leg: Leg, _frameIndex: number, pcm: Int16Array): void {
    for (const s of pcm) this.pcm[leg].push(s);
  }
  pushDigit(_leg: Leg, _event: DigitEvent): void {}
  end(): void {
    this.ended = true;
  }
}

/**
 * The leg's samples from its first non-silent frame on. Live ingest aligns legs by arrival time, so on a loaded
 * machine (scheduling jitter above 10 ms) a leg may legitimately start one silent frame later; what follows must
 * still be the exact samples.
 */
function fromFirstSound(pcm: number[]): number[] {
  let start = 0;
  while (
    start + FRAME_SAMPLES <= pcm.length &&
    pcm.slice(start, start + FRAME_SAMPLES).every((s) => s === 0)
  ) {
    start += FRAME_SAMPLES;
  }
  return pcm.slice(start);
}

async function withServer(
  run: (server: IngestServer, strep: UdpTarget) => Promise<void>,
): Promise<Map<string, CollectingSink>> {
  const sinks = new Map<string, CollectingSink>();
  const server = new IngestServer(
    {
      host: '127.0.0.1',
      rtpPorts: { first: FIRST_PORT, last: FIRST_PORT + 3 },
      strepPort: 0,
      idleMs: 60_000,
    },
    {
      open(identity: CallIdentity) {
        const sink = new CollectingSink();
        sinks.set(identity.stream, sink);
        return sink;
      },
      closed(session) {
        const sink = sinks.get(session.identity.stream);
        if (sink) sink.stats = JSON.stringify(session.media.stats);
      },
    },
  );
  await server.start();
  try {
    await run(server, { host: '127.0.0.1', port: server.strepAddress()!.port, family: 4 });
    // Let the last datagrams land before shutdown plays out and ends every session.
    await new Promise((r) => setTimeout(r, 150));
  } finally {
    await server.stop();
  }
  return sinks;
}

const pair = (i: number) => ({
  mode: 'pair' as const,
  rx: { host: '127.0.0.1', port: FIRST_PORT + 2 * i, family: 4 as const },
  tx: { host: '127.0.0.1', port: FIRST_PORT + 2 * i + 1, family: 4 as const },
});

const RX_FREQS = [300, 1100, 2300];
const TX_FREQS = [450, 1700, 3100];

/** Speech-band multi-tone at `rate`, sampled at (possibly fractional) times (i - delay) / rate. */
function toneAt(freqs: number[], rate: number, i: number, delay = 0): number {
  let sum = 0;
  for (const f of freqs) sum += (6000 / freqs.length) * Math.sin((2 * Math.PI * f * (i - delay)) / rate);
  return sum;
}

function signal(seconds: number, freqs: number[], rate: number): Int16Array {
  return Int16Array.from({ length: seconds * rate }, (_, i) => Math.round(toneAt(freqs, rate, i)));
}

const RX_AUDIO = signal(1, RX_FREQS, 8000);
const TX_AUDIO = signal(1, TX_FREQS, 8000);

/** Amplitude of the `f` Hz component of 8 kHz `pcm` (Goertzel). */
function toneAmplitude(pcm: number[], f: number): number {
  const w = (2 * Math.PI * f) / 8000;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (const x of pcm) {
    const s0 = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return (2 * Math.sqrt(power)) / pcm.length;
}

/**
 * SNR (dB) of `got` (8 kHz) against the ideal tones delayed by the codec's delay, searched in quarter samples:
 * G.722's QMF and the decimators leave a fractional delay.
 */
function snrDb(freqs: number[], got: number[], maxLag = 240): number {
  const snrAt = (lag: number) => {
    let signalPower = 0;
    let noisePower = 0;
    for (let i = 800; i < 7200; i++) {
      const want = toneAt(freqs, 8000, i, lag);
      const e = (got[i] ?? 0) - want;
      signalPower += want * want;
      noisePower += e * e;
    }
    return 10 * Math.log10(signalPower / Math.max(noisePower, 1));
  };
  let bestSnr = Number.NEGATIVE_INFINITY;
  for (let lag = 0; lag <= maxLag; lag += 0.25) bestSnr = Math.max(bestSnr, snrAt(lag));
  return bestSnr;
}

async function replayWav(
  codec: ReplayCodec,
  destination: Parameters<typeof replayCalls>[0]['destination'],
  wav: string,
) {
  const summary = await replayCalls({
    files: [wav],
    destination,
    codec,
    speed: 2,
    repeat: 1,
    concurrency: 1,
  });
  expect(summary).toMatchObject({ calls: 1, failed: 0, packets: 100, sendErrors: 0 });
}

describe('replay -> real UDP ingest -> samples', () => {
  const wav = join(dir, 'call.wav');

  it('PCMU, PCMA and L16 come back bit-exact on both legs (port pairs)', async () => {
    await writeWav(wav, [RX_AUDIO, TX_AUDIO], 8000, 'pcm16');
    const codecs: [ReplayCodec, (s: number) => number][] = [
      ['pcmu', (s) => muLawToLinear(linearToMuLaw(s))],
      ['pcma', (s) => aLawToLinear(linearToALaw(s))],
      ['l16', (s) => s],
    ];
    for (const [codec, roundTrip] of codecs) {
      const sinks = await withServer(async () => replayWav(codec, pair(1), wav));
      const sink = sinks.get(`udp:${FIRST_PORT + 2}`);
      expect(sink?.ended, codec).toBe(true);
      const legs = sink!.pcm.map((pcm) => fromFirstSound(pcm).slice(0, 8000));
      expect(legs[RX], `${codec} ${sink?.stats}`).toEqual([...RX_AUDIO].map(roundTrip));
      expect(legs[TX], `${codec} ${sink?.stats}`).toEqual([...TX_AUDIO].map(roundTrip));
    }
  });

  it('PCMU through STREP (--target) comes back bit-exact', async () => {
    await writeWav(wav, [RX_AUDIO, TX_AUDIO], 8000, 'pcm16');
    const sinks = await withServer(async (_server, strep) =>
      replayWav('pcmu', { mode: 'strep', target: strep }, wav),
    );
    const streams = [...sinks.keys()];
    expect(streams).toHaveLength(1);
    expect(streams[0]).toMatch(/^strep:[0-9a-f-]{36}$/);
    const sink = sinks.get(streams[0])!;
    expect(fromFirstSound(sink.pcm[RX]).slice(0, 8000)).toEqual(
      [...RX_AUDIO].map((s) => muLawToLinear(linearToMuLaw(s))),
    );
    expect(fromFirstSound(sink.pcm[TX]).slice(0, 8000)).toEqual(
      [...TX_AUDIO].map((s) => muLawToLinear(linearToMuLaw(s))),
    );
  });

  it('G.722 comes back within 20 dB SNR on both legs (8 and 16 kHz WAV input; ~33 dB measured offline)', async () => {
    for (const rate of [8000, 16000] as const) {
      const file = join(dir, `call-${rate}.wav`);
      await writeWav(file, [signal(1, RX_FREQS, rate), signal(1, TX_FREQS, rate)], rate, 'pcm16');
      const sinks = await withServer(async () => replayWav('g722', pair(0), file));
      const sink = sinks.get(`udp:${FIRST_PORT}`)!;
      for (const [leg, freqs] of [
        [RX, RX_FREQS],
        [TX, TX_FREQS],
      ] as const) {
        const snr = snrDb(freqs, fromFirstSound(sink.pcm[leg]));
        expect(snr, `g722 ${rate} Hz leg ${leg}: ${snr.toFixed(1)} dB`).toBeGreaterThan(20);
      }
    }
  });

  // Opus is a perceptual codec (SILK at these rates does not keep the waveform), so the tolerance is on what is
  // heard: every tone of each leg at its level within 3 dB, and no other leg's tones leaking in.
  it('Opus comes back with every tone within 3 dB on both legs (8 and 16 kHz WAV input)', async () => {
    for (const rate of [8000, 16000] as const) {
      const file = join(dir, `call-opus-${rate}.wav`);
      await writeWav(file, [signal(1, RX_FREQS, rate), signal(1, TX_FREQS, rate)], rate, 'pcm16');
      const sinks = await withServer(async () => replayWav('opus', pair(0), file));
      const sink = sinks.get(`udp:${FIRST_PORT}`)!;
      for (const [leg, freqs, others] of [
        [RX, RX_FREQS, TX_FREQS],
        [TX, TX_FREQS, RX_FREQS],
      ] as const) {
        const pcm = sink.pcm[leg].slice(1600, 7200);
        for (const f of freqs) {
          const db = 20 * Math.log10(toneAmplitude(pcm, f) / (6000 / freqs.length));
          expect(Math.abs(db), `opus ${rate} Hz leg ${leg} ${f} Hz: ${db.toFixed(1)} dB`).toBeLessThan(3);
        }
        for (const f of others) expect(toneAmplitude(pcm, f)).toBeLessThan(200);
      }
    }
  });
});

describe('a replayed capture gives the same frames live as offline', () => {
  it('pcap -> replay -> ingest equals pcap -> feedRecordedCall', async () => {
    const rx = packetize(RX_AUDIO, 8000, 'pcma', 77, { firstSequence: 65520 });
    const tx = packetize(TX_AUDIO, 8000, 'pcmu', 78);
    const datagrams = [
      ...rx.map((p) => ({ timeMs: p.timeMs, srcPort: 5000, dstPort: 6000, data: p.data })),
      ...tx.map((p) => ({ timeMs: p.timeMs + 4, srcPort: 5002, dstPort: 6002, data: p.data })),
    ].sort((a, b) => a.timeMs - b.timeMs);
    const path = join(dir, 'call.pcap');
    writeFileSync(path, encodePcap(datagrams));
    const offline = new CollectingSink();
    feedRecordedCall(await readRecordedCall(path), offline);
    const sinks = await withServer(async () => {
      const summary = await replayCalls({
        files: [path],
        destination: pair(1),
        codec: 'pcmu',
        speed: 2,
        repeat: 1,
        concurrency: 1,
      });
      expect(summary.packets).toBe(100);
    });
    const live = sinks.get(`udp:${FIRST_PORT + 2}`)!;
    for (const leg of [RX, TX]) {
      expect(fromFirstSound(live.pcm[leg]).slice(0, 7840)).toEqual(
        fromFirstSound(offline.pcm[leg]).slice(0, 7840),
      );
    }
    expect(offline.pcm[RX].slice(0, 8000)).toEqual([...RX_AUDIO].map((s) => aLawToLinear(linearToALaw(s))));
  });
});
