/**
 * Face matching (src/runtime/match): distances against hand-computed values and against each
 * other's identities, verify() thresholds that agree across metrics, gallery search against a
 * brute-force sort, the saved format byte by byte, and every error. Portable: no OpenCV, no data.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mulberry32 } from '../../fixtures/prng.js';
import { FacenetDnnError } from '../../src/converter/errors.js';
import {
  angularDistance,
  convertThreshold,
  cosineDistance,
  createGallery,
  DEFAULT_THRESHOLDS,
  distance,
  Gallery,
  METRICS,
  squaredEuclidean,
  verify,
  type Match,
  type Metric,
} from '../../src/runtime/match/index.js';

// ---------------------------------------------------------------- helpers (independent of the code)

function gaussian(r: () => number): number {
  // Box–Muller; 1 − r() keeps the log argument in (0, 1].
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function unit(v: Float64Array): Float64Array {
  const n = Math.sqrt(dot(v, v));
  return v.map((x) => x / n);
}

function randomUnit(dim: number, r: () => number): Float64Array {
  return unit(Float64Array.from({ length: dim }, () => gaussian(r)));
}

/** A unit vector whose cosine with the unit vector `a` is `c` (Gram–Schmidt on a random direction). */
function withCos(a: Float64Array, c: number, r: () => number): Float64Array {
  const u = Float64Array.from({ length: a.length }, () => gaussian(r));
  const p = dot(u, a);
  const o = unit(u.map((x, i) => x - p * a[i]!));
  const s = Math.sqrt(Math.max(0, 1 - c * c));
  return unit(a.map((x, i) => c * x + s * o[i]!));
}

/** Runs `fn`, expects it to throw an instance of `type` whose message matches `re`; returns the error. */
function throwsLike<E extends Error>(fn: () => unknown, type: new (...args: never[]) => E, re: RegExp): E {
  try {
    fn();
  } catch (e) {
    assert.instance(e, type, `expected ${type.name}, got ${String(e)}`);
    assert.match((e as Error).message, re);
    assert.not.match((e as Error).message, /\.$/, 'no trailing period');
    return e as E;
  }
  assert.unreachable(`expected ${type.name} matching ${re}, nothing thrown`);
  throw new Error('unreachable');
}

/** The k nearest by brute force: every distance by the exported function, one full sort. */
function bruteForce(rows: Map<string, Float32Array>, q: ArrayLike<number>, metric: Metric, k: number): Match[] {
  const all: Match[] = [];
  for (const [id, v] of rows) all.push({ id, distance: distance(q, v, metric) });
  all.sort((x, y) => x.distance - y.distance || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  return all.slice(0, k);
}

function assertSameMatches(got: Match[], want: Match[], tol: number, what: string): void {
  assert.equal(
    got.map((m) => m.id),
    want.map((m) => m.id),
    `${what}: ids`,
  );
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]!.distance - want[i]!.distance);
    assert.ok(d <= tol, `${what}: distance #${i} off by ${d}`);
  }
}

// ---------------------------------------------------------------- distances

test('distances: hand-computed values', () => {
  assert.is(squaredEuclidean([1, 2, 3], [4, 6, 8]), 50); // 9 + 16 + 25
  assert.is(squaredEuclidean([1, 0], [0, 1]), 2);
  assert.is(squaredEuclidean(new Float32Array([0.5, -0.5]), [0.5, -0.5]), 0);
  assert.ok(Math.abs(cosineDistance([1, 0], [1, 1]) - (1 - Math.SQRT1_2)) < 1e-15);
  assert.ok(Math.abs(cosineDistance([3, 4], [-3, -4]) - 2) < 1e-15);
  assert.is(cosineDistance([2, 0], [0, 5]), 1);
  assert.is(angularDistance([1, 0], [0, 1]), 0.5);
  assert.is(angularDistance([1, 0], [-2, 0]), 1);
  assert.is(angularDistance([1, 0], [7, 0]), 0);
  assert.ok(Math.abs(angularDistance([1, 0], [1, 1]) - 0.25) < 1e-15); // 45° = π/4
  assert.ok(Math.abs(angularDistance([1, 0], [-1, Math.sqrt(3)]) - 2 / 3) < 1e-15); // 120°
  for (const m of METRICS) {
    const a = [0.3, -1.2, 2];
    const b = new Float64Array([1, 0.5, -0.25]);
    const named = m === 'euclidean' ? squaredEuclidean(a, b) : m === 'cosine' ? cosineDistance(a, b) : angularDistance(a, b);
    assert.is(distance(a, b, m), named, m);
  }
});

test('distances: accumulate in float64 even for Float32Array inputs', () => {
  // In float32, 1 + 1e-8 rounds back to 1; in float64 it does not.
  const a = new Float32Array([1, 1e-4]);
  const z = new Float32Array(2);
  const small = Math.fround(1e-4);
  assert.is(squaredEuclidean(a, z), 1 + small * small);
  assert.ok(squaredEuclidean(a, z) > 1);
});

test('distances: identities on random unit vectors (d² = 2 − 2cos, angular = arccos(1 − cosine)/π)', () => {
  const r = mulberry32(11);
  for (let i = 0; i < 500; i++) {
    const a = randomUnit(512, r);
    const b = withCos(a, -1 + 2 * r(), r);
    const cos = dot(a, b); // both unit: the cosine itself
    const d2 = squaredEuclidean(a, b);
    const cd = cosineDistance(a, b);
    const ad = angularDistance(a, b);
    assert.ok(Math.abs(d2 - (2 - 2 * cos)) < 1e-12, `d² ${d2} vs 2 − 2cos ${2 - 2 * cos}`);
    assert.ok(Math.abs(cd - (1 - cos)) < 1e-12, `cosine ${cd} vs 1 − cos ${1 - cos}`);
    assert.ok(Math.abs(d2 - 2 * cd) < 1e-12, 'd² = 2·cosine');
    // arccos is steep near ±1: 1e-16 in cos is ~1e-8 in angle there.
    assert.ok(Math.abs(ad - Math.acos(1 - cd) / Math.PI) < 1e-7, `angular ${ad}`);
    assert.ok(d2 >= 0 && d2 <= 4 && cd >= 0 && cd <= 2 && ad >= 0 && ad <= 1);
    // Float32 inputs (what OpenCV returns) give the same within float32 rounding.
    assert.ok(Math.abs(squaredEuclidean(Float32Array.from(a), Float32Array.from(b)) - d2) < 1e-5);
  }
});

test('distances: (anti)parallel vectors give 0 / 1, never NaN (cos clamped)', () => {
  const r = mulberry32(12);
  for (let i = 0; i < 300; i++) {
    const a = Float64Array.from({ length: 7 + (i % 500) }, () => gaussian(r));
    const s = 0.1 + 10 * r();
    const pos = a.map((x) => x * s);
    const neg = a.map((x) => -x * s);
    const p = angularDistance(a, pos);
    const n = angularDistance(a, neg);
    assert.ok(p >= 0 && p < 1e-7, `parallel: ${p}`);
    assert.ok(n <= 1 && n > 1 - 1e-7, `antiparallel: ${n}`);
    assert.ok(Math.abs(cosineDistance(a, pos)) < 1e-14);
  }
});

// ---------------------------------------------------------------- verify

test('verify: default thresholds are 1.1 (d²) and its exact equivalents', () => {
  assert.is(DEFAULT_THRESHOLDS.euclidean, 1.1);
  assert.is(DEFAULT_THRESHOLDS.cosine, 0.55); // d²/2
  assert.ok(Math.abs(DEFAULT_THRESHOLDS.angular - Math.acos(0.45) / Math.PI) < 1e-15);
  assert.ok(Math.abs(DEFAULT_THRESHOLDS.angular - 0.351424) < 1e-6);
  assert.ok(Object.isFrozen(DEFAULT_THRESHOLDS));
  // Hand pairs: cos 0.5 (d² 1 < 1.1: same), cos 0.4 (d² 1.2: different), under every metric.
  const a = [1, 0];
  for (const m of METRICS) {
    assert.is(verify(a, [0.5, Math.sqrt(0.75)], { metric: m }).same, true, m);
    assert.is(verify(a, [0.4, Math.sqrt(0.84)], { metric: m }).same, false, m);
    assert.equal(verify(a, a, { metric: m }), { distance: 0, same: true }, m);
  }
  assert.equal(verify([1, 0], [0, 1]), { distance: 2, same: false });
  assert.equal(verify([1, 2], [1, 3]), { distance: 1, same: true }); // default metric: squared Euclidean
  // Strictly less, as facenet's np.less(dist, threshold).
  assert.is(verify(a, a, { threshold: 0 }).same, false);
  assert.is(verify([0, 0], [1, 0], { threshold: 1 }).same, false);
  assert.is(verify([0, 0], [1, 0], { threshold: 1.0000001 }).same, true);
});

test('verify: default thresholds decide the same on random pairs whatever the metric', () => {
  const r = mulberry32(13);
  let same = 0;
  let checked = 0;
  for (let i = 0; i < 3000; i++) {
    const a = randomUnit(64, r);
    // Half the pairs anywhere in [−1, 1], half within 1e-3 of the boundary cos = 0.45.
    const c = i % 2 ? -1 + 2 * r() : 0.45 + (r() - 0.5) * 2e-3 * r() ** 3;
    const b = withCos(a, c, r);
    if (Math.abs(dot(a, b) - 0.45) < 1e-12) continue; // an exact tie: rounding may go either way
    const decisions = METRICS.map((m) => verify(a, b, { metric: m }).same);
    assert.equal(new Set(decisions).size, 1, `cos ${dot(a, b)}: ${METRICS.join('/')} decided ${decisions.join('/')}`);
    same += decisions[0] ? 1 : 0;
    checked++;
  }
  assert.ok(checked > 2900 && same > 800 && same < checked - 800, `both outcomes exercised: ${same} of ${checked}`);
});

test('convertThreshold: custom thresholds convert exactly and decide the same', () => {
  assert.is(convertThreshold(1.1, 'euclidean', 'cosine'), 0.55);
  assert.is(convertThreshold(2, 'euclidean', 'angular'), 0.5);
  assert.is(convertThreshold(0.5, 'angular', 'euclidean'), 2 - 2 * Math.cos(Math.PI / 2));
  assert.is(convertThreshold(0.3, 'cosine', 'cosine'), 0.3);
  assert.is(convertThreshold(4, 'euclidean', 'angular'), 1);
  for (const t of [0.2, 0.8, 1.3, 2.5, 3.9]) {
    for (const m of METRICS) assert.ok(Math.abs(convertThreshold(convertThreshold(t, 'euclidean', m), m, 'euclidean') - t) < 1e-12, `${t} via ${m}`);
  }
  const r = mulberry32(14);
  for (let i = 0; i < 500; i++) {
    const t = 0.2 + 3 * r();
    const a = randomUnit(32, r);
    const b = withCos(a, 1 - t / 2 + (r() - 0.5) * 0.1, r);
    if (Math.abs(squaredEuclidean(a, b) - t) < 1e-9) continue;
    const decisions = METRICS.map((m) => verify(a, b, { metric: m, threshold: convertThreshold(t, 'euclidean', m) }).same);
    assert.equal(new Set(decisions).size, 1, `threshold ${t}: ${decisions.join('/')}`);
  }
});

// ---------------------------------------------------------------- gallery search

const GALLERY_DIM = 512;

function randomRows(n: number, seed: number, unitLength: boolean): Map<string, Float32Array> {
  const r = mulberry32(seed);
  const rows = new Map<string, Float32Array>();
  for (let i = 0; i < n; i++) {
    const v = randomUnit(GALLERY_DIM, r);
    const s = unitLength ? 1 : 0.25 + 2 * r();
    // Ids in shuffled, non-numeric order so that storage order ≠ id order.
    rows.set(`p${((i * 7919) % n).toString(36)}-${i}`, Float32Array.from(v, (x) => x * s));
  }
  return rows;
}

for (const unitLength of [true, false]) {
  test(`gallery: search = brute force on 2,000 ${unitLength ? 'unit' : 'random-length'} vectors (k 1, 5, 50, after removals)`, () => {
    const rows = randomRows(2000, unitLength ? 21 : 22, unitLength);
    const r = mulberry32(23);
    const queries = Array.from({ length: 6 }, () => randomUnit(GALLERY_DIM, r));
    // A stored embedding as query (distance 0 first), and one close to a stored one.
    const stored = [...rows.values()];
    queries.push(Float64Array.from(stored[1234]!), Float64Array.from(stored[77]!, (x) => x + 0.01 * gaussian(r)));
    for (const metric of METRICS) {
      const g = createGallery({ metric, dim: GALLERY_DIM, capacity: 3 });
      for (const [id, v] of rows) g.add(id, v);
      const live = new Map(rows);
      const check = (what: string) => {
        assert.is(g.size, live.size);
        for (const q of queries) {
          const all = bruteForce(live, q, metric, live.size);
          for (const k of [1, 5, 50]) assertSameMatches(g.search(q, k), all.slice(0, k), 1e-9, `${metric} ${what} k=${k}`);
        }
      };
      check('full');
      assert.is(g.search(queries[6]!, 1)[0]!.id, [...rows.keys()][1234]);
      assert.ok(g.search(queries[6]!, 1)[0]!.distance < 1e-7);
      // Remove a third (including the nearest hits and the last row), re-add a few with new vectors.
      const ids = [...rows.keys()];
      const gone = new Set<string>([ids[1234]!, ids[ids.length - 1]!, ...g.search(queries[0]!, 10).map((m) => m.id)]);
      while (gone.size < 700) gone.add(ids[Math.floor(r() * ids.length)]!);
      for (const id of gone) {
        assert.ok(g.remove(id), id);
        live.delete(id);
        assert.not.ok(g.has(id));
      }
      assert.not.ok(g.remove(ids[1234]!), 'second removal');
      for (let i = 0; i < 50; i++) {
        const v = Float32Array.from(randomUnit(GALLERY_DIM, r));
        g.add(`new-${i}`, v);
        live.set(`new-${i}`, v);
      }
      check('after removals');
      for (const [id, v] of live) assert.equal(g.get(id), v);
      assert.equal(new Set(g.ids()), new Set(live.keys()));
    }
  });
}

test('gallery: ties broken by id, whatever the insertion and removal order', () => {
  const base = [1, 0, 0, 0];
  for (const metric of METRICS) {
    const g = createGallery({ dim: 4, metric });
    for (const id of ['m', 'c', 'x', 'a', 'q']) g.add(id, base);
    g.add('far', [0, 1, 0, 0]);
    assert.equal(
      g.search(base, 6).map((m) => m.id),
      ['a', 'c', 'm', 'q', 'x', 'far'],
      metric,
    );
    assert.equal(
      g.search(base, 2).map((m) => m.id),
      ['a', 'c'],
      `${metric}: k cuts a tie`,
    );
    g.remove('a');
    g.add('b', base);
    assert.equal(
      g.search(base, 3).map((m) => m.id),
      ['b', 'c', 'm'],
      metric,
    );
  }
});

test('gallery: small cases (k > size, k = 0, empty, replace, number[] input, default dim and metric)', () => {
  const g = createGallery();
  assert.is(g.dim, 512);
  assert.is(g.metric, 'euclidean');
  assert.equal(g.search(new Float32Array(512), 5), []);
  const e1 = new Array<number>(512).fill(0);
  e1[0] = 1;
  const e2 = new Array<number>(512).fill(0);
  e2[1] = 1;
  g.add('one', e1);
  g.add('two', e2);
  assert.is(g.size, 2);
  assert.equal(g.search(e1, 10), [
    { id: 'one', distance: 0 },
    { id: 'two', distance: 2 },
  ]);
  assert.equal(g.search(e1, 0), []);
  g.add('two', e1, { replace: true });
  assert.is(g.size, 2);
  assert.equal(g.search(e1), [
    { id: 'one', distance: 0 },
    { id: 'two', distance: 0 },
  ]);
  assert.is(g.get('nobody'), undefined);
  const c = createGallery({ dim: 2, metric: 'angular' });
  c.add('east', [3, 0]);
  c.add('north', [0, 0.5]);
  const hits = c.search([1, 1], 2); // both at 45°, tied: by id
  assert.equal(
    hits.map((m) => m.id),
    ['east', 'north'],
  );
  for (const m of hits) assert.ok(Math.abs(m.distance - 0.25) < 1e-15, `${m.id}: ${m.distance}`);
});

// ---------------------------------------------------------------- save / load

test('gallery: toBytes writes the documented little-endian layout', () => {
  const g = createGallery({ dim: 2, metric: 'angular' });
  g.add('a', [1, 2]);
  g.add('é', [-0.5, 0.25]);
  const want = [
    ...[0x46, 0x4e, 0x44, 0x47], // "FNDG"
    ...[1, 0, 0, 0], // version 1
    ...[2, 0, 0, 0], // dim 2
    ...[1, 0, 0, 0], // metric 1 = angular (facenet's number)
    ...[2, 0, 0, 0], // count 2
    ...[1, 0, 0, 0, 0x61], // 'a'
    ...[2, 0, 0, 0, 0xc3, 0xa9], // 'é' in UTF-8
    ...[0], // pad 31 → 32
    ...[0x00, 0x00, 0x80, 0x3f], // 1
    ...[0x00, 0x00, 0x00, 0x40], // 2
    ...[0x00, 0x00, 0x00, 0xbf], // −0.5
    ...[0x00, 0x00, 0x80, 0x3e], // 0.25
  ];
  assert.equal([...g.toBytes()], want);
  const empty = createGallery({ dim: 3, metric: 'cosine' }).toBytes();
  assert.equal([...empty], [0x46, 0x4e, 0x44, 0x47, 1, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]);
});

test('gallery: save/load round trip gives identical search results', () => {
  const rows = randomRows(2000, 31, false);
  const r = mulberry32(32);
  const queries = Array.from({ length: 5 }, () => randomUnit(GALLERY_DIM, r));
  for (const metric of METRICS) {
    const g = createGallery({ metric });
    for (const [id, v] of rows) g.add(id, v);
    for (const id of [...rows.keys()].slice(0, 300)) g.remove(id);
    for (const id of ['', 'Zoë', '李小龙', '😀 emoji', 'a\u0000b']) g.add(id, randomUnit(GALLERY_DIM, r));
    const bytes = g.toBytes();
    const h = Gallery.fromBytes(bytes);
    assert.is(h.dim, g.dim);
    assert.is(h.metric, metric);
    assert.is(h.size, g.size);
    assert.equal(h.ids(), g.ids());
    for (const q of queries) assert.equal(h.search(q, 50), g.search(q, 50), metric);
    assert.equal(h.get('李小龙'), g.get('李小龙'));
    assert.equal([...h.toBytes()], [...bytes]);
    // The loaded gallery is a working one: it grows and shrinks.
    h.add('extra', queries[0]!);
    assert.is(h.search(queries[0]!, 1)[0]!.id, 'extra');
    // Bytes at an odd offset inside a larger buffer load too (no aligned view is assumed).
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 1);
    assert.equal(Gallery.fromBytes(shifted.subarray(1, 1 + bytes.length)).search(queries[1]!, 5), g.search(queries[1]!, 5));
  }
  const empty = Gallery.fromBytes(createGallery({ dim: 8 }).toBytes());
  assert.is(empty.size, 0);
  assert.is(empty.dim, 8);
  empty.add('x', new Float32Array(8).fill(1));
  assert.is(empty.size, 1);
});

// ---------------------------------------------------------------- errors

test('errors: distances and verify', () => {
  throwsLike(() => squaredEuclidean([1, 2, 3], [1, 2]), RangeError, /differ in length \(3 vs 2\)/);
  throwsLike(() => cosineDistance(new Float32Array(512), new Float32Array(128)), RangeError, /512 vs 128/);
  throwsLike(() => angularDistance([1], [1, 2]), RangeError, /1 vs 2/);
  throwsLike(() => squaredEuclidean([1, NaN, 3], [1, 2, 3]), RangeError, /^Cannot compute squared Euclidean distance: a\[1\] is NaN/);
  throwsLike(() => squaredEuclidean([1, 2], [1, Infinity]), RangeError, /b\[1\] is Infinity/);
  throwsLike(() => cosineDistance([NaN, 0], [1, 0]), RangeError, /cosine distance: a\[0\] is NaN/);
  throwsLike(() => angularDistance([1, 0], [0, -Infinity]), RangeError, /angular distance: b\[1\] is -Infinity/);
  throwsLike(() => cosineDistance([0, 0], [1, 0]), RangeError, /a is all zeros/);
  throwsLike(() => angularDistance([1, 0], [0, 0]), RangeError, /b is all zeros/);
  throwsLike(() => distance([1], [1], 'manhattan' as Metric), RangeError, /unknown metric 'manhattan'/);
  throwsLike(() => verify([1], [1], { metric: 'l2' as Metric }), RangeError, /^Cannot verify: unknown metric 'l2'/);
  throwsLike(() => verify([1], [1], { threshold: NaN }), RangeError, /threshold must be a finite number, got NaN/);
  throwsLike(() => verify([1], [NaN]), RangeError, /b\[0\] is NaN/);
  throwsLike(() => convertThreshold(4.5, 'euclidean', 'cosine'), RangeError, /4\.5 is outside \[0, 4\]/);
  throwsLike(() => convertThreshold(-0.1, 'angular', 'cosine'), RangeError, /outside \[0, 1\]/);
  throwsLike(() => convertThreshold(1, 'cosine', 'dot' as Metric), RangeError, /unknown metric 'dot'/);
});

test('errors: gallery construction, add and search; a failed add changes nothing', () => {
  for (const dim of [0, -1, 1.5, NaN]) throwsLike(() => createGallery({ dim }), RangeError, /^Cannot create gallery: dim must be an integer/);
  throwsLike(() => createGallery({ metric: 'l1' as Metric }), RangeError, /unknown metric 'l1'/);
  throwsLike(() => createGallery({ capacity: 0 }), RangeError, /capacity must be a positive integer, got 0/);
  const g = createGallery({ dim: 3 });
  g.add('a', [1, 0, 0]);
  const before = g.search([1, 1, 1], 5);
  throwsLike(() => g.add(7 as unknown as string, [1, 0, 0]), TypeError, /id must be a string, got number/);
  throwsLike(() => g.add('a', [0, 1, 0]), RangeError, /id 'a' is already there \(pass \{ replace: true \}/);
  throwsLike(() => g.add('b', [1, 0]), RangeError, /^Cannot add 'b' to gallery: the embedding has length 2, the gallery's dim is 3/);
  throwsLike(() => g.add('b', [1, NaN, 0]), RangeError, /element \[1\] is NaN/);
  throwsLike(() => g.add('b', [1, 0, 1e39]), RangeError, /element \[2\] 1e\+39 is beyond float32 range/);
  throwsLike(() => g.add('a', [0, Infinity, 0], { replace: true }), RangeError, /element \[1\] is Infinity/);
  throwsLike(() => g.add('b', 5 as unknown as number[]), TypeError, /must be an array or typed array/);
  assert.is(g.size, 1);
  assert.not.ok(g.has('b'));
  assert.equal(g.search([1, 1, 1], 5), before);
  assert.equal(g.get('a'), new Float32Array([1, 0, 0]));
  g.add('zero', [0, 0, 0]); // fine under squared Euclidean
  assert.is(g.search([0, 0, 0], 1)[0]!.id, 'zero');
  for (const metric of ['cosine', 'angular'] as const) {
    const c = createGallery({ dim: 2, metric });
    throwsLike(() => c.add('z', [0, 0]), RangeError, new RegExp(`all zeros, which the ${metric} metric cannot compare`));
    throwsLike(() => c.add('tiny', [1e-50, 0]), RangeError, /all zeros/); // zero once stored as float32
    c.add('x', [1, 0]);
    throwsLike(() => c.search([0, 0]), RangeError, /^Cannot search gallery: the embedding is all zeros/);
  }
  for (const k of [-1, 1.5, NaN]) throwsLike(() => g.search([1, 0, 0], k), RangeError, /k must be a non-negative integer/);
  throwsLike(() => g.search([1, 0, 0, 0]), RangeError, /^Cannot search gallery: the embedding has length 4, the gallery's dim is 3/);
  throwsLike(() => g.search([1, 0, NaN]), RangeError, /element \[2\] is NaN/);
});

test('errors: fromBytes rejects bad data with ERR_DECODE naming the fault', () => {
  const g = createGallery({ dim: 2, metric: 'cosine' });
  g.add('ab', [1, 2]);
  g.add('c', [3, 4]);
  const good = g.toBytes(); // 20 + (4+2) + (4+1) = 31, pad to 32, + 16 = 48 bytes
  assert.is(good.length, 48);
  const bad = (edit: (b: Uint8Array, v: DataView) => Uint8Array | void, re: RegExp) => {
    const b = good.slice();
    const out = edit(b, new DataView(b.buffer)) ?? b;
    const e = throwsLike(() => Gallery.fromBytes(out), FacenetDnnError, re);
    assert.is(e.code, 'ERR_DECODE');
    assert.match(e.message, /^Cannot load gallery: /);
    return e;
  };
  throwsLike(() => Gallery.fromBytes([1, 2] as unknown as Uint8Array), TypeError, /expected a Uint8Array, got \[object Array\]/);
  bad((b) => b.subarray(0, 19), /truncated: 19 bytes, the header alone needs 20/);
  bad((b) => new Uint8Array(0), /truncated: 0 bytes/);
  bad((b) => void (b[0] = 0x89), /not a facenet-dnn gallery \(magic bytes '89 4e 44 47'/);
  bad((b) => new TextEncoder().encode('{"json": "not a gallery at all"}'), /magic bytes '7b 22 6a 73'/);
  bad((b, v) => v.setUint32(4, 2, true), /unsupported format version 2, this build reads version 1/);
  bad((b, v) => v.setUint32(8, 0, true), /dim 0 is outside/);
  bad((b, v) => v.setUint32(12, 7, true), /unknown metric code 7/);
  bad((b, v) => v.setUint32(16, 1_000_000_000, true), /truncated: 1000000000 embeddings of dim 2 need at least/);
  bad((b) => b.subarray(0, 47), /truncated: the embeddings need bytes 32–48, the data ends at 47/);
  bad((b, v) => v.setUint32(20, 200, true), /truncated in id #0: 200 bytes at byte 24/);
  bad((b) => {
    const longer = new Uint8Array(49);
    longer.set(b);
    return longer;
  }, /1 unexpected bytes after the last embedding/);
  bad((b) => void b.set([0xff, 0xfe], 24), /id #0 at byte 24 is not valid UTF-8/);
  bad(() => {
    const d = createGallery({ dim: 1 });
    d.add('c', [1]);
    const bytes = d.toBytes(); // 20 + 5 → 28, + 4 = 32
    const dup = new Uint8Array(40);
    dup.set(bytes.subarray(0, 25));
    new DataView(dup.buffer).setUint32(16, 2, true);
    dup.set(bytes.subarray(20, 25), 25); // the same id again
    dup.set(bytes.subarray(28, 32), 32);
    dup.set(bytes.subarray(28, 32), 36);
    return dup;
  }, /id 'c' appears twice \(#0 and #1\)/);
  bad((b, v) => v.setFloat32(40, NaN, true), /the embedding of 'c' has a value that is not finite/);
  bad((b, v) => v.setFloat32(32, Infinity, true), /the embedding of 'ab' has a value that is not finite/);
  bad((b, v) => {
    v.setFloat32(40, 0, true);
    v.setFloat32(44, 0, true);
  }, /the embedding of 'c' is all zeros, which the cosine metric cannot compare/);
});

test.run();
