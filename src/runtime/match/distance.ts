/**
 * Distances between face embeddings as facenet (davidsandberg/facenet, `facenet.distance`) defines
 * them, plus the cosine distance, and `verify()` with default thresholds that agree across metrics.
 * Every sum is accumulated in float64, whatever the input arrays hold. Web-standard APIs only.
 */

/**
 * A distance between embeddings; every one is 0 for identical vectors and grows with dissimilarity.
 * - `'euclidean'`: squared Euclidean `Σ(a−b)²`: facenet's **metric 0** (range [0, 4] for unit vectors).
 * - `'angular'`: `arccos(cos)/π`: facenet's **metric 1** (range [0, 1]).
 * - `'cosine'`: `1 − cos` (range [0, 2]); not one of facenet's, but what most vector stores call
 *   cosine distance.
 */
export type Metric = 'euclidean' | 'cosine' | 'angular';

/** Every metric, in facenet's numbering where it has one (0 euclidean, 1 angular), then cosine. */
export const METRICS: readonly Metric[] = Object.freeze(['euclidean', 'angular', 'cosine'] as const);

/**
 * Throws a `RangeError` naming the first non-finite element of `a` or `b`. Called only once a sum
 * came out non-finite, so the happy path pays nothing for the check.
 */
function throwNonFinite(what: string, a: ArrayLike<number>, b: ArrayLike<number>): never {
  for (const [name, v] of [['a', a], ['b', b]] as const) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i]!;
      if (!Number.isFinite(x)) throw new RangeError(`Cannot compute ${what}: ${name}[${i}] is ${x}, expected a finite number`);
    }
  }
  // Only reachable when finite inputs overflow a float64 sum (|x| > 1e154), never for embeddings.
  throw new RangeError(`Cannot compute ${what}: the sum overflows float64`);
}

function checkLengths(what: string, a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) {
    throw new RangeError(`Cannot compute ${what}: the embeddings differ in length (${a.length} vs ${b.length})`);
  }
}

/**
 * Squared Euclidean distance `Σ(a−b)²`: facenet's metric 0. For unit vectors it equals
 * `2 − 2·cos(a, b)` and lies in [0, 4].
 *
 * @example
 * ```ts
 * squaredEuclidean([1, 0], [0, 1]); // 2
 * ```
 * @throws {RangeError} the lengths differ, or an element is NaN or infinite.
 */
export function squaredEuclidean(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkLengths('squared Euclidean distance', a, b);
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    s += d * d;
  }
  if (!Number.isFinite(s)) {
    throwNonFinite('squared Euclidean distance', a, b);
  }
  return s;
}

/**
 * cos(a, b) = a·b / (|a|·|b|), clamped to [−1, 1] (rounding can push it just past ±1, where arccos
 * is NaN). Shared by the cosine and angular distances.
 */
function cosine(what: string, a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkLengths(what, a, b);
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    aa += x * x;
    bb += y * y;
  }
  if (!Number.isFinite(dot + aa + bb)) {
    throwNonFinite(what, a, b);
  }
  if (aa === 0) throw new RangeError(`Cannot compute ${what}: a is all zeros (its direction is undefined)`);
  if (bb === 0) throw new RangeError(`Cannot compute ${what}: b is all zeros (its direction is undefined)`);
  const c = dot / Math.sqrt(aa * bb);
  return c > 1 ? 1 : c < -1 ? -1 : c;
}

/**
 * Cosine distance `1 − cos(a, b)`, in [0, 2]. Not normalized by the caller: the vectors may have
 * any non-zero length. For unit vectors it is half the squared Euclidean distance.
 *
 * @example
 * ```ts
 * cosineDistance([1, 0], [1, 1]); // 1 − 1/√2 ≈ 0.2929
 * ```
 * @throws {RangeError} the lengths differ, an element is NaN or infinite, or a vector is all zeros.
 */
export function cosineDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return 1 - cosine('cosine distance', a, b);
}

/**
 * Angular distance `arccos(cos(a, b)) / π`, in [0, 1]: facenet's metric 1. cos is clamped to
 * [−1, 1] first: rounding can push it just past ±1 for (anti)parallel vectors, where a bare
 * arccos gives NaN.
 *
 * @example
 * ```ts
 * angularDistance([1, 0], [0, 1]); // 0.5
 * ```
 * @throws {RangeError} the lengths differ, an element is NaN or infinite, or a vector is all zeros.
 */
export function angularDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return Math.acos(cosine('angular distance', a, b)) / Math.PI;
}

/**
 * The distance of `metric` between `a` and `b`: {@link squaredEuclidean} (`'euclidean'`, facenet's
 * metric 0), {@link angularDistance} (`'angular'`, metric 1) or {@link cosineDistance} (`'cosine'`).
 *
 * @throws {RangeError} as the chosen function does, or `metric` is not one of the three.
 */
export function distance(a: ArrayLike<number>, b: ArrayLike<number>, metric: Metric): number {
  switch (metric) {
    case 'euclidean':
      return squaredEuclidean(a, b);
    case 'cosine':
      return cosineDistance(a, b);
    case 'angular':
      return angularDistance(a, b);
    default:
      throw new RangeError(`Cannot compute distance: unknown metric '${String(metric)}', expected 'euclidean', 'cosine' or 'angular'`);
  }
}

/** Throws a `RangeError` unless `metric` is one of {@link METRICS}; `what` starts the message. @internal */
export function checkMetric(metric: unknown, what: string): asserts metric is Metric {
  if (metric !== 'euclidean' && metric !== 'cosine' && metric !== 'angular') {
    throw new RangeError(`Cannot ${what}: unknown metric '${String(metric)}', expected 'euclidean', 'cosine' or 'angular'`);
  }
}

/** cos(a, b) of two unit vectors whose distance under `metric` is `t`. */
function cosOf(t: number, metric: Metric): number {
  switch (metric) {
    case 'euclidean':
      return 1 - t / 2; // d² = 2 − 2·cos
    case 'cosine':
      return 1 - t;
    case 'angular':
      return Math.cos(Math.PI * t);
  }
}

/** The distance under `metric` of two unit vectors whose cosine similarity is `c`. */
function fromCos(c: number, metric: Metric): number {
  switch (metric) {
    case 'euclidean':
      return 2 - 2 * c;
    case 'cosine':
      return 1 - c;
    case 'angular':
      return Math.acos(Math.max(-1, Math.min(1, c))) / Math.PI;
  }
}

/**
 * Converts a threshold calibrated under one metric into the equivalent threshold under another,
 * exact for unit vectors (facenet's embeddings are L2-normalized): all three metrics are monotone
 * functions of cos(a, b) there (`d² = 2 − 2·cos`, `cosine = 1 − cos`, `angular = arccos(cos)/π`), so
 * the converted threshold makes the same same/different decision on every pair.
 *
 * @example
 * ```ts
 * convertThreshold(1.1, 'euclidean', 'cosine'); // 0.55
 * ```
 * @throws {RangeError} a metric is unknown, or `threshold` is outside the range of `from`
 *   ([0, 4] euclidean, [0, 2] cosine, [0, 1] angular).
 */
export function convertThreshold(threshold: number, from: Metric, to: Metric): number {
  checkMetric(from, 'convert threshold');
  checkMetric(to, 'convert threshold');
  const max = from === 'euclidean' ? 4 : from === 'cosine' ? 2 : 1;
  if (!(threshold >= 0 && threshold <= max)) {
    throw new RangeError(`Cannot convert threshold: ${threshold} is outside [0, ${max}], the range of the ${from} distance between unit vectors`);
  }
  if (from === to) return threshold;
  return fromCos(cosOf(threshold, from), to);
}

/**
 * Default verification threshold of the squared Euclidean distance: **1.1**. It is the operating
 * point of the FaceNet paper (Schroff et al. 2015, Figure 1: "a threshold of 1.1 would classify
 * every pair correctly", on squared L2 distances of unit embeddings) and the one usually quoted for
 * facenet's models. Note that facenet's `compare.py` prints the *non-squared* Euclidean distance,
 * whose equivalent is √1.1 ≈ 1.049. A starting point only: the best threshold depends on the model,
 * the preprocessing and the data, so calibrate it on your own pairs, e.g. with facenet's LFW 10-fold
 * protocol (pick the threshold of best accuracy on the training folds).
 */
export const DEFAULT_EUCLIDEAN_THRESHOLD = 1.1;

/**
 * Default thresholds of {@link verify}, per metric, derived exactly from
 * {@link DEFAULT_EUCLIDEAN_THRESHOLD} with {@link convertThreshold} so that all three make the same
 * decision on unit vectors: euclidean 1.1 (d²), cosine 0.55 (= 1.1 / 2, i.e. cos 0.45),
 * angular arccos(0.45)/π ≈ 0.351424.
 */
export const DEFAULT_THRESHOLDS: Readonly<Record<Metric, number>> = Object.freeze({
  euclidean: DEFAULT_EUCLIDEAN_THRESHOLD,
  cosine: convertThreshold(DEFAULT_EUCLIDEAN_THRESHOLD, 'euclidean', 'cosine'),
  angular: convertThreshold(DEFAULT_EUCLIDEAN_THRESHOLD, 'euclidean', 'angular'),
});

/** Options of {@link verify}. */
export interface VerifyOptions {
  /** The distance to compare. Default: `'euclidean'` (squared, facenet's metric 0). */
  metric?: Metric;
  /**
   * Pairs closer than this (strictly, as facenet's `np.less(dist, threshold)`) are the same person.
   * Default: `DEFAULT_THRESHOLDS[metric]` (1.1 for euclidean; see {@link DEFAULT_EUCLIDEAN_THRESHOLD}).
   */
  threshold?: number;
}

/** What {@link verify} decided. */
export interface Verification {
  /** The distance under the chosen metric. */
  distance: number;
  /** `distance < threshold`: the two embeddings are judged to be the same person. */
  same: boolean;
}

/**
 * Face verification (1:1): are `a` and `b` embeddings of the same person? Computes their distance
 * under `metric` and compares it with `threshold` as facenet's LFW evaluation does (`distance <
 * threshold`).
 *
 * @example
 * ```ts
 * const { distance, same } = verify(embeddingA, embeddingB); // squared Euclidean, threshold 1.1
 * verify(embeddingA, embeddingB, { metric: 'cosine', threshold: 0.5 });
 * ```
 * @throws {RangeError} as {@link distance} does, or `threshold` is not a finite number.
 */
export function verify(a: ArrayLike<number>, b: ArrayLike<number>, options: VerifyOptions = {}): Verification {
  const metric = options.metric ?? 'euclidean';
  checkMetric(metric, 'verify');
  const threshold = options.threshold ?? DEFAULT_THRESHOLDS[metric];
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) {
    throw new RangeError(`Cannot verify: threshold must be a finite number, got ${String(threshold)}`);
  }
  const d = distance(a, b, metric);
  return { distance: d, same: d < threshold };
}
