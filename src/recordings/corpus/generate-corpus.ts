import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CallPlan, Label } from './call-plan.ts';
import { applyChannel, randomChannel, randomDelivery } from './channel.ts';
import { callSeed, Prng } from './prng.ts';
import { CARD_ENTRY_SCENARIOS } from './scenarios/card-entry.ts';
import type { Scenario, ScenarioContext } from './scenarios/context.ts';
import { FAX_MODEM_SCENARIOS } from './scenarios/fax-modem.ts';
import { LEGIT_SCENARIOS } from './scenarios/legit.ts';
import { PUMPING_SCENARIOS } from './scenarios/pumping.ts';
import { ROBOCALL_SCENARIOS } from './scenarios/robocall.ts';
import { checkTtsTools, TtsCache } from './tts.ts';
import { writeCallPlan } from './write-call.ts';

/** Share of each label in a generated corpus: legit dominates, as on real traffic, but every class is well fed. */
const LABEL_MIX: ReadonlyArray<[Label, number, ReadonlyArray<[Scenario, number]>]> = [
  ['legit', 0.4, LEGIT_SCENARIOS],
  ['robocall', 0.18, ROBOCALL_SCENARIOS],
  ['pumping', 0.14, PUMPING_SCENARIOS],
  ['fax_modem', 0.12, FAX_MODEM_SCENARIOS],
  ['card_entry', 0.16, CARD_ENTRY_SCENARIOS],
];

export interface CorpusOptions {
  out: string;
  calls: number;
  seed: number;
  /** Calls synthesised at once (speech engines run as child processes, so this spreads over cores). */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface CorpusSummary {
  seed: number;
  calls: number;
  counts: Record<string, number>;
  audioSeconds: number;
}

/**
 * Generates `calls` labelled two-leg recorded calls (CONTRACTS §2) under `out`, deterministically for `seed`:
 * call i depends only on (seed, i), so the corpus is the same whatever the concurrency.
 */
export async function generateCorpus(options: CorpusOptions): Promise<CorpusSummary> {
  await checkTtsTools();
  await mkdir(options.out, { recursive: true });
  const tts = new TtsCache(join(options.out, '.tts-cache'));
  const campaignCount = Math.max(4, Math.round((options.calls * 0.18) / 6));
  const counts: Record<string, number> = {};
  let audioSeconds = 0;
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < options.calls) {
      const index = next++;
      const plan = await planCall(index, options.seed, tts, campaignCount);
      await writeCallPlan(options.out, index, plan);
      counts[plan.scenario] = (counts[plan.scenario] ?? 0) + 1;
      audioSeconds += plan.legs[0].length / 8000;
      options.onProgress?.(++done, options.calls);
    }
  };
  const concurrency = Math.max(1, options.concurrency ?? 4);
  await Promise.all(Array.from({ length: concurrency }, worker));
  const summary: CorpusSummary = {
    seed: options.seed,
    calls: options.calls,
    counts: sortKeys(counts),
    audioSeconds,
  };
  await writeFile(join(options.out, 'corpus.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

/** Which label and scenario a call gets (cheap: no audio is made). */
export function chooseScenario(rng: Prng): { label: Label; scenario: Scenario } {
  const [label, , scenarios] = weighted(
    rng,
    LABEL_MIX.map((entry) => [entry, entry[1]] as const),
  );
  return { label, scenario: weighted(rng, scenarios) };
}

export async function planCall(
  index: number,
  seed: number,
  tts: TtsCache,
  campaignCount: number,
): Promise<CallPlan> {
  const rng = new Prng(callSeed(seed, index));
  const { scenario } = chooseScenario(rng);
  const ctx: ScenarioContext = { rng: rng.fork(1), tts, campaignCount };
  const call = await scenario(ctx);
  const channelRng = rng.fork(2);
  for (const leg of call.legs) if (leg) applyChannel(channelRng, leg, randomChannel(channelRng));
  const delivery = randomDelivery(rng.fork(3), call.requiresPackets === true);
  const legs: CallPlan['legs'] =
    delivery.format === 'wav' && rng.chance(0.03) ? [call.legs[0], null] : [call.legs[0], call.legs[1]];
  const { requiresPackets: _unused, ...rest } = call;
  return { ...rest, legs, delivery };
}

function weighted<T>(rng: Prng, items: ReadonlyArray<readonly [T, number]>): T {
  let total = 0;
  for (const [, w] of items) total += w;
  let r = rng.next() * total;
  for (const [item, w] of items) {
    r -= w;
    if (r < 0) return item;
  }
  return items[items.length - 1][0];
}

function sortKeys(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
