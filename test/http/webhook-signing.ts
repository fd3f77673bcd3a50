import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';

/** A real Ed25519 key pair, shaped as Telnyx hands it out: the public key as base64 of its 32 raw bytes. */
export function makeSigningKey(): { privateKey: KeyObject; publicKeyBase64: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  return { privateKey, publicKeyBase64: Buffer.from(jwk.x as string, 'base64url').toString('base64') };
}

/** Headers Telnyx would send with `body`, signed at `timestampS`. */
export function signWebhook(
  privateKey: KeyObject,
  body: string | Buffer,
  timestampS: number,
): Record<string, string> {
  const raw = typeof body === 'string' ? Buffer.from(body) : body;
  const signature = sign(null, Buffer.concat([Buffer.from(`${timestampS}|`), raw]), privateKey);
  return {
    'content-type': 'application/json',
    'telnyx-signature-ed25519': signature.toString('base64'),
    'telnyx-timestamp': String(timestampS),
  };
}

let counter = 0;
export function telnyxEvent(
  eventType: string,
  payload: Record<string, unknown>,
  id = `evt-${process.pid}-${++counter}`,
): string {
  return JSON.stringify({
    data: { id, event_type: eventType, occurred_at: new Date().toISOString(), payload, record_type: 'event' },
    meta: { attempt: 1, delivered_to: 'http://127.0.0.1/webhooks/telnyx' },
  });
}
