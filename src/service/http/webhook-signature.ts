import { createPublicKey, type KeyObject, verify } from 'node:crypto';

export const WEBHOOK_TOLERANCE_S = 300;

export type SignatureRejection =
  | 'missing_headers'
  | 'bad_timestamp'
  | 'stale'
  | 'bad_signature'
  | 'bad_encoding';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32 raw key bytes follow it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** Strict, padded base64, as the telnyx SDK demands: anything it would refuse is refused here too. */
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** TELNYX_PUBLIC_KEY (base64 of the raw 32-byte Ed25519 key) as a node:crypto key. Throws naming the problem. */
export function parseTelnyxPublicKey(base64: string): KeyObject {
  const raw = STRICT_BASE64.test(base64) ? Buffer.from(base64, 'base64') : Buffer.alloc(0);
  if (raw.length !== 32)
    throw new Error('TELNYX_PUBLIC_KEY must be the base64 of a 32-byte Ed25519 public key');
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/**
 * Checks `telnyx-signature-ed25519` over `${telnyx-timestamp}|${raw body}` and the timestamp's age.
 * Deliberately no looser than the telnyx SDK's `webhooks.unwrap`: digits-only timestamp, strict base64,
 * 64-byte signature, and a body that is valid UTF-8 (the SDK verifies the decoded string re-encoded, which
 * equals the raw bytes only for valid UTF-8).
 */
export function verifyWebhookSignature(
  key: KeyObject,
  rawBody: Buffer,
  signatureHeader: string | undefined,
  timestampHeader: string | undefined,
  nowMs: number,
  toleranceS = WEBHOOK_TOLERANCE_S,
): SignatureRejection | null {
  if (!signatureHeader || !timestampHeader) return 'missing_headers';
  if (!/^\d+$/.test(timestampHeader) || !Number.isSafeInteger(Number(timestampHeader)))
    return 'bad_timestamp';
  if (Math.abs(Math.floor(nowMs / 1000) - Number(timestampHeader)) > toleranceS) return 'stale';
  if (!STRICT_BASE64.test(signatureHeader)) return 'bad_signature';
  const signature = Buffer.from(signatureHeader, 'base64');
  if (signature.length !== 64) return 'bad_signature';
  try {
    utf8.decode(rawBody);
  } catch {
    return 'bad_encoding';
  }
  const signed = Buffer.concat([Buffer.from(`${timestampHeader}|`, 'ascii'), rawBody]);
  return verify(null, signed, key, signature) ? null : 'bad_signature';
}
