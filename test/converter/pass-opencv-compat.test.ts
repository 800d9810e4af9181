/**
 * opencv-compat rewrites: the rewritten graph (run by the tfjs reference runner) must compute what
 * the original ops compute (tfjs-core ops applied directly), and the ops OpenCV gets wrong or
 * rejects must be gone.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { opencvCompat, rejectedOps } from '../../src/converter/passes/opencv-compat.js';
import { makeContext } from '../../src/converter/passes/types.js';
import { validateGraph } from '../../src/converter/graph/validate.js';
import { parseInput } from '../../src/converter/graph/names.js';
import { DataType } from '../../src/converter/proto/types.js';
import type { GraphDef, NodeDef } from '../../src/converter/proto/types.js';
import { constValue } from '../../src/converter/tensor.js';
import { GraphBuilder, a, opCounts } from '../support/builder.js';
import { runReference } from '../support/reference.js';

test.before(async () => {
  await tf.setBackend('cpu');
});

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
const rnd = lcg(99);
const uniform = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rnd());
const node = (g: GraphDef, name: string): NodeDef => {
  const n = g.node.find((x) => x.name === name);
  if (!n) throw new Error(`no node ${name}`);
  return n;
};
function run(g: GraphDef, inputs: string[], outputs: string[]) {
  validateGraph(g);
  const ctx = makeContext(inputs, outputs);
  const out = opencvCompat().run(g, ctx);
  validateGraph(out);
  return { out, warnings: ctx.warnings };
}
function maxAbs(p: ArrayLike<number>, q: ArrayLike<number>): number {
  assert.is(p.length, q.length);
  let d = 0;
  for (let i = 0; i < p.length; i++) d = Math.max(d, Math.abs(p[i]! - q[i]!));
  return d;
}

test('Sub(const, x), Neg, SquaredDifference, Maximum/Minimum by a scalar: same numbers, OpenCV-safe ops', async () => {
  const b = new GraphBuilder();
  b.placeholder('x', [-1, 3, 3, 4]);
  const c = uniform(4, -1, 1), c2 = uniform(4, -1, 1);
  b.const('c', c, [4]);
  b.const('c2', c2, [4]);
  b.const('lo', [-0.5], []);
  b.const('hi', [1.5], []);
  b.op('Sub', 'sub', ['c', 'x']); // c − x, which OpenCV would compute as x − c
  b.op('Neg', 'neg', ['sub']);
  b.op('SquaredDifference', 'sqd', ['c2', 'neg']);
  b.op('Sub', 'sub2', ['sqd', 'c']); // x − c is fine as is
  b.op('Maximum', 'max', ['lo', 'sub2']);
  b.op('Minimum', 'min', ['max', 'hi']);
  const g = b.build();
  const { out, warnings } = run(g, ['x'], ['min']);
  assert.equal(warnings, []);
  const ops = opCounts(out);
  for (const op of ['Neg', 'SquaredDifference', 'Maximum', 'Minimum']) assert.is(ops[op], undefined, `no ${op}`);
  assert.is(ops['ClipByValue'], 2);
  // No Sub with a constant first operand is left; the x − c one is kept.
  const subs = out.node.filter((n) => n.op === 'Sub');
  for (const s of subs) assert.ok(node(out, parseInput(s.input[0]!).node).op !== 'Const', `${s.name} has no constant first`);
  assert.is(node(out, 'sub2').op, 'Sub');
  for (const name of ['sub', 'neg', 'sqd', 'max', 'min']) assert.ok(out.node.some((n) => n.name === name), `${name} kept its name`);
  assert.is(node(g, 'sub').op, 'Sub', 'input graph untouched');
  assert.equal(rejectedOps(out), []);
  assert.equal(rejectedOps(g).map((r) => r.op), ['Neg', 'SquaredDifference', 'Maximum', 'Minimum']);

  const xData = uniform(2 * 9 * 4, -2, 2);
  const x = tf.tensor4d(xData, [2, 3, 3, 4]);
  const t = tf.sub(tf.tensor1d(c), x);
  const ref = tf.minimum(tf.maximum(tf.sub(tf.squaredDifference(tf.tensor1d(c2), tf.neg(t)), tf.tensor1d(c)), -0.5), 1.5);
  const [got] = await runReference(out, { x: { shape: [2, 3, 3, 4], data: xData } }, ['min']);
  const d = maxAbs(ref.dataSync(), got!.data);
  assert.ok(d <= 1e-6, `max |Δ| ${d}`);
  // The rewrite of Sub(c, x) alone: c − x, not x − c.
  const [s] = await runReference(out, { x: { shape: [2, 3, 3, 4], data: xData } }, ['sub']);
  assert.ok(maxAbs(t.dataSync(), s!.data) <= 1e-6);
});

test('MTCNN PReLU (Relu + alpha·Neg·Relu·Neg): Neg → Mul(x, -1), the Add of the alpha Mul → AddN', async () => {
  const b = new GraphBuilder();
  b.placeholder('x', [-1, 3, 3, 4]);
  const alpha = uniform(4, 0.1, 0.3);
  b.const('alpha', alpha, [4]);
  b.op('Relu', 'p/Relu', ['x']);
  b.op('Neg', 'p/Neg', ['x']);
  b.op('Relu', 'p/Relu_1', ['p/Neg']);
  b.op('Neg', 'p/Neg_1', ['p/Relu_1']);
  b.op('Mul', 'p/Mul', ['alpha', 'p/Neg_1']);
  b.op('Add', 'p/add', ['p/Relu', 'p/Mul']);
  const g = b.build();
  assert.equal(rejectedOps(g), [{ op: 'Neg', nodes: ['p/Neg', 'p/Neg_1'] }, { op: 'Mul', nodes: ['p/Mul'] }]);
  const { out, warnings } = run(g, ['x'], ['p/add']);
  assert.equal(warnings, []);
  assert.is(node(out, 'p/add').op, 'AddN');
  assert.is(opCounts(out)['Neg'], undefined);
  assert.equal(rejectedOps(out), []);
  const xData = uniform(2 * 9 * 4, -2, 2);
  const x = tf.tensor4d(xData, [2, 3, 3, 4]);
  const ref = tf.add(tf.relu(x), tf.mul(alpha, tf.neg(tf.relu(tf.neg(x)))));
  const [got] = await runReference(out, { x: { shape: [2, 3, 3, 4], data: xData } }, ['p/add']);
  const d = maxAbs(ref.dataSync(), got!.data);
  assert.ok(d <= 1e-6, `max |Δ| ${d}`);
});

test('splat constants become tensor_content; scalars and full lists stay', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [1, 2, 2, 3]);
  b.splat('gamma', 0.5, [3]);
  b.splat('beta', -0.25, [3]);
  b.const('mean', [0.1, 0.2, 0.3], [3]);
  b.const('var', [1, 2, 3], [3]);
  b.nodes.push({ name: 'axis', op: 'Const', input: [], attr: { dtype: a.type(DataType.DT_INT32), value: { tensor: { dtype: DataType.DT_INT32, tensor_shape: { dim: [] }, int_val: [3] } } } });
  b.op('FusedBatchNormV2', 'bn', ['x', 'gamma', 'beta', 'mean', 'var'], { epsilon: a.f(1e-3), is_training: a.b(false), U: a.type(DataType.DT_FLOAT) });
  b.op('ConcatV2', 'cat', ['bn', 'x', 'axis'], { N: a.i(2), Tidx: a.type(DataType.DT_INT32) });
  const g = b.build();
  const { out } = run(g, ['x'], ['cat']);
  for (const [name, v] of [['gamma', 0.5], ['beta', -0.25]] as const) {
    const t = node(out, name).attr['value']!.tensor!;
    assert.is(t.tensor_content?.length, 12, `${name} written as tensor_content`);
    assert.equal(Array.from(constValue(node(out, name))!.data), [v, v, v]);
  }
  assert.is(node(out, 'axis'), node(g, 'axis'), 'scalar axis untouched (OpenCV reads it from int_val)');
  assert.is(node(out, 'mean'), node(g, 'mean'));
  assert.is(node(out, 'bn').op, 'FusedBatchNormV3', 'V2 renamed to V3, which OpenCV dispatches');
  assert.equal(node(out, 'bn').input, node(g, 'bn').input);
  assert.equal(rejectedOps(g).map((r) => r.op), ['FusedBatchNormV2']);
  assert.equal(rejectedOps(out), []);
});

test('BatchNormWithGlobalNormalization left over becomes an inference FusedBatchNorm', async () => {
  const b = new GraphBuilder();
  b.placeholder('x', [1, 2, 2, 3]);
  b.op('Relu', 'relu', ['x']);
  const m = uniform(3, -1, 1), v = uniform(3, 0.5, 2), beta = uniform(3, -1, 1), gamma = uniform(3, 0.5, 1.5);
  b.const('m', m, [3]);
  b.const('v', v, [3]);
  b.const('beta', beta, [3]);
  b.const('gamma', gamma, [3]);
  b.op('BatchNormWithGlobalNormalization', 'bn', ['relu', 'm', 'v', 'beta', 'gamma'], {
    variance_epsilon: a.f(0.01), scale_after_normalization: a.b(false),
  });
  const { out } = run(b.build(), ['x'], ['bn']);
  assert.is(node(out, 'bn').op, 'FusedBatchNorm');
  assert.equal(rejectedOps(out), []);
  const xData = uniform(12, -2, 2);
  const ref = tf.batchNorm(tf.relu(tf.tensor4d(xData, [1, 2, 2, 3])), m, v, beta, undefined, 0.01);
  const [got] = await runReference(out, { x: { shape: [1, 2, 2, 3], data: xData } }, ['bn']);
  const d = maxAbs(ref.dataSync(), got!.data);
  assert.ok(d <= 1e-5, `max |Δ| ${d}`);
});

test('the exact l2_normalize pattern is left for OpenCV to fuse', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [-1, 8]);
  b.op('Square', 'embeddings/Square', ['x']);
  b.const('embeddings/Sum/reduction_indices', [1], [], DataType.DT_INT32);
  b.op('Sum', 'embeddings/Sum', ['embeddings/Square', 'embeddings/Sum/reduction_indices'], { keep_dims: a.b(true), Tidx: a.type(DataType.DT_INT32) });
  b.const('embeddings/Maximum/y', [1e-10], []);
  b.op('Maximum', 'embeddings/Maximum', ['embeddings/Sum', 'embeddings/Maximum/y']);
  b.op('Rsqrt', 'embeddings/Rsqrt', ['embeddings/Maximum']);
  b.op('Mul', 'embeddings', ['x', 'embeddings/Rsqrt']);
  const g = b.build();
  const { out, warnings } = run(g, ['x'], ['embeddings']);
  assert.equal(warnings, []);
  assert.equal(out.node, g.node, 'nothing rewritten');
  assert.equal(rejectedOps(out), []);
  // The same Maximum outside the pattern (its Rsqrt feeding a Mul of something else) is rejected.
  const b2 = new GraphBuilder();
  b2.nodes.push(...g.node.filter((n) => n.name !== 'embeddings'));
  b2.placeholder('z', [-1, 8]);
  b2.op('Mul', 'embeddings', ['z', 'embeddings/Rsqrt']);
  assert.equal(rejectedOps(b2.build()).map((r) => r.op), ['Maximum', 'Rsqrt']);
});

test('Maximum with a non-scalar constant or two variable inputs is left with a warning', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [1, 4]);
  b.placeholder('y', [1, 4]);
  b.const('v', [1, 2, 3, 4], [4]);
  b.op('Maximum', 'm1', ['x', 'v']);
  b.op('Minimum', 'm2', ['m1', 'y']);
  const { out, warnings } = run(b.build(), ['x', 'y'], ['m2']);
  assert.is(warnings.length, 2);
  assert.match(warnings[0]!, /Cannot rewrite "m1" \(Maximum\) for OpenCV: the constant is not a scalar/);
  assert.equal(rejectedOps(out), [{ op: 'Maximum', nodes: ['m1'] }, { op: 'Minimum', nodes: ['m2'] }]);
});

test.run();
