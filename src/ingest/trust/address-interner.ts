/**
 * One string per source address. dgram hands over every datagram's source address as a string of its own; a leg,
 * latched to its first packet's string, then compared each later packet's with it by content, which reads the
 * latched string: with thousands of calls, a cold cache line per packet. Interned on arrival, the next packet brings
 * the very string the leg latched to, and the comparison ends at its identity check.
 */

/** Sources kept at most: a flood of spoofed addresses cannot grow it further. */
const DEFAULT_CAPACITY = 4096;

export class AddressInterner {
  /** The last address interned: a run of datagrams from one source (a STREP sender) is found without hashing. */
  private last = '';
  private readonly known = new Map<string, string>();

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  /** The interned string equal to `address`. */
  intern(address: string): string {
    if (address === this.last) return this.last;
    let interned = this.known.get(address);
    if (interned === undefined) {
      // Forgetting every source costs only the identity shortcut, until each is seen again.
      if (this.known.size >= this.capacity) this.known.clear();
      this.known.set(address, address);
      interned = address;
    }
    this.last = interned;
    return interned;
  }

  /** Addresses kept now (for tests). */
  get size(): number {
    return this.known.size;
  }
}
