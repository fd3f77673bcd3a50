/**
 * Why a datagram was dropped. Indices are stable so the hot path counts into a plain array
 * (`counts[DROP.truncated]++`) and metrics read it as `forkguard_rtp_packets_dropped_total{reason}`.
 * Index 0 is reserved for "not dropped", so functions that return 0 for a good packet and a DROP index
 * otherwise can never confuse the two.
 */
export const DROP_REASONS = [
  'none', // not dropped: never counted, never exported
  'truncated', // shorter than its headers say
  'oversized', // larger than any 20 ms RTP payload forkguard accepts
  'bad_version', // RTP version is not 2, or STREP marker/version wrong
  'bad_strep', // STREP header length or fields inconsistent
  'unknown_source', // a leg already latched to another source address
  'not_allowed', // source outside the configured CIDR allow-list
  'rate_limited', // source above its packet-rate cap
  'session_limit', // no room for another session
  'rtcp', // RTCP on the media port: not media, counted apart (and read into the leg's stats: rtp/rtcp.ts)
  'unknown_payload_type', // payload type with no codec mapping
  'unsupported_codec', // known codec forkguard does not decode (G.729, AMR-WB)
  'duplicate', // same sequence number seen already
  'late', // arrived after its slot was played out
  'out_of_range', // port outside the configured pair range
  'closed', // arrived for a session that has ended
  'internal_error', // a decoder or the sink threw on it: a fault of forkguard's, never blamed on the sender
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export const DROP = Object.fromEntries(DROP_REASONS.map((reason, index) => [reason, index])) as {
  readonly [K in DropReason]: number;
};

/** The real reasons, without the reserved 'none' slot: what metrics and reports list. */
export const DROP_REASON_NAMES: readonly DropReason[] = DROP_REASONS.slice(1);

/** A fresh zeroed counter array, one slot per reason (slot 0 unused). */
export function newDropCounts(): Float64Array {
  return new Float64Array(DROP_REASONS.length);
}
