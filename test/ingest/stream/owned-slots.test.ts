import { describe, expect, it } from 'vitest';
import { OwnedSlots } from '../../../src/ingest/owned-slots.ts';

describe('OwnedSlots', () => {
  it('numbers new slots from 0, hands released ones out again first, and counts what is held', () => {
    const slots = new OwnedSlots(() => {});
    const owners = [{}, {}, {}];
    expect(owners.map((owner) => slots.take(owner))).toEqual([0, 1, 2]);
    expect(slots.issued).toBe(3);
    expect(slots.inUse).toBe(3);
    slots.release(owners[1], 1);
    expect(slots.inUse).toBe(2);
    expect(slots.take({})).toBe(1);
    expect(slots.take({})).toBe(3);
    expect(slots.issued).toBe(4);
    expect(slots.inUse).toBe(4);
  });
});
