import { createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyWebhookSignature, WEBHOOK_TOLERANCE_S } from '../../src/service/http/webhook-signature.ts';
import { makeSigningKey, signWebhook } from './webhook-signing.ts';

describe('webhook timestamp tolerance', () => {
  it('accepts exactly 300 s either side of the clock and refuses 301 s', () => {
    const { privateKey } = makeSigningKey();
    const key = createPublicKey(privateKey);
    const body = Buffer.from('{"data":{"id":"e1"}}');
    const nowS = 1_800_000_000;
    const check = (offsetS: number) => {
      const h = signWebhook(privateKey, body, nowS + offsetS);
      return verifyWebhookSignature(
        key,
        body,
        h['telnyx-signature-ed25519'],
        h['telnyx-timestamp'],
        nowS * 1000,
      );
    };
    expect(WEBHOOK_TOLERANCE_S).toBe(300);
    expect(check(-300)).toBeNull();
    expect(check(300)).toBeNull();
    expect(check(-301)).toBe('stale');
    expect(check(301)).toBe('stale');
  });
});
