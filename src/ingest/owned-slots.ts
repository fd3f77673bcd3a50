/**
 * Numbered slots of a table, each held by one owner object from take() until release(): released slots are handed
 * out again before new ones. An owner dropped without release() still gives its slot back when the collector
 * reclaims it (after `onCollected` has emptied the slot), so a call nobody ended cannot leak table rows.
 * Used by the tables that keep per-leg state outside the legs' own objects (leg-state-pool.ts,
 * retained-datagrams.ts), each for its own reason.
 */
export class OwnedSlots {
  /** Slots never handed out start here. */
  private next = 0;
  private readonly free: number[] = [];
  private readonly collected: FinalizationRegistry<number>;

  constructor(onCollected: (slot: number) => void) {
    this.collected = new FinalizationRegistry<number>((slot) => {
      onCollected(slot);
      this.free.push(slot);
    });
  }

  /** A slot for `owner`: one released before, else the lowest never handed out (then equal to `issued - 1`). */
  take(owner: object): number {
    const slot = this.free.pop() ?? this.next++;
    this.collected.register(owner, slot, owner);
    return slot;
  }

  /** Gives `owner`'s slot back; the caller has emptied it. */
  release(owner: object, slot: number): void {
    this.collected.unregister(owner);
    this.free.push(slot);
  }

  /** Slots ever handed out: every slot taken is below it. */
  get issued(): number {
    return this.next;
  }

  /** Slots held now. */
  get inUse(): number {
    return this.next - this.free.length;
  }
}
