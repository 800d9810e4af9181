/**
 * Constant-folding kernels against tfjs-core's cpu backend (an independent implementation of TF
 * semantics) on seeded random inputs: int results exactly, float results within 1 ulp.
 */
import { prng } from '../support/numeric.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { KERNELS, runKernel, hasKernel } from '../../src/converter/kernels/index.js';
import { DataType } from '../../src/converter/proto/types.js';
import type { AttrValue, NodeDef } from '../../src/converter/proto/types.js';
import { attrValue as a, type HostTensor } from '../../src/converter/tensor.js';

test.before(async () => {
  await tf.setBackend('cpu');
});

const rand = prng(12345);
const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
const randF = (s: number[], lo = -3, hi = 3) => Float32Array.from({ length: size(s) }, () => lo + (hi - lo) * rand());
const randI = (s: number[], lo = -9, hi = 9) => Int32Array.from({ length: size(s) }, () => lo + Math.floor((hi - lo + 1) * rand()));

const F = DataType.DT_FLOAT;
const I = DataType.DT_INT32;
const B = DataType.DT_BOOL;

function node(op: string, attr: Record<string, AttrValue> = {}): NodeDef {
  return { name: `test/${op}`, op, input: [], attr };
}
function host(dtype: number, shape: number[], data: ArrayLike<number>): HostTensor {
  const d = dtype === F ? Float32Array.from(data) : dtype === B ? Uint8Array.from(data) : Int32Array.from(data);
  return { dtype, shape, data: d };
}
const tfOf = (h: HostTensor) =>
  tf.tensor(h.dtype === B ? Array.from(h.data, (v) => !!v) : (h.data as Float32Array), h.shape, h.dtype === F ? 'float32' : h.dtype === B ? 'bool' : 'int32');

/** 1 ulp of float32 at |v| (a few ulp are allowed where TF itself is not exact). */
function ulp(v: number): number {
  const x = Math.abs(Math.fround(v));
  if (x === 0 || !Number.isFinite(x)) return 1e-45;
  return 2 ** (Math.floor(Math.log2(x)) - 23);
}

function same(got: HostTensor, want: tf.Tensor, what: string, ulps = 1): void {
  assert.equal(got.shape, want.shape, `${what}: shape`);
  const w = want.dataSync();
  assert.is(got.data.length, w.length, `${what}: length`);
  for (let i = 0; i < w.length; i++) {
    const g = got.data[i]!;
    const e = typeof w[i] === 'boolean' ? +w[i]! : Number(w[i]);
    if (Number.isNaN(e) && Number.isNaN(g)) continue;
    if (got.dtype === F) {
      if (!(Math.abs(g - e) <= ulps * ulp(e))) assert.unreachable(`${what}[${i}]: got ${g}, tfjs ${e}`);
    } else if (g !== e) assert.unreachable(`${what}[${i}]: got ${g}, tfjs ${e}`);
  }
}

function run1(n: NodeDef, inputs: HostTensor[]): HostTensor {
  const out = runKernel(n, inputs);
  assert.ok(out, `kernel for ${n.op}`);
  return out![0]!;
}

const SHAPE_PAIRS: Array<[number[], number[]]> = [
  [[2, 3], [2, 3]],
  [[2, 1, 4], [3, 1]],
  [[], [2, 2]],
  [[4], [1]],
  [[3, 1], [1, 5]],
  [[2, 3, 4], [4]],
];

const BIN: Array<[string, (x: tf.Tensor, y: tf.Tensor) => tf.Tensor, boolean]> = [
  ['Add', tf.add, true],
  ['AddV2', tf.add, true],
  ['Sub', tf.sub, true],
  ['Mul', tf.mul, true],
  ['RealDiv', tf.div, false],
  ['FloorDiv', tf.floorDiv, true],
  ['Maximum', tf.maximum, true],
  ['Minimum', tf.minimum, true],
  // TF rounds x − y to float32 before squaring; tfjs squares the double difference: 2 ulp apart at most.
  ['SquaredDifference', tf.squaredDifference, true],
  ['Equal', tf.equal, true],
  ['NotEqual', tf.notEqual, true],
  ['Greater', tf.greater, true],
  ['GreaterEqual', tf.greaterEqual, true],
  ['Less', tf.less, true],
  ['LessEqual', tf.lessEqual, true],
];

test('binary ops broadcast like TF, float32 and int32', () => {
  for (const [op, ref, ints] of BIN) {
    for (const [sa, sb] of SHAPE_PAIRS) {
      const fa = host(F, sa, randF(sa));
      const fb = host(F, sb, randF(sb, 0.5, 4));
      same(run1(node(op), [fa, fb]), ref(tfOf(fa), tfOf(fb)), `${op} f32 [${sa}]x[${sb}]`, op === 'SquaredDifference' ? 2 : 1);
      if (ints) {
        const ia = host(I, sa, randI(sa));
        const ib = host(I, sb, randI(sb, 1, 7));
        same(run1(node(op), [ia, ib]), ref(tfOf(ia), tfOf(ib)), `${op} i32 [${sa}]x[${sb}]`);
      }
    }
  }
});

test('float32 arithmetic is rounded once, bit for bit', () => {
  // Values whose double result differs from the float32 one.
  const x = host(F, [3], [0.1, 1 / 3, 16777217]);
  const y = host(F, [3], [0.2, 3, 1]);
  const r = run1(node('Add'), [x, y]);
  assert.ok(r.data instanceof Float32Array);
  for (let i = 0; i < 3; i++) assert.is(r.data[i], Math.fround(x.data[i]! + y.data[i]!));
  same(run1(node('Mul'), [x, y]), tf.mul(tfOf(x), tfOf(y)), 'Mul exact', 0);
  same(run1(node('RealDiv'), [x, y]), tf.div(tfOf(x), tfOf(y)), 'RealDiv exact', 0);
});

test('int32 overflow wraps as in C++', () => {
  const x = host(I, [2], [2147483647, 65536]);
  const y = host(I, [2], [1, 65536]);
  assert.equal(Array.from(run1(node('Add'), [x, y]).data), [-2147483648, 131072]);
  assert.equal(run1(node('Mul'), [x, y]).data[1], 0); // 2^32 wraps to 0
});

test('integer division by zero is an error, not a value', () => {
  assert.throws(() => run1(node('FloorDiv'), [host(I, [1], [3]), host(I, [1], [0])]), /division by zero/);
});

const UN: Array<[string, (x: tf.Tensor) => tf.Tensor, number, [number, number]]> = [
  ['Neg', tf.neg, 0, [-3, 3]],
  ['Rsqrt', tf.rsqrt, 0, [0.01, 9]],
  ['Sqrt', tf.sqrt, 0, [0, 9]],
  ['Square', tf.square, 0, [-3, 3]],
  ['Floor', tf.floor, 0, [-3, 3]],
  ['Abs', tf.abs, 0, [-3, 3]],
  ['Relu', tf.relu, 0, [-3, 3]],
  ['Relu6', tf.relu6, 0, [-9, 9]],
  ['Exp', tf.exp, 1, [-3, 3]],
  ['Tanh', tf.tanh, 2, [-3, 3]],
  ['Sigmoid', tf.sigmoid, 2, [-6, 6]],
  ['Reciprocal', tf.reciprocal, 0, [0.5, 9]],
  ['Round', tf.round, 0, [-4, 4]],
];

test('unary ops match tfjs', () => {
  for (const [op, ref, ulps, [lo, hi]] of UN) {
    const x = host(F, [3, 5], randF([3, 5], lo, hi));
    same(run1(node(op), [x]), ref(tfOf(x)), op, ulps);
  }
  const halves = host(F, [6], [0.5, 1.5, 2.5, -0.5, -1.5, -2.5]);
  same(run1(node('Round'), [halves]), tf.round(tfOf(halves)), 'Round half to even', 0);
  const b = host(B, [4], [1, 0, 0, 1]);
  same(run1(node('LogicalNot'), [b]), tf.logicalNot(tfOf(b)), 'LogicalNot');
  const i = host(I, [4], [-2147483648, -5, 0, 7]);
  same(run1(node('Neg'), [i]), tf.neg(tfOf(i)), 'Neg int32 (wraps at INT_MIN)');
});

test('reductions with axes and keep_dims', () => {
  const cases: Array<[number[], number[], boolean]> = [
    [[2, 3, 4], [1], false],
    [[2, 3, 4], [0, 2], true],
    [[2, 3, 4], [-1], false],
    [[5], [0], false],
    [[2, 3], [], false],
    [[2, 3, 4], [2, 0, 1], false],
  ];
  const refs: Array<[string, (x: tf.Tensor, ax: number[], k: boolean) => tf.Tensor, number]> = [
    ['Sum', tf.sum, 2],
    ['Mean', tf.mean, 2],
    ['Max', tf.max, 0],
    ['Min', tf.min, 0],
    ['Prod', tf.prod, 2],
  ];
  for (const [shape, axes, keep] of cases) {
    for (const [op, ref, ulps] of refs) {
      const x = host(F, shape, randF(shape, 0.5, 2));
      const n = node(op, { keep_dims: a.b(keep), Tidx: a.type(I) });
      same(run1(n, [x, host(I, [axes.length], axes)]), ref(tfOf(x), axes, keep), `${op} [${shape}] axes [${axes}] keep ${keep}`, ulps);
      const xi = host(I, shape, randI(shape, -5, 5));
      // tfjs's int32 mean returns a float; TF's is the truncated integer quotient (checked below).
      if (op !== 'Mean') same(run1(n, [xi, host(I, [axes.length], axes)]), ref(tfOf(xi), axes, keep), `${op} int32 [${shape}] axes [${axes}]`);
    }
  }
  // TF's int32 Mean: integer division of the sum, truncated toward zero: (−7 + 2) / 2 = −2.
  const m = run1(node('Mean', { keep_dims: a.b(false) }), [host(I, [2, 2], [-7, 2, 5, 2]), host(I, [1], [1])]);
  assert.is(m.dtype, I);
  assert.equal(Array.from(m.data), [-2, 3]);
  // A scalar axis.
  const x = host(F, [2, 3], randF([2, 3]));
  same(run1(node('Sum', { keep_dims: a.b(false) }), [x, host(I, [], [1])]), tf.sum(tfOf(x), 1), 'Sum scalar axis', 1);
});

interface SliceCase {
  shape: number[];
  begin: number[];
  end: number[];
  strides: number[];
  masks: [number, number, number, number, number];
}

function sliceNode(m: SliceCase['masks']): NodeDef {
  return node('StridedSlice', {
    T: a.type(F),
    Index: a.type(I),
    begin_mask: a.i(m[0]),
    end_mask: a.i(m[1]),
    ellipsis_mask: a.i(m[2]),
    new_axis_mask: a.i(m[3]),
    shrink_axis_mask: a.i(m[4]),
  });
}

function checkSlice(c: SliceCase): 'ok' | 'both-threw' {
  const x = host(F, c.shape, Float32Array.from({ length: size(c.shape) }, (_, i) => i));
  let want: tf.Tensor | undefined;
  try {
    want = tf.stridedSlice(tfOf(x), c.begin, c.end, c.strides, ...c.masks);
  } catch {
    want = undefined;
  }
  const n = sliceNode(c.masks);
  const args = [x, host(I, [c.begin.length], c.begin), host(I, [c.end.length], c.end), host(I, [c.strides.length], c.strides)];
  if (!want) {
    assert.throws(() => run1(n, args), undefined, `tfjs rejects ${JSON.stringify(c)}`);
    return 'both-threw';
  }
  same(run1(n, args), want, `StridedSlice ${JSON.stringify(c)}`, 0);
  return 'ok';
}

test('StridedSlice: hand-picked mask cases', () => {
  const cases: SliceCase[] = [
    // slim.flatten's batch: Shape(x)[0]
    { shape: [4], begin: [0], end: [1], strides: [1], masks: [0, 0, 0, 0, 1] },
    { shape: [3, 4, 5], begin: [1, -1, 0], end: [3, 0, 5], strides: [1, -1, 2], masks: [0, 0, 0, 0, 0] },
    { shape: [3, 4, 5], begin: [0, 2], end: [0, 3], strides: [1, 1], masks: [1, 0, 0, 0, 2] },
    { shape: [3, 4, 5], begin: [0, 1], end: [0, 3], strides: [1, 1], masks: [0, 0, 1, 0, 0] }, // x[..., 1:3]
    { shape: [3, 4, 5], begin: [1, 0, 0], end: [2, 0, 0], strides: [1, 1, 1], masks: [0, 0, 2, 4, 1] }, // x[1, ..., newaxis]
    { shape: [3, 4, 5], begin: [0, 0, 2], end: [0, 0, 4], strides: [1, 1, 1], masks: [0, 0, 0, 3, 0] }, // x[newaxis, newaxis, 2:4]
    { shape: [3, 4, 5], begin: [-1], end: [0], strides: [1], masks: [0, 0, 0, 0, 1] }, // x[-1]
    { shape: [3, 4, 5], begin: [0, 0, 0], end: [0, 0, 0], strides: [-1, -2, -3], masks: [7, 7, 0, 0, 0] }, // x[::-1, ::-2, ::-3]
    { shape: [3, 4, 5], begin: [10, -10], end: [-10, 10], strides: [-1, 1], masks: [0, 0, 0, 0, 0] }, // clamping
    { shape: [2, 3], begin: [0, 0], end: [1, 1], strides: [1, 1], masks: [0, 0, 0, 0, 3] }, // scalar out
  ];
  for (const c of cases) assert.is(checkSlice(c), 'ok', JSON.stringify(c));
});

test('StridedSlice: cases where tfjs differs from TF, checked by hand', () => {
  const x = host(F, [3, 4], Float32Array.from({ length: 12 }, (_, i) => i));
  const run = (b: number[], e: number[], s: number[], m: SliceCase['masks'], xx = x) =>
    run1(sliceNode(m), [xx, host(I, [b.length], b), host(I, [e.length], e), host(I, [s.length], s)]);
  // TF gives an empty tensor for x[4:1] (tfjs 4.22 throws).
  const v = host(F, [6], [0, 1, 2, 3, 4, 5]);
  const empty = run([4], [1], [1], [0, 0, 0, 0, 0], v);
  assert.equal(empty.shape, [0]);
  // TF ignores begin/end masks on a shrunk axis (strided_slice_op.cc re-creates end as begin + 1):
  // x[2::-1, -1] with end_mask on both axes is [x[2][3], x[1][3], x[0][3]] = [11, 7, 3].
  const r = run([-1, -1], [3, -1], [-1, 1], [0, 3, 0, 0, 2]);
  assert.equal(r.shape, [3]);
  assert.equal(Array.from(r.data), [11, 7, 3]);
  // numpy's x[np.newaxis, ::-1, ..., np.newaxis, 1] on a [1,2,5,2] iota: x[0, :, :, 1] (odd
  // numbers), shape [1, 1, 2, 5, 1]; tfjs 4.22 returns 0..4, 10..14 for it.
  const y = host(F, [1, 2, 5, 2], Float32Array.from({ length: 20 }, (_, i) => i));
  const na = run([2, -6, 1, -1, 1], [-2, -3, -3, 0, 4], [-1, -1, 1, 1, 1], [15, 13, 4, 9, 16], y);
  assert.equal(na.shape, [1, 1, 2, 5, 1]);
  assert.equal(Array.from(na.data), [1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
  // Errors TF raises: zero stride, shrink index out of range, two ellipses.
  assert.throws(() => run([0], [1], [0], [0, 0, 0, 0, 0]), /stride/);
  assert.throws(() => run([3], [4], [1], [0, 0, 0, 0, 1]), /out of bounds/);
  assert.throws(() => run([0, 0], [1, 1], [1, 1], [0, 0, 3, 0, 0]), /ellips/);
});

/**
 * An independent reference for the fuzz: Python/numpy basic indexing (slice.indices() clamping,
 * Ellipsis, None, integer indices), which TF's StridedSlice mirrors. tfjs 4.22 is not used here:
 * it disagrees with TF on shrunk axes with negative begins and on ellipses followed by other
 * entries (see the hand-checked cases above).
 */
function numpySlice(c: SliceCase): { shape: number[]; data: number[] } {
  const [bm, em, ell, na, sh] = c.masks;
  type Item = 'ellipsis' | 'new' | { index: number } | { start?: number; stop?: number; step: number };
  const items: Item[] = c.begin.map((b, i) => {
    const bit = 1 << i;
    if (ell & bit) return 'ellipsis';
    if (na & bit) return 'new';
    if (sh & bit) return { index: b };
    return { start: bm & bit ? undefined : b, stop: em & bit ? undefined : c.end[i], step: c.strides[i]! };
  });
  const consuming = items.filter((it) => it !== 'ellipsis' && it !== 'new').length;
  if (consuming > c.shape.length) throw new RangeError('too many indices');
  const e = items.indexOf('ellipsis');
  const fill: Item[] = Array.from({ length: c.shape.length - consuming }, () => ({ step: 1 }));
  const full = e >= 0 ? [...items.slice(0, e), ...fill, ...items.slice(e + 1)] : [...items, ...fill];
  const perDim: number[][] = [];
  const outShape: number[] = [];
  let dim = 0;
  for (const it of full) {
    if (it === 'new') {
      outShape.push(1);
      continue;
    }
    if (it === 'ellipsis') continue;
    const n = c.shape[dim++]!;
    if ('index' in it) {
      const k = it.index < 0 ? it.index + n : it.index;
      if (k < 0 || k >= n) throw new RangeError('index out of range');
      perDim.push([k]);
      continue;
    }
    if (it.step === 0) throw new RangeError('zero step');
    const adj = (v: number | undefined, dflt: number) => {
      if (v === undefined) return dflt;
      if (v < 0) {
        v += n;
        if (v < 0) v = it.step < 0 ? -1 : 0;
      } else if (v >= n) v = it.step < 0 ? n - 1 : n;
      return v;
    };
    const start = adj(it.start, it.step > 0 ? 0 : n - 1);
    const stop = adj(it.stop, it.step > 0 ? n : -1);
    const idx: number[] = [];
    for (let k = start; it.step > 0 ? k < stop : k > stop; k += it.step) idx.push(k);
    perDim.push(idx);
    outShape.push(idx.length);
  }
  const strides = c.shape.map((_, i) => c.shape.slice(i + 1).reduce((p, d) => p * d, 1));
  let offsets = [0];
  perDim.forEach((idx, d) => {
    offsets = offsets.flatMap((o) => idx.map((k) => o + k * strides[d]!));
  });
  return { shape: outShape, data: offsets };
}

test('StridedSlice: random specs with every mask, against numpy indexing', () => {
  let checked = 0;
  let tfjsAgrees = 0;
  for (let k = 0; k < 500; k++) {
    const rank = 1 + Math.floor(rand() * 4);
    const shape = Array.from({ length: rank }, () => 1 + Math.floor(rand() * 5));
    const n = 1 + Math.floor(rand() * (rank + 1));
    const begin = Array.from({ length: n }, () => Math.floor(rand() * 13) - 6);
    const end = Array.from({ length: n }, () => Math.floor(rand() * 13) - 6);
    const strides = Array.from({ length: n }, () => [1, 1, 2, -1, -2, 3][Math.floor(rand() * 6)]!);
    const bits = () => Math.floor(rand() * (1 << n));
    const ell = rand() < 0.3 ? 1 << Math.floor(rand() * n) : 0;
    // Python never sets new_axis on the ellipsis index.
    const newAxis = rand() < 0.3 ? bits() & ~ell : 0;
    let shrink = rand() < 0.5 ? bits() : 0;
    for (let i = 0; i < n; i++) if (shrink & (1 << i)) {
      strides[i] = 1;
      begin[i] = Math.floor(rand() * 5) - 2;
    }
    shrink &= ~newAxis & ~ell;
    const c: SliceCase = { shape, begin, end, strides, masks: [bits(), bits(), ell, newAxis, shrink] };
    const x = host(F, shape, Float32Array.from({ length: size(shape) }, (_, i) => i));
    const args = [x, host(I, [n], begin), host(I, [n], end), host(I, [n], strides)];
    let want: { shape: number[]; data: number[] } | undefined;
    try {
      want = numpySlice(c);
    } catch {
      want = undefined;
    }
    if (!want) {
      assert.throws(() => run1(sliceNode(c.masks), args), undefined, `numpy rejects ${JSON.stringify(c)}`);
      continue;
    }
    const got = run1(sliceNode(c.masks), args);
    assert.equal(got.shape, want.shape, `shape of ${JSON.stringify(c)}`);
    assert.equal(Array.from(got.data), want.data, `data of ${JSON.stringify(c)}`);
    checked++;
    try {
      const t = tf.stridedSlice(tfOf(x), begin, end, strides, ...c.masks);
      if (t.shape.join() === got.shape.join() && Array.from(t.dataSync()).join() === want.data.join()) tfjsAgrees++;
    } catch {
      // tfjs rejects some specs TF accepts (e.g. empty results)
    }
  }
  assert.ok(checked > 300, `only ${checked} random cases were valid`);
  if (process.env.SHOW_STATS) console.log(`numpy-checked ${checked}, tfjs agrees on ${tfjsAgrees}`);
  // Sanity of the reference: it agrees with tfjs on most cases.
  assert.ok(tfjsAgrees > checked * 0.6, `tfjs agrees on ${tfjsAgrees} of ${checked}`);
});

test('array kernels: Pack, Unpack, ConcatV2, Reshape, ExpandDims, Squeeze, Transpose, Tile, Slice, Fill, Range, Shape, Cast', () => {
  const x = host(F, [2, 3], randF([2, 3]));
  const y = host(F, [2, 3], randF([2, 3]));
  for (const axis of [0, 1, 2, -1]) {
    same(run1(node('Pack', { axis: a.i(axis), N: a.i(2) }), [x, y]), tf.stack([tfOf(x), tfOf(y)], axis), `Pack axis ${axis}`, 0);
  }
  const u = runKernel(node('Unpack', { axis: a.i(1), num: a.i(3) }), [x])!;
  const ur = tf.unstack(tfOf(x), 1);
  assert.is(u.length, 3);
  u.forEach((t, i) => same(t, ur[i]!, `Unpack ${i}`, 0));
  const z = host(F, [2, 1], randF([2, 1]));
  same(run1(node('ConcatV2', { N: a.i(3) }), [x, z, y, host(I, [], [-1])]), tf.concat([tfOf(x), tfOf(z), tfOf(y)], -1), 'ConcatV2', 0);
  same(run1(node('ConcatV2', { N: a.i(2) }), [x, y, host(I, [], [0])]), tf.concat([tfOf(x), tfOf(y)], 0), 'ConcatV2 axis 0', 0);
  same(run1(node('Reshape'), [x, host(I, [3], [3, -1, 1])]), tf.reshape(tfOf(x), [3, -1, 1]), 'Reshape -1', 0);
  assert.throws(() => run1(node('Reshape'), [x, host(I, [2], [4, -1])]), /cannot reshape/);
  same(run1(node('ExpandDims'), [x, host(I, [], [-1])]), tf.expandDims(tfOf(x), -1), 'ExpandDims', 0);
  const s = host(F, [1, 3, 1, 2], randF([1, 3, 1, 2]));
  same(run1(node('Squeeze', { squeeze_dims: a.ints([]) }), [s]), tf.squeeze(tfOf(s)), 'Squeeze all', 0);
  same(run1(node('Squeeze', { squeeze_dims: a.ints([-2]) }), [s]), tf.squeeze(tfOf(s), [-2]), 'Squeeze -2', 0);
  const t = host(F, [2, 3, 4], randF([2, 3, 4]));
  same(run1(node('Transpose'), [t, host(I, [3], [2, 0, 1])]), tf.transpose(tfOf(t), [2, 0, 1]), 'Transpose', 0);
  same(run1(node('Tile'), [x, host(I, [2], [2, 3])]), tf.tile(tfOf(x), [2, 3]), 'Tile', 0);
  same(run1(node('Slice'), [t, host(I, [3], [1, 0, 2]), host(I, [3], [-1, 2, 2])]), tf.slice(tfOf(t), [1, 0, 2], [-1, 2, 2]), 'Slice', 0);
  same(run1(node('Fill'), [host(I, [2], [2, 3]), host(F, [], [1.5])]), tf.fill([2, 3], 1.5), 'Fill', 0);
  same(run1(node('Range', { Tidx: a.type(F) }), [host(F, [], [0.1]), host(F, [], [2.05]), host(F, [], [0.3])]), tf.range(0.1, 2.05, 0.3), 'Range f32', 1);
  same(run1(node('Range', { Tidx: a.type(I) }), [host(I, [], [7]), host(I, [], [-4]), host(I, [], [-3])]), tf.range(7, -4, -3, 'int32'), 'Range i32', 0);
  const sh = run1(node('Shape', { out_type: a.type(I) }), [t]);
  assert.is(sh.dtype, I);
  assert.equal(Array.from(sh.data), tfOf(t).shape);
  const c = host(F, [5], [-2.7, -0.5, 0.5, 2.9, 3]);
  same(run1(node('Cast', { SrcT: a.type(F), DstT: a.type(I) }), [c]), tf.cast(tfOf(c), 'int32'), 'Cast f32 → i32', 0);
  same(run1(node('Cast', { SrcT: a.type(F), DstT: a.type(B) }), [c]), tf.cast(tfOf(c), 'bool'), 'Cast f32 → bool', 0);
  const cond = host(B, [2, 3], [1, 0, 1, 0, 0, 1]);
  same(run1(node('Select'), [cond, x, y]), tf.where(tfOf(cond), tfOf(x), tfOf(y)), 'Select', 0);
  const idx = host(I, [2, 2], [2, 0, 1, 1]);
  same(run1(node('GatherV2'), [t, idx, host(I, [], [1])]), tf.gather(tfOf(t), tfOf(idx), 1), 'GatherV2', 0);
  const id = run1(node('Identity'), [x]);
  assert.is(id, x);
});

test('registry has the kernels the task lists, and nothing random or stateful', () => {
  for (const op of ['Shape', 'StridedSlice', 'Pack', 'Unpack', 'Mul', 'Add', 'AddV2', 'Sub', 'RealDiv', 'FloorDiv', 'Maximum', 'Minimum', 'Neg', 'Rsqrt', 'Sqrt', 'Square', 'Reshape', 'Cast', 'ConcatV2', 'ExpandDims', 'Squeeze', 'Fill', 'Range', 'Prod', 'Sum', 'Mean', 'Max', 'Min', 'Transpose', 'Identity', 'Floor', 'Tile', 'Slice', 'LogicalNot', 'Equal', 'Greater', 'Less']) {
    assert.ok(hasKernel(op), op);
  }
  for (const op of ['RandomUniform', 'Placeholder', 'PlaceholderWithDefault', 'VariableV2', 'Switch', 'Merge', 'Assign']) assert.not.ok(KERNELS.has(op), op);
});

test.run();
