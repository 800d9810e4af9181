/**
 * The forward bench's agreement rule, kept apart from the suites (which await at top level) so a
 * uvu test can import it: engines are compared on the same inputs before any is timed.
 */

/** Largest |a − c| over the elements; `Infinity` for different lengths, NaN when either holds a NaN. */
export function maxAbsDiff(a: Float32Array, c: Float32Array): number {
  if (a.length !== c.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - c[i]!);
    if (Number.isNaN(d)) return NaN; // NaN is not ≤ any tolerance: a NaN output never agrees
    if (d > m) m = d;
  }
  return m;
}

/**
 * Which columns must not be timed: a column counts as agreeing with another when its embeddings
 * are within `tolerance` (max |Δ|) of the other's at every batch size compared; it is refused when
 * it agrees with fewer than half of the other columns (with three columns: with none), so one wrong
 * engine is singled out instead of discrediting the two that agree. Returns why, by column.
 */
export function refusals<Id extends string>(
  ids: readonly Id[],
  agreement: ReadonlyArray<{ a: Id; b: Id; maxAbsDiff: number }>,
  tolerance: number,
): Map<Id, string> {
  const out = new Map<Id, string>();
  for (const id of ids) {
    const mine = agreement.filter((g) => g.a === id || g.b === id);
    const others = ids.filter((o) => o !== id);
    const agreeing = others.filter((o) => {
      const pair = mine.filter((g) => g.a === o || g.b === o);
      // NaN is not ≤ tolerance: a NaN output never agrees.
      return pair.length > 0 && pair.every((g) => g.maxAbsDiff <= tolerance);
    });
    if (agreeing.length * 2 < others.length) {
      const worst = Math.max(...mine.map((g) => g.maxAbsDiff));
      out.set(id, `agrees with ${agreeing.length} of ${others.length} other columns within ${tolerance} (worst max |Δ| ${worst.toExponential(2)})`);
    }
  }
  return out;
}
