import { RX, TX } from '../../../ingest/media-sink.ts';
import { Prng } from '../prng.ts';
import { GREETINGS, ROBOCALL_SCRIPTS } from '../texts.ts';
import { Timeline } from '../timeline.ts';
import { randomVoice } from '../tts.ts';
import type { Scenario, ScenarioCall, ScenarioContext } from './context.ts';
import { type Party, say } from './conversation.ts';

const REACTIONS = [
  'Hello?',
  'Hello? Who is this?',
  'Is anyone there?',
  'Sorry, what?',
  'Hello, can you hear me?',
  'Stop calling me.',
];

/**
 * A prerecorded or synthetic message that does not react to the other side. A campaign is one script in one
 * voice: every call of campaign k carries the same audio (what the cross-call replay detector looks for).
 */
function campaignMessage(ctx: ScenarioContext): { campaign?: string; script: string; party: Party } {
  const { rng } = ctx;
  if (rng.chance(0.15)) {
    // A one-off message nobody else receives: only the conversation structure gives it away.
    return { script: rng.pick(ROBOCALL_SCRIPTS), party: { leg: RX, voice: randomVoice(rng), gain: 1 } };
  }
  const k = rng.int(0, ctx.campaignCount - 1);
  const fixed = new Prng(1_000_003 * (k + 1));
  return {
    campaign: `c${k}`,
    script: ROBOCALL_SCRIPTS[k % ROBOCALL_SCRIPTS.length],
    party: { leg: RX, voice: randomVoice(fixed), gain: 10 ** (fixed.uniform(-6, 0) / 20) },
  };
}

async function robocall(ctx: ScenarioContext, startsBeforeHello: boolean): Promise<ScenarioCall> {
  const { rng } = ctx;
  const { campaign, script, party } = campaignMessage(ctx);
  const callee: Party = { leg: TX, voice: randomVoice(rng), gain: 10 ** (rng.uniform(-8, 2) / 20) };
  const tl = new Timeline();
  let onsetS: number;
  if (startsBeforeHello) {
    onsetS = rng.uniform(0, 0.4);
    await say(ctx, tl, callee, rng.pick(GREETINGS), rng.uniform(0.3, 1.2)); // talks over the message
  } else {
    const hello = await say(ctx, tl, callee, rng.pick(GREETINGS), rng.uniform(0.2, 1));
    onsetS = hello + rng.uniform(0.3, 1.5); // waits for voice energy to stop, as answering-machine-detect dialers do
  }
  let end = await say(ctx, tl, party, script, onsetS);
  if (rng.chance(0.4)) end = await say(ctx, tl, party, script, end + rng.uniform(0.5, 1.5)); // message repeats
  // The callee reacts; the message neither pauses nor answers.
  const reactions = rng.int(1, 3);
  for (let i = 0; i < reactions; i++) {
    const at = onsetS + rng.uniform(1.5, Math.max(2, end - onsetS - 1));
    await say(ctx, tl, callee, rng.pick(REACTIONS), at);
  }
  // Some callees hang up part-way through.
  const callEnd = rng.chance(0.3)
    ? onsetS + rng.uniform(6, Math.max(7, end - onsetS))
    : end + rng.uniform(0.3, 1.5);
  return {
    label: 'robocall',
    scenario: startsBeforeHello ? 'robocall/before_hello' : 'robocall/after_hello',
    onsetS,
    campaign,
    legs: tl.finish(callEnd),
  };
}

export const ROBOCALL_SCENARIOS: ReadonlyArray<[Scenario, number]> = [
  [(ctx) => robocall(ctx, true), 1],
  [(ctx) => robocall(ctx, false), 1.5],
];
