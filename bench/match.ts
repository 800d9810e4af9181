/**
 * Matching benchmarks (benny, saved as JSON + chart): verify() of one 512-d pair, top-5 gallery
 * search over 1k and 100k random 512-d unit embeddings against the named alternative (every
 * distance with `distance()`, then a full sort), and `toBytes` / `fromBytes` of the 100k gallery.
 */
import b from 'benny';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../fixtures/prng.js';
import { createGallery, distance, Gallery, verify, type Match } from '../src/runtime/match/index.js';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const DIM = 512;

export interface MatchBenchResult {
  /** Median milliseconds per call, by case name. */
  medianMs: Record<string, number>;
  /** Size of the saved 100k gallery. */
  galleryBytes: number;
}

/** `n` random unit vectors (uniform in the cube, normalized: fine for timing). */
function unitRows(n: number, seed: number): Float32Array[] {
  const r = mulberry32(seed);
  const rows: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    const v = new Float32Array(DIM);
    let s = 0;
    for (let j = 0; j < DIM; j++) {
      const x = 2 * r() - 1;
      v[j] = x;
      s += x * x;
    }
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < DIM; j++) v[j] = v[j]! * inv;
    rows.push(v);
  }
  return rows;
}

/** The alternative to the gallery: every distance by the public function, then one full sort. */
function bruteForceTop(rows: Float32Array[], ids: string[], q: Float32Array, k: number): Match[] {
  const all: Match[] = rows.map((v, i) => ({ id: ids[i]!, distance: distance(q, v, 'euclidean') }));
  all.sort((x, y) => x.distance - y.distance || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  return all.slice(0, k);
}

export async function runMatchBench(log: (s: string) => void = console.log): Promise<MatchBenchResult> {
  const rows = unitRows(100_000, 1);
  const ids = rows.map((_, i) => `person-${i}`);
  const [q, q2] = unitRows(2, 2) as [Float32Array, Float32Array];
  const small = createGallery({ dim: DIM, capacity: 1000 });
  const large = createGallery({ dim: DIM, capacity: rows.length });
  rows.forEach((v, i) => {
    if (i < 1000) small.add(ids[i]!, v);
    large.add(ids[i]!, v);
  });
  const bytes = large.toBytes();
  // Sanity, outside the timings: the gallery and the alternative agree.
  const want = bruteForceTop(rows, ids, q, 5).map((m) => m.id).join();
  const got = large.search(q, 5).map((m) => m.id).join();
  if (want !== got) throw new Error(`gallery search disagrees with brute force: ${got} vs ${want}`);

  mkdirSync(RESULTS, { recursive: true });
  let sink = 0; // keeps results alive so nothing is optimized away
  const summary = await b.suite(
    'match: 512-d embeddings',
    b.add('verify (one pair, squared Euclidean)', () => {
      sink += verify(q, q2).distance;
    }),
    b.add('gallery search top-5, 1k faces', () => {
      sink += small.search(q, 5).length;
    }),
    b.add('gallery search top-5, 100k faces', () => {
      sink += large.search(q, 5).length;
    }),
    b.add('alternative: distance() on every row + full sort, 100k faces', () => {
      sink += bruteForceTop(rows, ids, q, 5).length;
    }),
    b.add('toBytes, 100k faces', () => {
      sink += large.toBytes().length;
    }),
    b.add('fromBytes, 100k faces', () => {
      sink += Gallery.fromBytes(bytes).size;
    }),
    b.configure({ cases: { minSamples: 5, maxTime: 3 } }),
    b.cycle(),
    b.complete(),
    b.save({ file: 'match', folder: RESULTS, format: 'json', details: true }),
    b.save({ file: 'match', folder: RESULTS, format: 'chart.html' }),
  );
  if (!Number.isFinite(sink)) throw new Error('a benchmarked call returned a non-finite result');
  const results = summary.results as unknown as Array<{ name: string; details: { median: number } }>;
  const medianMs = Object.fromEntries(results.map((r) => [r.name, r.details.median * 1000]));
  const result: MatchBenchResult = { medianMs, galleryBytes: bytes.length };
  writeFileSync(`${RESULTS}match-summary.json`, JSON.stringify(result, null, 2) + '\n');
  log(
    'match (median): ' +
      Object.entries(medianMs)
        .map(([name, ms]) => `${name} ${ms < 0.1 ? `${(ms * 1000).toFixed(2)} µs` : `${ms.toFixed(2)} ms`}`)
        .join('; ') +
      `; saved gallery ${(bytes.length / 1e6).toFixed(1)} MB`,
  );
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) await runMatchBench();
