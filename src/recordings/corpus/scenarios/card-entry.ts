import { luhnCheckDigit } from '../../../alert/luhn.ts';
import type { Prng } from '../prng.ts';
import { keyDigits } from '../signals.ts';
import { CARD_PROMPTS } from '../texts.ts';
import { Timeline } from '../timeline.ts';
import { randomVoice } from '../tts.ts';
import { type Scenario, type ScenarioCall, type ScenarioContext, twoVoices } from './context.ts';
import { assignParties, converse, greet, say } from './conversation.ts';

/** A Luhn-valid card number of a real-looking scheme: 16 digits (Visa, Mastercard) or 15 (Amex). */
export function cardNumber(rng: Prng): { digits: string; groups: number[] } {
  const scheme = rng.int(0, 2);
  let partial: string;
  let length: number;
  let groups: number[];
  if (scheme === 2) {
    partial = rng.pick(['34', '37']);
    length = 15;
    groups = [4, 6, 5];
  } else {
    partial = scheme === 0 ? '4' : String(rng.int(51, 55));
    length = 16;
    groups = [4, 4, 4, 4];
  }
  while (partial.length < length - 1) partial += String(rng.int(0, 9));
  return { digits: partial + luhnCheckDigit(partial), groups };
}

/** A payment card keyed in as DTMF after a prompt: in-band audio, or RFC 4733 events (packets only). */
async function cardEntry(ctx: ScenarioContext, asEvents: boolean): Promise<ScenarioCall> {
  const { rng } = ctx;
  const { agent, caller } = assignParties(rng, twoVoices(ctx));
  const tl = new Timeline();
  let t = await greet(ctx, tl, caller, rng.uniform(0.2, 1));
  if (rng.chance(0.6)) t = await converse(ctx, tl, agent, caller, t + 0.4, t + rng.uniform(4, 12));
  const prompter = { ...agent, voice: rng.chance(0.5) ? agent.voice : randomVoice(rng) };
  t = await say(ctx, tl, prompter, rng.pick(CARD_PROMPTS), t + 0.5);
  const { digits, groups } = cardNumber(rng);
  const { audio, keyed } = keyDigits(rng, digits, rng.chance(0.6) ? groups : []);
  const onsetS = t + rng.uniform(0.8, 2.5);
  const shifted = keyed.map((k) => ({ ...k, startS: k.startS + onsetS }));
  if (!asEvents) tl.place(caller.leg, onsetS, audio);
  const after = onsetS + audio.length / 8000;
  const end = await say(
    ctx,
    tl,
    prompter,
    'Thank you, please wait while we process your payment.',
    after + rng.uniform(0.5, 1.5),
  );
  return {
    label: 'card_entry',
    scenario: asEvents ? `card_entry/rfc4733_${digits.length}` : `card_entry/inband_${digits.length}`,
    onsetS,
    lastDigitS: onsetS + keyed[keyed.length - 1].startS + keyed[keyed.length - 1].durS,
    legs: tl.finish(end + rng.uniform(1, 3)),
    telephoneEvents: asEvents ? { leg: caller.leg, digits: shifted } : undefined,
    requiresPackets: asEvents,
  };
}

export const CARD_ENTRY_SCENARIOS: ReadonlyArray<[Scenario, number]> = [
  [(ctx) => cardEntry(ctx, false), 1.5],
  [(ctx) => cardEntry(ctx, true), 1],
];
