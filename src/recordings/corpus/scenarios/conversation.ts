import { type Leg, RX, TX } from '../../../ingest/media-sink.ts';
import type { Prng } from '../prng.ts';
import { RATE } from '../signals.ts';
import { AGENT_LINES, AGENT_OPENINGS, BACKCHANNELS, CALLER_LINES, CLOSINGS, GREETINGS } from '../texts.ts';
import { type Timeline, turnGapS } from '../timeline.ts';
import type { Voice } from '../tts.ts';
import type { ScenarioContext } from './context.ts';

export interface Party {
  leg: Leg;
  voice: Voice;
  gain: number;
}

/** Says `text` on a party's leg at `atS`; returns when it ends. */
export async function say(
  ctx: ScenarioContext,
  tl: Timeline,
  party: Party,
  text: string,
  atS: number,
): Promise<number> {
  const audio = await ctx.tts.speak(text, party.voice);
  return tl.place(party.leg, Math.max(0, atS), audio, party.gain);
}

/**
 * A natural two-party exchange from `startS` until about `untilS`: alternating turns with human gaps, the odd
 * overlap, backchannels from the listener during long turns. Returns when the last turn ends.
 */
export async function converse(
  ctx: ScenarioContext,
  tl: Timeline,
  agent: Party,
  caller: Party,
  startS: number,
  untilS: number,
): Promise<number> {
  const { rng } = ctx;
  let t = await say(ctx, tl, agent, rng.pick(AGENT_OPENINGS), startS);
  let speaker = caller;
  while (t < untilS) {
    const listener = speaker === agent ? caller : agent;
    const lines = speaker === agent ? AGENT_LINES : CALLER_LINES;
    const start = t + turnGapS(rng);
    const end = await say(ctx, tl, speaker, rng.pick(lines), start);
    if (end - start > 3 && rng.chance(0.5)) {
      await say(ctx, tl, listener, rng.pick(BACKCHANNELS), start + rng.uniform(1.2, end - start - 0.8));
    }
    t = end;
    speaker = listener;
  }
  return say(ctx, tl, speaker, rng.pick(CLOSINGS), t + turnGapS(rng));
}

/** Answer greeting on the leg that picks up. */
export async function greet(ctx: ScenarioContext, tl: Timeline, party: Party, atS: number): Promise<number> {
  return say(ctx, tl, party, ctx.rng.pick(GREETINGS), atS);
}

/** Which leg is the customer calling in: either direction happens on Telnyx (inbound or outbound calls). */
export function assignParties(rng: Prng, voices: [Voice, Voice]): { agent: Party; caller: Party } {
  const agentLeg: Leg = rng.chance(0.5) ? TX : RX;
  const callerLeg: Leg = agentLeg === TX ? RX : TX;
  return {
    agent: { leg: agentLeg, voice: voices[0], gain: 10 ** (rng.uniform(-8, 2) / 20) },
    caller: { leg: callerLeg, voice: voices[1], gain: 10 ** (rng.uniform(-8, 2) / 20) },
  };
}

export function durationOf(samples: Float32Array): number {
  return samples.length / RATE;
}
