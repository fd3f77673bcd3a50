import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LegIdMap } from '../../../src/ingest/sessions/leg-id-map.ts';

type Key = [number, number, number, number];
const keyText = (k: Key) => k.map((w) => (w | 0).toString(16)).join(':');

/** Few distinct words, so random keys repeat, collide in part, and deletes hit live keys. */
const word = fc.oneof(fc.constantFrom(0, 1, -1, 0x7fffffff, -0x80000000), fc.integer({ min: 0, max: 40 }));
const key = fc.tuple(word, word, word, word) as fc.Arbitrary<Key>;
const op = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key, value: fc.integer() }),
  fc.record({ kind: fc.constant('delete' as const), key }),
  fc.record({ kind: fc.constant('get' as const), key }),
  fc.record({ kind: fc.constant('clear' as const) }),
);

describe('LegIdMap', () => {
  it('behaves like a Map keyed by the four words, through growth, tombstones and clears', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 600 }), (ops) => {
        const map = new LegIdMap<number>();
        const model = new Map<string, number>();
        for (const o of ops) {
          if (o.kind === 'clear') {
            map.clear();
            model.clear();
          } else if (o.kind === 'set') {
            map.set(...o.key, o.value);
            model.set(keyText(o.key), o.value);
          } else if (o.kind === 'delete') {
            expect(map.delete(...o.key)).toBe(model.delete(keyText(o.key)));
          } else {
            expect(map.get(...o.key)).toBe(model.get(keyText(o.key)));
          }
          expect(map.size).toBe(model.size);
        }
        const seen = new Map<string, number>();
        map.forEach((w0, w1, w2, w3, value) => {
          seen.set(keyText([w0, w1, w2, w3]), value);
        });
        expect(seen).toEqual(model);
      }),
      { numRuns: 300 },
    );
  });

  it('treats unsigned and signed spellings of a word as the same key', () => {
    const map = new LegIdMap<string>();
    map.set(0xffffffff, 0x80000000, 1, 2, 'a');
    expect(map.get(-1, -0x80000000, 1, 2)).toBe('a');
    expect(map.delete(-1, -0x80000000, 1, 2)).toBe(true);
    expect(map.size).toBe(0);
  });

  it('keeps 10,000 live ids distinct after many add/remove cycles', () => {
    const map = new LegIdMap<number>();
    for (let cycle = 0; cycle < 5; cycle++) {
      for (let i = 0; i < 10_000; i++) map.set(0x5eed0000, i, cycle, 0, i);
      for (let i = 0; i < 10_000; i += 2) map.delete(0x5eed0000, i, cycle, 0);
    }
    expect(map.size).toBe(5 * 5_000);
    for (let cycle = 0; cycle < 5; cycle++) {
      expect(map.get(0x5eed0000, 1, cycle, 0)).toBe(1);
      expect(map.get(0x5eed0000, 2, cycle, 0)).toBeUndefined();
      expect(map.get(0x5eed0000, 9_999, cycle, 0)).toBe(9_999);
    }
  });
});
