import { type Leg, RX, TX } from '../../../ingest/media-sink.ts';
import { ansam, bellAnswer, ced, cng, dataCarrier, v21 } from '../modem-signals.ts';
import { GREETINGS } from '../texts.ts';
import { Timeline } from '../timeline.ts';
import { randomVoice } from '../tts.ts';
import type { Scenario, ScenarioCall, ScenarioContext } from './context.ts';
import { say } from './conversation.ts';

type Family = 'fax' | 'v8_modem' | 'bell_modem' | 'fax_after_voice';

/** Fax or modem signalling on a voice call, one scenario per tone family. */
async function faxModem(ctx: ScenarioContext, family: Family): Promise<ScenarioCall> {
  const { rng } = ctx;
  const tl = new Timeline();
  const caller: Leg = rng.chance(0.5) ? RX : TX;
  const answerer: Leg = caller === RX ? TX : RX;
  const level = () => rng.uniform(-18, -8);
  let t = rng.uniform(0.2, 1);
  let onsetS = t;
  if (family === 'fax_after_voice') {
    // Someone answers by voice, then the line is handed to a fax machine.
    t = await say(ctx, tl, { leg: answerer, voice: randomVoice(rng), gain: 1 }, rng.pick(GREETINGS), t);
    t += rng.uniform(0.5, 2);
    onsetS = t;
  }
  switch (family) {
    case 'fax':
    case 'fax_after_voice': {
      tl.place(caller, t, cng(level(), rng.uniform(8, 14)));
      const cedAt = t + rng.uniform(1, 4);
      const cedEnd = tl.place(answerer, cedAt, ced(level(), rng.uniform(2.6, 3.6), rng.chance(0.3)));
      const dis = tl.place(answerer, cedEnd + 0.075, v21(rng, level(), rng.uniform(1.5, 3)));
      const dcs = tl.place(caller, dis + 0.1, v21(rng, level(), rng.uniform(1.2, 2.5)));
      tl.place(caller, dcs + 0.1, dataCarrier(rng, level(), rng.uniform(8, 20)));
      break;
    }
    case 'v8_modem': {
      const end = tl.place(answerer, t, ansam(level(), rng.uniform(2.5, 5)));
      tl.place(
        caller,
        end - rng.uniform(0.5, 1.5),
        dataCarrier(rng, level(), rng.uniform(10, 20), 1800, 2400),
      );
      tl.place(answerer, end + 0.2, dataCarrier(rng, level(), rng.uniform(10, 20), 1800, 2400));
      break;
    }
    case 'bell_modem': {
      const end = tl.place(answerer, t, bellAnswer(level(), rng.uniform(1.5, 3.5)));
      tl.place(caller, end - 0.5, dataCarrier(rng, level(), rng.uniform(10, 20), 1170, 300));
      tl.place(answerer, end + 0.1, dataCarrier(rng, level(), rng.uniform(10, 20), 2125, 300));
      break;
    }
  }
  return {
    label: 'fax_modem',
    scenario: `fax_modem/${family}`,
    onsetS,
    legs: tl.finish(tl.lastS + rng.uniform(0.2, 1)),
  };
}

export const FAX_MODEM_SCENARIOS: ReadonlyArray<[Scenario, number]> = [
  [(ctx) => faxModem(ctx, 'fax'), 1.5],
  [(ctx) => faxModem(ctx, 'v8_modem'), 1],
  [(ctx) => faxModem(ctx, 'bell_modem'), 0.7],
  [(ctx) => faxModem(ctx, 'fax_after_voice'), 0.8],
];
