/**
 * Map keyed by a 128-bit call_leg_id held as four 32-bit words, so the per-packet STREP lookup needs no string
 * (building the UUID text per packet would allocate at every datagram). Buckets are keyed by a 32-bit mix of
 * the words; the words are compared in full, so colliding ids stay distinct.
 */
interface LegIdEntry<V> {
  w0: number;
  w1: number;
  w2: number;
  w3: number;
  value: V;
}

function mix(w0: number, w1: number, w2: number, w3: number): number {
  // UUIDs are mostly random already; the multiply spreads structured ids (e.g. sequential test ids) too.
  return (Math.imul(w0 ^ w2, 0x9e3779b1) ^ Math.imul(w1 ^ w3, 0x85ebca77)) | 0;
}

export class LegIdMap<V> {
  private readonly buckets = new Map<number, LegIdEntry<V>[]>();
  size = 0;

  get(w0: number, w1: number, w2: number, w3: number): V | undefined {
    const bucket = this.buckets.get(mix(w0, w1, w2, w3));
    if (bucket === undefined) return undefined;
    for (let i = 0; i < bucket.length; i++) {
      const e = bucket[i];
      if (e.w0 === w0 && e.w1 === w1 && e.w2 === w2 && e.w3 === w3) return e.value;
    }
    return undefined;
  }

  set(w0: number, w1: number, w2: number, w3: number, value: V): void {
    const h = mix(w0, w1, w2, w3);
    let bucket = this.buckets.get(h);
    if (bucket === undefined) {
      bucket = [];
      this.buckets.set(h, bucket);
    }
    for (let i = 0; i < bucket.length; i++) {
      const e = bucket[i];
      if (e.w0 === w0 && e.w1 === w1 && e.w2 === w2 && e.w3 === w3) {
        e.value = value;
        return;
      }
    }
    bucket.push({ w0, w1, w2, w3, value });
    this.size++;
  }

  delete(w0: number, w1: number, w2: number, w3: number): boolean {
    const h = mix(w0, w1, w2, w3);
    const bucket = this.buckets.get(h);
    if (bucket === undefined) return false;
    for (let i = 0; i < bucket.length; i++) {
      const e = bucket[i];
      if (e.w0 === w0 && e.w1 === w1 && e.w2 === w2 && e.w3 === w3) {
        bucket.splice(i, 1);
        if (bucket.length === 0) this.buckets.delete(h);
        this.size--;
        return true;
      }
    }
    return false;
  }

  forEach(visit: (w0: number, w1: number, w2: number, w3: number, value: V) => void): void {
    for (const bucket of this.buckets.values()) {
      for (const e of bucket) visit(e.w0, e.w1, e.w2, e.w3, e.value);
    }
  }

  clear(): void {
    this.buckets.clear();
    this.size = 0;
  }
}
