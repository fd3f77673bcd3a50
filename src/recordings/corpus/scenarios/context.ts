import type { CallPlan } from '../call-plan.ts';
import type { Prng } from '../prng.ts';
import { randomVoice, type TtsCache, type Voice } from '../tts.ts';

/** What a scenario gets: its own random stream and the speech synthesiser. */
export interface ScenarioContext {
  rng: Prng;
  tts: TtsCache;
  /** Campaigns (shared recordings) this corpus uses, so calls of one campaign carry the same audio. */
  campaignCount: number;
}

/** A scenario's result before the generator chooses how it is delivered (WAV or pcap). */
export type ScenarioCall = Omit<CallPlan, 'delivery'> & { requiresPackets?: boolean };

export type Scenario = (ctx: ScenarioContext) => Promise<ScenarioCall>;

/** Two different voices for the two parties of a call. */
export function twoVoices(ctx: ScenarioContext): [Voice, Voice] {
  const a = randomVoice(ctx.rng);
  let b = randomVoice(ctx.rng);
  for (let i = 0; i < 4 && b.engine === a.engine && b.name === a.name; i++) b = randomVoice(ctx.rng);
  return [a, b];
}
