/**
 * Symmetric-RTP style latching: each leg belongs to the address:port its first accepted packet came from, so a
 * stranger who learns the port cannot inject audio into a call that is already flowing.
 */
import type { Leg } from '../media-sink.ts';

export class LegLatch {
  readonly address: [string | null, string | null] = [null, null];
  readonly port = new Int32Array([-1, -1]);

  /** True when the packet may go on: the leg latches to this source now, or was latched to it before. */
  accept(leg: Leg, address: string, port: number): boolean {
    const latched = this.address[leg];
    if (latched === null) {
      this.address[leg] = address;
      this.port[leg] = port;
      return true;
    }
    return this.port[leg] === port && latched === address;
  }

  /** Source of a leg as `address:port` (IPv6 in brackets), or null before its first packet. */
  describe(leg: Leg): string | null {
    const address = this.address[leg];
    if (address === null) return null;
    return address.includes(':') ? `[${address}]:${this.port[leg]}` : `${address}:${this.port[leg]}`;
  }
}
