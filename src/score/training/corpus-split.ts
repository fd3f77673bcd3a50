import { createHash } from 'node:crypto';

/** 0 = train, 1 = validation, 2 = test. */
export type Split = 0 | 1 | 2;
export const SPLIT_NAMES = ['train', 'validation', 'test'] as const;

/**
 * Assigns a call to a split by hashing its group: the campaign when it has one (calls carrying the same
 * recording must never sit on both sides, or the model is graded on audio it memorised), else the call itself.
 * Deterministic for a seed; about 70 / 15 / 15.
 */
export function splitOf(call: string, campaign: string | undefined, seed: number): Split {
  const group = campaign ? `campaign:${campaign}` : `call:${call}`;
  const h = createHash('sha256').update(`${seed}:${group}`).digest().readUInt32BE(0) / 2 ** 32;
  return h < 0.7 ? 0 : h < 0.85 ? 1 : 2;
}
