import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Decimator } from '../../src/ingest/codecs/decimator.ts';
import {
  aLawToLinear,
  linearToALaw,
  linearToMuLaw,
  muLawToLinear,
} from '../../src/ingest/codecs/registry.ts';
import {
  type DigitEvent,
  FRAME_SAMPLES,
  type Leg,
  type MediaSink,
  RX,
  TX,
} from '../../src/ingest/media-sink.ts';
import { feedRecordedCall } from '../../src/recordings/feed-recorded-call.ts';
import { encodePcap } from '../../src/recordings/pcap-writer.ts';
import {
  findRecordedCalls,
  type RecordedCall,
  readRecordedCall,
} from '../../src/recordings/recorded-call.ts';
import { packetize } from '../../src/recordings/rtp-packetizer.ts';

const dir = mkdtempSync(join(tmpdir(), 'fg-feed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

class RecordingSink implements MediaSink {
  readonly order: string[] = [];
  readonly pcm: [number[], number[]] = [[], []];
  readonly digits: DigitEvent[] = [];
  ends = 0;
  pushFrame(leg: Leg, frameIndex: number, pcm: Int16Array): void {
    expect(this.ends).toBe(0);
    this.order.push(`${leg}:${frameIndex}`);
    this.pcm[leg].push(...pcm);
  }
  pushDigit(_leg: Leg, event: DigitEvent): void {
    this.digits.push(event);
  }
  end(): void {
    this.ends++;
  }
}

function noise(n: number, seed: number): Int16Array {
  const out = new Int16Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = (x % 40000) - 20000;
  }
  return out;
}

describe('feedRecordedCall: PCM', () => {
  it('pushes frame k of rx and tx in lockstep, pads the last frame and ends once', () => {
    const rx = noise(8000 + 37, 1);
    const tx = noise(8000 + 37, 2);
    const call: RecordedCall = {
      kind: 'pcm',
      path: 'x.wav',
      sampleRate: 8000,
      channels: 2,
      legs: [rx, tx],
      encoding: 'pcm16',
      warnings: [],
    };
    const sink = new RecordingSink();
    expect(feedRecordedCall(call, sink)).toBeNull();
    const frames = Math.ceil(rx.length / FRAME_SAMPLES);
    expect(sink.order).toEqual(Array.from({ length: frames }, (_, k) => [`0:${k}`, `1:${k}`]).flat());
    expect(sink.pcm[RX].slice(0, rx.length)).toEqual([...rx]);
    expect(sink.pcm[TX].slice(0, tx.length)).toEqual([...tx]);
    expect(sink.pcm[RX].slice(rx.length).every((s) => s === 0)).toBe(true);
    expect(sink.ends).toBe(1);
  });

  it('gives a mono file rx frames only', () => {
    const sink = new RecordingSink();
    feedRecordedCall(
      {
        kind: 'pcm',
        path: 'm.wav',
        sampleRate: 8000,
        channels: 1,
        legs: [noise(800, 3), null],
        encoding: 'pcm16',
        warnings: [],
      },
      sink,
    );
    expect(sink.order).toEqual(['0:0', '0:1', '0:2', '0:3', '0:4']);
    expect(sink.ends).toBe(1);
  });

  it('decimates 16 kHz with the codecs decimator', () => {
    const wide = noise(16000, 4);
    const sink = new RecordingSink();
    feedRecordedCall(
      {
        kind: 'pcm',
        path: 'w.wav',
        sampleRate: 16000,
        channels: 1,
        legs: [wide, null],
        encoding: 'pcm16',
        warnings: [],
      },
      sink,
    );
    const expected = new Int16Array(8000);
    const n = new Decimator(16000).process(wide, 0, wide.length, expected, 0);
    expect(n).toBe(8000);
    expect(sink.pcm[RX]).toEqual([...expected]);
  });
});

describe('feedRecordedCall: packets through CallMedia', () => {
  it('gives back the G.711 samples of both legs bit-exactly, even with reordered capture', async () => {
    const rx = noise(8000, 5);
    const tx = noise(8000, 6);
    const rxPackets = packetize(rx, 8000, 'pcmu', 10, { firstSequence: 65500 });
    const txPackets = packetize(tx, 8000, 'pcma', 20);
    // Swap the payloads of a few neighbouring packets in capture order: the reorder buffer must put them back.
    for (const i of [5, 17, 30])
      [rxPackets[i].data, rxPackets[i + 1].data] = [rxPackets[i + 1].data, rxPackets[i].data];
    const datagrams = [
      ...rxPackets.map((p) => ({ timeMs: 1000 + p.timeMs + 3, srcPort: 1, dstPort: 40000, data: p.data })),
      ...txPackets.map((p) => ({ timeMs: 1000 + p.timeMs + 5, srcPort: 1, dstPort: 40001, data: p.data })),
    ].sort((a, b) => a.timeMs - b.timeMs);
    const path = join(dir, 'call.pcap');
    writeFileSync(path, encodePcap(datagrams));
    const sink = new RecordingSink();
    const media = feedRecordedCall(await readRecordedCall(path), sink);
    expect(media?.stats[RX].packets).toBe(50);
    expect(media?.stats[RX].lost).toBe(0);
    expect(sink.ends).toBe(1);
    expect(sink.pcm[RX]).toEqual([...rx].map((s) => muLawToLinear(linearToMuLaw(s))));
    expect(sink.pcm[TX]).toEqual([...tx].map((s) => aLawToLinear(linearToALaw(s))));
  });
});

describe('findRecordedCalls', () => {
  it('walks folders recursively, sorted, naming calls relative to their argument without extension', async () => {
    const root = join(dir, 'corpus');
    for (const f of [
      'b/two.pcap',
      'a/one.wav',
      'a/deep/three.pcapng',
      'top.WAV',
      'notes.txt',
      'a/label.json',
    ]) {
      mkdirSync(join(root, f, '..'), { recursive: true });
      writeFileSync(join(root, f), '');
    }
    const single = join(dir, 'single.call.wav');
    writeFileSync(single, '');
    const found = await findRecordedCalls([root, single]);
    expect(found).toEqual([
      { path: join(root, 'a/deep/three.pcapng'), call: 'a/deep/three' },
      { path: join(root, 'a/one.wav'), call: 'a/one' },
      { path: join(root, 'b/two.pcap'), call: 'b/two' },
      { path: join(root, 'top.WAV'), call: 'top' },
      { path: single, call: 'single.call' },
    ]);
  });

  it('names a missing path in a one-line error', async () => {
    const missing = join(dir, 'nope');
    await expect(findRecordedCalls([missing])).rejects.toThrow(`${missing}: no such file or directory`);
  });
});
