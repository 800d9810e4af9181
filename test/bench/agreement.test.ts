/** The forward bench's refusal rule: which engine columns are not timed after the agreement runs. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { maxAbsDiff, refusals } from '../../bench/support/agreement.js';

type Id = 'cpu' | 'wasm' | 'ocv';
const IDS: Id[] = ['cpu', 'wasm', 'ocv'];
const TOL = 1e-4;

/** Pairwise diffs at batch 1 and 8 from a table of per-pair values. */
function pairs(d: Record<'cpu-wasm' | 'cpu-ocv' | 'wasm-ocv', number>, batch8 = d) {
  return (['cpu-wasm', 'cpu-ocv', 'wasm-ocv'] as const).flatMap((k) => {
    const [a, b] = k.split('-') as [Id, Id];
    return [
      { a, b, batch: 1, maxAbsDiff: d[k] },
      { a, b, batch: 8, maxAbsDiff: batch8[k] },
    ];
  });
}

test('columns that all agree are all timed', () => {
  assert.equal([...refusals(IDS, pairs({ 'cpu-wasm': 1e-6, 'cpu-ocv': 2e-6, 'wasm-ocv': 1e-4 }), TOL).keys()], []);
});

test('one wrong column is refused, the two that agree are kept', () => {
  const r = refusals(IDS, pairs({ 'cpu-wasm': 1e-6, 'cpu-ocv': 0.3, 'wasm-ocv': 0.3 }), TOL);
  assert.equal([...r.keys()], ['ocv']);
  assert.match(r.get('ocv')!, /agrees with 0 of 2 other columns within 0\.0001 \(worst max \|Δ\| 3\.00e-1\)/);
});

test('a column wrong only at batch 8 is refused', () => {
  const ok = { 'cpu-wasm': 1e-6, 'cpu-ocv': 1e-6, 'wasm-ocv': 1e-6 };
  const r = refusals(IDS, pairs(ok, { ...ok, 'cpu-ocv': 1e-3, 'wasm-ocv': 1e-3 }), TOL);
  assert.equal([...r.keys()], ['ocv']);
});

test('when no two columns agree, none is timed; NaN never agrees', () => {
  assert.equal([...refusals(IDS, pairs({ 'cpu-wasm': 1, 'cpu-ocv': 1, 'wasm-ocv': 1 }), TOL).keys()], IDS);
  assert.equal([...refusals(IDS, pairs({ 'cpu-wasm': NaN, 'cpu-ocv': 1e-6, 'wasm-ocv': NaN }), TOL).keys()], ['wasm']);
});

test('maxAbsDiff: largest difference, NaN and length mismatch never within tolerance', () => {
  assert.is(maxAbsDiff(Float32Array.of(1, 2, 3), Float32Array.of(1, 2.5, 2)), 1);
  assert.ok(Number.isNaN(maxAbsDiff(Float32Array.of(NaN, 5), Float32Array.of(0, 0))));
  assert.ok(Number.isNaN(maxAbsDiff(Float32Array.of(0, NaN, 7), Float32Array.of(0, 0, 0))));
  assert.is(maxAbsDiff(Float32Array.of(1), Float32Array.of(1, 2)), Infinity);
});

test.run();
