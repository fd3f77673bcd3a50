/** Number of differing bits between two 32-bit fingerprints (SWAR popcount: no tables, no allocation). */
export function hammingDistance(a: number, b: number): number {
  let v = (a ^ b) >>> 0;
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}
