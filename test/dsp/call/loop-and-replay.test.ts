import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { CallAnalyzer, type CallAnalyzerListener } from '../../../src/dsp/call-analyzer.ts';
import { MemoryReplayIndex } from '../../../src/dsp/fingerprint/memory-replay-index.ts';
import { RedisReplayIndex } from '../../../src/dsp/fingerprint/redis-replay-index.ts';
import type { ReplayIndex } from '../../../src/dsp/fingerprint/replay-index.ts';
import { RX } from '../../../src/ingest/media-sink.ts';
import { concat, forEachFrame, speech } from './audio-fixtures.ts';

const quiet: CallAnalyzerListener = { onWindow() {}, onEvent() {}, onEnd() {} };

/** Runs a mono (rx only) recording through a full CallAnalyzer. */
function analyze(key: string, rx: Int16Array, replayIndex?: ReplayIndex): CallAnalyzer {
  const call = new CallAnalyzer(key, quiet, { replayIndex });
  forEachFrame(rx, (frame, k) => call.pushFrame(RX, k, frame));
  call.end();
  return call;
}

const PROMPT =
  'Congratulations, you have been selected for a free cruise. Press one now to claim your prize today.';
const FILLER =
  'The weather this week stays mild with light rain on Thursday, and the weekend looks bright and warm everywhere.';

describe('loop detector (in a call)', () => {
  it('finds a 4 s recording repeated and reports its period', () => {
    const piece = speech(FILLER, { speed: 175 }).subarray(0, 4 * 8000);
    const looped = concat(piece, piece, piece, piece, piece);
    const call = analyze('loop', concat(0.5, looped));
    const evidence = call.loopEvidence(RX);
    expect(evidence.maxScore).toBeGreaterThan(0.7);
    expect(Math.abs(evidence.maxScorePeriodS - 4)).toBeLessThanOrEqual(0.04);
  });

  it('finds a loop whose period is not a whole number of frames', () => {
    const piece = speech(FILLER, { speed: 175 }).subarray(0, 3.31 * 8000);
    const call = analyze('loop-odd', concat(piece, piece, piece, piece, piece, piece));
    const evidence = call.loopEvidence(RX);
    expect(evidence.maxScore).toBeGreaterThan(0.5);
    expect(Math.abs(evidence.maxScorePeriodS - 3.31)).toBeLessThanOrEqual(0.04);
  });

  it('does not call a normal conversation a loop', () => {
    const talk = concat(
      speech('Hi, I am calling about the invoice you sent last week.'),
      0.4,
      speech('Sure, which invoice number is it?', { voice: 'en-us+f3' }),
      0.3,
      speech('It is the one for the garden furniture, dated the twelfth.'),
      0.5,
      speech('Let me check that for you, one moment please.', { voice: 'en-us+f3' }),
      0.3,
      speech('Thanks. I think we were charged twice for delivery.'),
    );
    expect(analyze('talk', talk).loopEvidence(RX).maxScore).toBeLessThan(0.3);
  });
});

/** Replay evidence per call, read just before each call ends (ending releases its match bookkeeping). */
const evidence = new Map<
  string,
  { matchedCalls: number; bestCallKey: string | null; bestOverlapS: number }
>();

async function replayScenario(index: ReplayIndex, tag: string): Promise<void> {
  const prompt = speech(PROMPT);
  const promptMuLaw = speech(PROMPT, { codec: 'mu-law', gainDb: -6 });
  // The same recording on three calls, each starting at a different (sub-frame) offset into the call.
  const calls: [string, Int16Array][] = [
    [`${tag}-campaign-1`, concat(1.0, prompt, 1)],
    [`${tag}-campaign-2`, concat(2.013, promptMuLaw, 1)],
    [`${tag}-campaign-3`, concat(0.355, prompt, 1)],
    [`${tag}-other-1`, concat(0.5, speech(FILLER), 1)],
    [
      `${tag}-other-2`,
      concat(0.5, speech('Good morning, how can I help you today?', { voice: 'en-us+f3' }), 1),
    ],
  ];
  for (const [key, pcm] of calls) {
    const call = new CallAnalyzer(key, quiet, { replayIndex: index });
    forEachFrame(pcm, (frame, k) => call.pushFrame(RX, k, frame));
    await index.flush();
    evidence.set(key, { ...call.replayEvidence() });
    call.end();
  }
}

function expectCampaignFound(tag: string): void {
  expect(evidence.get(`${tag}-campaign-1`)?.matchedCalls).toBe(0);
  expect(evidence.get(`${tag}-campaign-2`)?.matchedCalls).toBe(1);
  expect(evidence.get(`${tag}-campaign-2`)?.bestCallKey).toBe(`${tag}-campaign-1`);
  expect(evidence.get(`${tag}-campaign-3`)?.matchedCalls).toBe(2);
  expect(evidence.get(`${tag}-campaign-3`)?.bestOverlapS).toBeGreaterThan(2);
  expect(evidence.get(`${tag}-other-1`)?.matchedCalls).toBe(0);
  expect(evidence.get(`${tag}-other-2`)?.matchedCalls).toBe(0);
}

describe('ReplayIndex (across calls)', () => {
  it('in memory: finds the same recording on three calls and not on unrelated ones', async () => {
    await replayScenario(new MemoryReplayIndex(), 'mem');
    expectCampaignFound('mem');
  });

  const prefix = `fgtest:call-replay:${process.pid}:`;
  const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: false });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('in Redis: same answers, keys under the prefix with a TTL and a bounded size', async () => {
    const index = new RedisReplayIndex(redis, { keyPrefix: prefix, ttlS: 120, perHashCap: 8 });
    await replayScenario(index, 'redis');
    await index.close();
    expect(index.errors).toBe(0);
    expectCampaignFound('redis');
    const keys = await redis.keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThan(50);
    for (const key of keys.slice(0, 20)) {
      const ttl = await redis.ttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(120);
      expect(await redis.zcard(key)).toBeLessThanOrEqual(8);
    }
  });

  it('in Redis: two index instances (two processes) see each other', async () => {
    const a = new RedisReplayIndex(redis, { keyPrefix: `${prefix}shared:` });
    const b = new RedisReplayIndex('redis://127.0.0.1:6379', { keyPrefix: `${prefix}shared:` });
    const prompt = speech(PROMPT);
    const first = new CallAnalyzer('host-a-call', quiet, { replayIndex: a });
    forEachFrame(concat(0.4, prompt, 1), (f, k) => first.pushFrame(RX, k, f));
    first.end();
    await a.flush();
    const second = new CallAnalyzer('host-b-call', quiet, { replayIndex: b });
    forEachFrame(concat(1.27, speech(PROMPT, { codec: 'a-law' }), 1), (f, k) => second.pushFrame(RX, k, f));
    await b.flush();
    expect(second.replayEvidence().matchedCalls).toBe(1);
    expect(second.replayEvidence().bestCallKey).toBe('host-a-call');
    second.end();
    await b.close();
  });
});
