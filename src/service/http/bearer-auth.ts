import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * `Authorization: Bearer <token>` check in constant time. Both sides are hashed first so the comparison length
 * does not depend on (or reveal) the token's length.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer (.+)$/i.exec(header ?? '')?.[1] ?? '';
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b) && presented.length > 0;
}
