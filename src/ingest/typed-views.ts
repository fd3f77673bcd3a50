/**
 * Small per-call typed arrays, carved from one buffer. Every live call holds a few hundred small arrays (filter
 * states, detector outputs, ring metadata), and each separately allocated typed array costs about 270 bytes of
 * object, buffer and backing-store overhead on top of its data; a view into a shared buffer costs about 100.
 * Views are independent arrays to the code that uses them (same element type, same indexing), zero-filled.
 */
type Carvable = Float64Array | Float32Array | Int32Array | Uint32Array | Int8Array | Uint8Array;

export function typedViews<T extends Carvable>(
  Type: new (length: number) => T,
  lengths: readonly number[],
): T[] {
  let total = 0;
  for (const n of lengths) total += n;
  const buffer = new Type(total);
  const views: T[] = [];
  let at = 0;
  for (const n of lengths) {
    views.push(buffer.subarray(at, at + n) as T);
    at += n;
  }
  return views;
}
