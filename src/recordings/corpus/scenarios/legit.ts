import { RX } from '../../../ingest/media-sink.ts';
import { dbm0ToAmplitude, keyDigits, music, ringback, ringbackRegion } from '../signals.ts';
import { BACKCHANNELS, CLOSINGS, IVR_PROMPTS, LONG_STORY } from '../texts.ts';
import { Timeline } from '../timeline.ts';
import { randomVoice } from '../tts.ts';
import { type Scenario, type ScenarioCall, type ScenarioContext, twoVoices } from './context.ts';
import { assignParties, converse, greet, say } from './conversation.ts';

/** Ordinary calls, including the hard negatives that break naive detectors. */

const conversation: Scenario = async (ctx) => {
  const { agent, caller } = assignParties(ctx.rng, twoVoices(ctx));
  const tl = new Timeline();
  const first = await greet(ctx, tl, caller, ctx.rng.uniform(0.2, 1.5));
  const end = await converse(ctx, tl, agent, caller, first + 0.4, ctx.rng.uniform(18, 40));
  return done(tl, end, 'legit/conversation');
};

/** An IVR menu answered with 1-4 digits or a PIN, then a person: digits that are not a card. */
const ivrDigits: Scenario = async (ctx) => {
  const { rng } = ctx;
  const { agent, caller } = assignParties(rng, twoVoices(ctx));
  const ivr = { ...agent, voice: randomVoice(rng) };
  const tl = new Timeline();
  let t = rng.uniform(0.3, 1);
  const rounds = rng.int(1, 3);
  for (let r = 0; r < rounds; r++) {
    t = await say(ctx, tl, ivr, rng.pick(IVR_PROMPTS), t);
    const pin = rng.chance(0.4);
    const count = pin ? rng.int(4, 6) : rng.int(1, 4);
    let digits = '';
    for (let i = 0; i < count; i++) digits += rng.pick((pin ? '0123456789' : '0123456789*#').split(''));
    const { audio } = keyDigits(rng, digits);
    t = tl.place(caller.leg, t + rng.uniform(0.8, 2.5), audio, 1);
  }
  const end = await converse(ctx, tl, agent, caller, t + rng.uniform(1, 3), t + rng.uniform(12, 25));
  return done(tl, end, 'legit/ivr_digits');
};

/** Hold music on the agent's leg, then the agent returns. */
const holdMusic: Scenario = async (ctx) => {
  const { rng } = ctx;
  const { agent, caller } = assignParties(rng, twoVoices(ctx));
  const tl = new Timeline();
  let t = await greet(ctx, tl, caller, rng.uniform(0.2, 1));
  t = await say(ctx, tl, agent, 'Please hold while I transfer you.', t + 0.5);
  const holdS = rng.uniform(8, 25);
  tl.place(agent.leg, t + 0.3, music(rng, holdS, rng.uniform(0.03, 0.12)));
  const end = await converse(ctx, tl, agent, caller, t + holdS + 0.8, t + holdS + rng.uniform(8, 18));
  return done(tl, end, 'legit/hold_music');
};

/** A caller who talks at length while the agent only says "mm-hmm": one-sided but reactive and human. */
const monologue: Scenario = async (ctx) => {
  const { rng } = ctx;
  const { agent, caller } = assignParties(rng, twoVoices(ctx));
  const tl = new Timeline();
  let t = await say(ctx, tl, agent, 'Hello, how can I help?', rng.uniform(0.2, 1));
  for (const line of LONG_STORY) {
    const start = t + rng.uniform(0.25, 0.9);
    t = await say(ctx, tl, caller, line, start);
    if (rng.chance(0.8)) {
      // The backchannel lands in the speaker's pause, as listeners time them.
      await say(ctx, tl, agent, rng.pick(BACKCHANNELS), t + rng.uniform(0.1, 0.4));
      t += 0.6;
    }
  }
  t = await say(ctx, tl, agent, 'I understand, let me see what I can do for you.', t + 0.5);
  const end = await say(ctx, tl, caller, rng.pick(CLOSINGS), t + 0.6);
  return done(tl, end, 'legit/monologue_backchannel');
};

/** A short call: hello, one exchange, bye (robocall-length but conversational). */
const shortCall: Scenario = async (ctx) => {
  const { agent, caller } = assignParties(ctx.rng, twoVoices(ctx));
  const tl = new Timeline();
  const first = await greet(ctx, tl, caller, ctx.rng.uniform(0.2, 1));
  const end = await converse(ctx, tl, agent, caller, first + 0.3, first + ctx.rng.uniform(3, 8));
  return done(tl, end, 'legit/short_call');
};

/**
 * The line is open and nobody speaks for a while: the callee is still bringing the phone up, an agent finishes
 * a note, sometimes after one unanswered "Hello?"; or the fork started while the far end was still ringing, so
 * the call opens with ringback (early media) until someone answers. Then an ordinary conversation. A quiet open
 * line or ringback is also pumping's evidence: without these calls the model learns that any call that does not
 * start talking at once is pumping.
 */
export const silentStart: Scenario = async (ctx) => {
  const { rng } = ctx;
  const { agent, caller } = assignParties(rng, twoVoices(ctx));
  const tl = new Timeline();
  let answerer = caller;
  let t = rng.uniform(0.2, 1);
  if (rng.chance(0.3)) {
    // Ringback comes from the far end's exchange, so whoever answers is on rx.
    answerer = agent.leg === RX ? agent : caller;
    const level = dbm0ToAmplitude(rng.uniform(-20, -8));
    t = tl.place(RX, 0, ringback(rng.uniform(4, 20), level, ringbackRegion(rng))) + rng.uniform(0.2, 1);
  } else {
    if (rng.chance(0.4)) t = await greet(ctx, tl, caller, t);
    t += rng.uniform(2, 12);
  }
  const first = await greet(ctx, tl, answerer, t);
  const end = await converse(ctx, tl, agent, caller, first + 0.4, first + rng.uniform(12, 30));
  return done(tl, end, 'legit/silent_start');
};

function done(tl: Timeline, endS: number, scenario: string): ScenarioCall {
  const legs = tl.finish(endS + 0.5);
  return { label: 'legit', scenario, onsetS: 0, legs };
}

export const LEGIT_SCENARIOS: ReadonlyArray<[Scenario, number]> = [
  [conversation, 4],
  [ivrDigits, 2],
  [holdMusic, 1.5],
  [monologue, 1.5],
  [shortCall, 1],
  [silentStart, 1.5],
];

export type { ScenarioContext };
