/**
 * Symmetric-RTP style latching: each leg belongs to the address:port its first accepted packet came from, so a
 * stranger who learns the port cannot inject audio into a call that is already flowing.
 */
import type { Leg } from '../media-sink.ts';

export class LegLatch {
  // Plain fields rather than per-leg arrays: every datagram reads them, and as fields they share the object's
  // cache line instead of adding two arrays (and a backing store) to fetch.
  private rxAddress: string | null = null;
  private txAddress: string | null = null;
  private rxPort = -1;
  private txPort = -1;

  /** True when the packet may go on: the leg latches to this source now, or was latched to it before. */
  accept(leg: Leg, address: string, port: number): boolean {
    const latched = leg === 0 ? this.rxAddress : this.txAddress;
    if (latched === null) {
      if (leg === 0) {
        this.rxAddress = address;
        this.rxPort = port;
      } else {
        this.txAddress = address;
        this.txPort = port;
      }
      return true;
    }
    return this.isLatchedTo(leg, address, port);
  }

  /** True when the leg is latched to this source already; latches nothing (for what may not open a leg: RTCP). */
  isLatchedTo(leg: Leg, address: string, port: number): boolean {
    // The port first: a number, where the address is a string (interned, so compared by identity as a rule).
    return (
      (leg === 0 ? this.rxPort : this.txPort) === port &&
      (leg === 0 ? this.rxAddress : this.txAddress) === address
    );
  }

  /** Source of a leg as `address:port` (IPv6 in brackets), or null before its first packet. */
  describe(leg: Leg): string | null {
    const address = leg === 0 ? this.rxAddress : this.txAddress;
    if (address === null) return null;
    const port = leg === 0 ? this.rxPort : this.txPort;
    return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
  }
}
