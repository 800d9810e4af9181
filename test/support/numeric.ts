/** Numeric helpers for tests: a seeded PRNG and difference measures. */
import { mulberry32 } from '../../fixtures/prng.js';

/** A seeded PRNG, uniform in [0, 1). */
export const prng = mulberry32;

/** `n` uniform values in [lo, hi). */
export function uniform(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = prng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** max |a − b|; throws when lengths differ. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** L2 norms of the rows of an [N, D] matrix. */
export function rowNorms(data: ArrayLike<number>, rows: number): number[] {
  const d = data.length / rows;
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let i = 0; i < d; i++) s += data[r * d + i]! ** 2;
    out.push(Math.sqrt(s));
  }
  return out;
}
