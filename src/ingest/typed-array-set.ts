/**
 * %TypedArray%.prototype.set, held once for the packet path. Written as `view.set(source)`, optimised code looks
 * the method up through a generic inline-cache call on every packet (V8 does not fold it to the builtin); called
 * through this constant, it is a direct call of the native copy.
 */
export const typedArraySet = Object.getPrototypeOf(Uint8Array.prototype).set as (
  this: Uint8Array | Int16Array | Int32Array,
  source: ArrayLike<number>,
  offset?: number,
) => void;
