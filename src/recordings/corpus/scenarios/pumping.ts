import { RX, TX } from '../../../ingest/media-sink.ts';
import { sit } from '../modem-signals.ts';
import {
  cadence,
  concat,
  dbm0ToAmplitude,
  music,
  ringback,
  ringbackRegion,
  seconds,
  shapedNoise,
  tones,
  whiteNoise,
} from '../signals.ts';
import { ANNOUNCEMENTS, GREETINGS } from '../texts.ts';
import { Timeline } from '../timeline.ts';
import { randomVoice } from '../tts.ts';
import type { Scenario, ScenarioCall, ScenarioContext } from './context.ts';
import { say } from './conversation.ts';

/**
 * Traffic pumping / IRSF: a long call with no real conversation, kept open to bill minutes. The far end plays
 * silence, noise, a loop or tones; sometimes a short greeting comes first, so the behaviour has an onset.
 */
async function pumping(
  ctx: ScenarioContext,
  kind: 'silence' | 'noise' | 'loop' | 'tones',
): Promise<ScenarioCall> {
  const { rng } = ctx;
  const tl = new Timeline(90);
  let onsetS = 0;
  if (rng.chance(0.35)) {
    const end = await say(
      ctx,
      tl,
      { leg: TX, voice: randomVoice(rng), gain: 1 },
      rng.pick(GREETINGS),
      rng.uniform(0.2, 1),
    );
    onsetS = end + 0.5;
  }
  const durationS = onsetS + rng.uniform(30, 70);
  const span = durationS - onsetS;
  switch (kind) {
    case 'silence':
      // Near-silence: comfort-noise level hiss, what an open line with nobody on it carries.
      tl.place(RX, onsetS, whiteNoise(rng, span, dbm0ToAmplitude(rng.uniform(-75, -55))));
      break;
    case 'noise':
      tl.place(RX, onsetS, shapedNoise(rng, span, dbm0ToAmplitude(rng.uniform(-45, -20)), rng.uniform(0, 1)));
      break;
    case 'loop': {
      const piece = rng.chance(0.5)
        ? await ctx.tts.speak(rng.pick(ANNOUNCEMENTS), randomVoice(rng))
        : music(rng, rng.uniform(3, 8), rng.uniform(0.03, 0.1));
      const gapS = rng.uniform(0.2, 2);
      const loop = cadence(piece, gapS, span);
      tl.place(RX, onsetS, loop, 10 ** (rng.uniform(-8, 0) / 20));
      break;
    }
    case 'tones': {
      const level = dbm0ToAmplitude(rng.uniform(-20, -8));
      const pick = rng.int(0, 2);
      let audio: Float32Array;
      if (pick === 0)
        audio = ringback(span, level, ringbackRegion(rng)); // ringback forever
      else if (pick === 1) {
        const announcement = await ctx.tts.speak(ANNOUNCEMENTS[0], randomVoice(rng));
        audio = cadence(
          concat([sit(rng, rng.uniform(-20, -10)), new Float32Array(seconds(0.2)), announcement]),
          1.5,
          span,
        );
      } else audio = tones([rng.pick([400, 425, 440, 1000])], span, [level]);
      tl.place(RX, onsetS, audio);
      break;
    }
  }
  // The Telnyx side is quiet too: nobody is having a conversation.
  tl.place(TX, onsetS, whiteNoise(rng, span, dbm0ToAmplitude(rng.uniform(-75, -55))));
  return { label: 'pumping', scenario: `pumping/${kind}`, onsetS, legs: tl.finish(durationS) };
}

export const PUMPING_SCENARIOS: ReadonlyArray<[Scenario, number]> = [
  [(ctx) => pumping(ctx, 'silence'), 1],
  [(ctx) => pumping(ctx, 'noise'), 1],
  [(ctx) => pumping(ctx, 'loop'), 1.2],
  [(ctx) => pumping(ctx, 'tones'), 1],
];
