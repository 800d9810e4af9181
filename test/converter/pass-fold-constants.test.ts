/**
 * fold-constants: structure (what became a Const, what must stay live, naming, removal) and numbers
 * (the graph gives the same results before and after, evaluated by the tfjs reference runner, and
 * folded values equal the same computation done with tfjs ops).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { foldConstants } from '../../src/converter/passes/fold-constants.js';
import { makeContext } from '../../src/converter/passes/types.js';
import { validateGraph } from '../../src/converter/graph/validate.js';
import { decodeGraph } from '../../src/converter/proto/codec.js';
import { DataType } from '../../src/converter/proto/types.js';
import type { GraphDef, NodeDef } from '../../src/converter/proto/types.js';
import { constValue } from '../../src/converter/tensor.js';
import { GraphBuilder, a } from '../support/builder.js';
import { runReference } from '../support/reference.js';
import { readShared, SHARED_MODELS } from '../support/shared.js';

test.before(async () => {
  await tf.setBackend('cpu');
});

const I = DataType.DT_INT32;
const F = DataType.DT_FLOAT;
const byName = (g: GraphDef) => new Map(g.node.map((n) => [n.name, n]));
const sliceAttrs = (shrink: number, begin = 0, end = 0) => ({
  T: a.type(I),
  Index: a.type(I),
  begin_mask: a.i(begin),
  end_mask: a.i(end),
  ellipsis_mask: a.i(0),
  new_axis_mask: a.i(0),
  shrink_axis_mask: a.i(shrink),
});

/** slim.flatten on a placeholder of the given shape. */
function flattenGraph(shape: number[]): GraphDef {
  const b = new GraphBuilder();
  b.placeholder('x', shape);
  b.op('Relu', 'relu', ['x']);
  b.op('Shape', 'Flatten/Shape', ['relu'], { out_type: a.type(I) });
  b.const('Flatten/b', [0], [1], I);
  b.const('Flatten/e', [1], [1], I);
  b.const('Flatten/s', [1], [1], I);
  b.op('StridedSlice', 'Flatten/strided_slice', ['Flatten/Shape', 'Flatten/b', 'Flatten/e', 'Flatten/s'], sliceAttrs(1));
  b.const('Flatten/m1', [-1], [], I);
  b.op('Pack', 'Flatten/Reshape/shape', ['Flatten/strided_slice', 'Flatten/m1'], { T: a.type(I), N: a.i(2), axis: a.i(0) });
  b.op('Reshape', 'Flatten/Reshape', ['relu', 'Flatten/Reshape/shape'], { Tshape: a.type(I) });
  return b.build();
}

function randomFeed(shape: number[], seed = 1): Float32Array {
  let s = seed;
  return Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 4 - 2);
}

test('a Shape of a batch-dynamic tensor is never folded (the batch stays dynamic)', () => {
  const g = flattenGraph([-1, 4, 4, 3]);
  const ctx = makeContext(['x'], ['Flatten/Reshape']);
  const out = foldConstants().run(g, ctx);
  validateGraph(out);
  const n = byName(out);
  assert.is(n.get('Flatten/Shape')!.op, 'Shape');
  assert.is(n.get('Flatten/strided_slice')!.op, 'StridedSlice');
  assert.is(n.get('Flatten/Reshape/shape')!.op, 'Pack');
  assert.ok(out.node.length <= g.node.length);
});

test('a Shape of a fully static tensor folds, with the chain below it', async () => {
  const g = flattenGraph([2, 4, 4, 3]);
  const ctx = makeContext(['x'], ['Flatten/Reshape']);
  const out = foldConstants().run(g, ctx);
  validateGraph(out);
  const n = byName(out);
  assert.not.ok(n.has('Flatten/Shape'), 'consumed only by folded nodes: removed');
  assert.not.ok(n.has('Flatten/strided_slice'));
  const shape = n.get('Flatten/Reshape/shape')!;
  assert.is(shape.op, 'Const');
  assert.equal(Array.from(constValue(shape)!.data), [2, -1]);
  for (const c of ['Flatten/b', 'Flatten/e', 'Flatten/s', 'Flatten/m1']) assert.not.ok(n.has(c), `${c} became unused`);
  const feed = { x: { shape: [2, 4, 4, 3], data: randomFeed([2, 4, 4, 3]) } };
  const [before] = await runReference(g, feed, ['Flatten/Reshape']);
  const [after] = await runReference(out, feed, ['Flatten/Reshape']);
  assert.equal(after!.shape, before!.shape);
  assert.equal(Array.from(after!.data), Array.from(before!.data));
});

test('static parts of a dynamic shape fold: Shape(x)[1:] with a dynamic batch', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [-1, 5, 6, 3]);
  b.op('Shape', 'sh', ['x'], { out_type: a.type(I) });
  b.const('b', [1], [1], I);
  b.const('e', [0], [1], I);
  b.const('s', [1], [1], I);
  b.op('StridedSlice', 'tail', ['sh', 'b', 'e', 's'], sliceAttrs(0, 0, 1));
  b.op('Prod', 'count', ['tail', 'e'], { T: a.type(I), keep_dims: a.b(false) });
  b.op('StridedSlice', 'batch', ['sh', 'e', 'b', 's'], sliceAttrs(1));
  b.op('Identity', 'out1', ['count'], { T: a.type(I) });
  b.op('Identity', 'out2', ['batch'], { T: a.type(I) });
  const out = foldConstants().run(b.build(), makeContext(['x'], ['out1', 'out2']));
  const n = byName(out);
  assert.is(n.get('out1')!.op, 'Const', 'the output keeps its name as a Const');
  assert.equal(Array.from(constValue(n.get('out1')!)!.data), [90]);
  assert.is(n.get('batch')!.op, 'StridedSlice');
  assert.is(n.get('sh')!.op, 'Shape');
  assert.is(n.get('out2')!.op, 'Identity');
});

test('batch-norm arithmetic on constants folds to the value tfjs computes', async () => {
  // Keras BN written out: (var + eps) → Rsqrt → · gamma; x · that; mean · that; beta − …; + …
  const b = new GraphBuilder();
  const C = 5;
  b.placeholder('x', [-1, 3, 3, C]);
  const v = randomFeed([C], 3).map((t) => Math.abs(t) + 0.1);
  const gamma = randomFeed([C], 4);
  const mean = randomFeed([C], 5);
  const beta = randomFeed([C], 6);
  b.const('bn/var', v, [C]);
  b.const('bn/eps', [0.001], []);
  b.const('bn/gamma', gamma, [C]);
  b.const('bn/mean', mean, [C]);
  b.const('bn/beta', beta, [C]);
  b.op('Identity', 'bn/var/read', ['bn/var']);
  b.op('Add', 'bn/add', ['bn/var/read', 'bn/eps']);
  b.op('Rsqrt', 'bn/Rsqrt', ['bn/add']);
  b.op('Mul', 'bn/mul', ['bn/Rsqrt', 'bn/gamma']);
  b.op('Mul', 'bn/mul_1', ['x', 'bn/mul']);
  b.op('Mul', 'bn/mul_2', ['bn/mean', 'bn/mul']);
  b.op('Sub', 'bn/sub', ['bn/beta', 'bn/mul_2']);
  b.op('Add', 'bn/add_1', ['bn/mul_1', 'bn/sub']);
  const g = b.build();
  const ctx = makeContext(['x'], ['bn/add_1']);
  const out = foldConstants().run(g, ctx);
  validateGraph(out);
  const n = byName(out);
  for (const k of ['bn/add', 'bn/Rsqrt', 'bn/var', 'bn/var/read', 'bn/mean', 'bn/beta', 'bn/mul_2', 'bn/eps', 'bn/gamma']) assert.not.ok(n.has(k), `${k} gone`);
  assert.is(n.get('bn/mul')!.op, 'Const');
  assert.is(n.get('bn/sub')!.op, 'Const');
  assert.is(n.get('bn/mul_1')!.op, 'Mul');
  // Independent: the same arithmetic with tfjs ops.
  const scale = tf.mul(tf.rsqrt(tf.add(tf.tensor(v), tf.scalar(0.001))), tf.tensor(gamma));
  const shift = tf.sub(tf.tensor(beta), tf.mul(tf.tensor(mean), scale));
  assert.equal(Array.from(constValue(n.get('bn/mul')!)!.data), Array.from(scale.dataSync()));
  assert.equal(Array.from(constValue(n.get('bn/sub')!)!.data), Array.from(shift.dataSync()));
  const feed = { x: { shape: [2, 3, 3, C], data: randomFeed([2, 3, 3, C], 9) } };
  const [before] = await runReference(g, feed, ['bn/add_1']);
  const [after] = await runReference(out, feed, ['bn/add_1']);
  assert.equal(Array.from(after!.data), Array.from(before!.data));
});

test('multi-output ops: consumers of port k > 0 read a new Const "<name>/_<k>"', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [-1, 3]);
  b.const('pair', [10, 20, 30, 40, 50, 60], [2, 3]);
  b.op('Unpack', 'u', ['pair'], { num: a.i(2), axis: a.i(0) });
  b.op('Add', 'y0', ['x', 'u']);
  b.op('Add', 'y1', ['x', 'u:1']);
  const out = foldConstants().run(b.build(), makeContext(['x'], ['y0', 'y1']));
  validateGraph(out);
  const n = byName(out);
  assert.equal(Array.from(constValue(n.get('u')!)!.data), [10, 20, 30]);
  assert.equal(Array.from(constValue(n.get('u/_1')!)!.data), [40, 50, 60]);
  assert.equal(n.get('y1')!.input, ['x', 'u/_1']);
  assert.equal(n.get('y0')!.input, ['x', 'u']);
  assert.not.ok(n.has('pair'));
});

test('random, stateful and fed ops are never folded; inputs of a Switch branch neither', () => {
  const b = new GraphBuilder();
  b.const('shape', [2, 2], [2], I);
  b.op('RandomUniform', 'rnd', ['shape'], { T: a.type(I), dtype: a.type(F), seed: a.i(0), seed2: a.i(0) });
  b.op('Floor', 'fl', ['rnd']);
  b.nodes.push({ name: 'pwd', op: 'PlaceholderWithDefault', input: ['shape'], attr: { dtype: a.type(I), shape: a.shape([2]) } });
  b.op('Neg', 'neg', ['pwd'], { T: a.type(I) });
  b.placeholder('pred', [], DataType.DT_BOOL);
  b.op('Switch', 'sw', ['pred', 'pred'], { T: a.type(DataType.DT_BOOL) });
  b.op('Identity', 'switch_t', ['sw:1'], { T: a.type(DataType.DT_BOOL) });
  b.const('c1', [1, 2], [2]);
  b.nodes[b.nodes.length - 1]!.input.push('^switch_t');
  b.op('Neg', 'branch', ['c1']);
  const out = foldConstants().run(b.build(), makeContext(['pred'], ['fl', 'neg', 'branch']));
  const n = byName(out);
  assert.is(n.get('rnd')!.op, 'RandomUniform');
  assert.is(n.get('fl')!.op, 'Floor');
  assert.is(n.get('neg')!.op, 'Neg');
  assert.is(n.get('pwd')!.op, 'PlaceholderWithDefault');
  assert.is(n.get('branch')!.op, 'Neg', 'a Const tied to a cond branch stays dead-able');
  assert.is(n.get('c1')!.input[0], '^switch_t');
});

test('control inputs of a folded node are dropped; fed/fetched Consts are kept', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [2]);
  b.op('Relu', 'side', ['x']);
  b.const('c', [4, 9], [2]);
  b.op('Sqrt', 'root', ['c', '^side']);
  b.op('Mul', 'y', ['x', 'root']);
  b.const('kept', [1], [1]);
  const g = b.build();
  const before = JSON.stringify(g.node.map((q) => [q.name, q.op, q.input]));
  const out = foldConstants().run(g, makeContext(['x'], ['y', 'kept']));
  assert.is(JSON.stringify(g.node.map((q) => [q.name, q.op, q.input])), before, 'input graph untouched');
  const n = byName(out);
  assert.is(n.get('root')!.op, 'Const');
  assert.equal(n.get('root')!.input, []);
  assert.equal(Array.from(constValue(n.get('root')!)!.data), [2, 3]);
  assert.ok(n.has('kept'));
  assert.ok(n.has('side'), 'non-constant nodes are never removed');
});

test('size guard: a constant that would grow past the limit is skipped with a warning', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [-1]);
  b.const('dims', [100, 100], [2], I);
  b.const('v', [1.5], []);
  b.op('Fill', 'big', ['dims', 'v'], { index_type: a.type(I) });
  b.const('w', randomFeed([4000]), [4000]);
  b.const('two', [2], []);
  b.op('Mul', 'w2', ['w', 'two']);
  b.op('Identity', 'o1', ['big']);
  b.op('Identity', 'o2', ['w2']);
  const ctx = makeContext(['x'], ['o1', 'o2']);
  const out = foldConstants({ maxElements: 1000 }).run(b.build(), ctx);
  const n = byName(out);
  assert.is(n.get('big')!.op, 'Fill');
  assert.ok(ctx.warnings.some((w) => w.includes('"big"') && w.includes('limit')), ctx.warnings.join('\n'));
  assert.is(n.get('o2')!.op, 'Const', 'no bigger than an existing constant: folded');
  assert.not.ok(n.has('w2'), 'the folded intermediate is no longer read');
});

test('a kernel error leaves the node as is, with a warning', () => {
  const b = new GraphBuilder();
  b.const('a', [7], [1], I);
  b.const('z', [0], [1], I);
  b.op('FloorDiv', 'd', ['a', 'z'], { T: a.type(I) });
  const ctx = makeContext([], ['d']);
  const out = foldConstants().run(b.build(), ctx);
  assert.is(byName(out).get('d')!.op, 'FloorDiv');
  assert.ok(ctx.warnings.some((w) => w.startsWith('Cannot fold "d" (FloorDiv)')), ctx.warnings.join('\n'));
});

test('weights are not decoded: an Identity of a Const shares its TensorProto', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [1, 4]);
  b.const('w', randomFeed([4, 3]), [4, 3]);
  b.op('Identity', 'w/read', ['w']);
  b.op('MatMul', 'y', ['x', 'w/read']);
  const g = b.build();
  const out = foldConstants().run(g, makeContext(['x'], ['y']));
  const n = byName(out);
  assert.is(n.get('w/read')!.attr['value']!.tensor, byName(g).get('w')!.attr['value']!.tensor);
  assert.not.ok(n.has('w'));
});

test('every shared model: folds without error, stays valid, never grows', () => {
  for (const file of SHARED_MODELS) {
    const g = decodeGraph(readShared(`models/${file}`), { source: file });
    const consumed = new Set(g.node.flatMap((q) => q.input.map((s) => s.replace(/^\^/, '').replace(/:\d+$/, ''))));
    const outputs = g.node.filter((q) => !consumed.has(q.name)).map((q) => q.name);
    const inputs = g.node.filter((q) => q.op === 'Placeholder').map((q) => q.name);
    const ctx = makeContext(inputs, outputs);
    const t0 = performance.now();
    const out = foldConstants().run(g, ctx);
    const ms = performance.now() - t0;
    validateGraph(out, `fold of ${file}`);
    assert.ok(out.node.length <= g.node.length, `${file}: ${g.node.length} → ${out.node.length}`);
    const ops = new Map(out.node.map((q) => [q.name, q.op]));
    const folded = g.node.filter((q: NodeDef) => q.op !== 'Const' && ops.get(q.name) !== q.op).length;
    if (process.env['FOLD_STATS']) console.log(`${file}: ${g.node.length} → ${out.node.length} nodes, ${folded} folded, ${ms.toFixed(1)} ms, ${ctx.warnings.length} warnings`);
    for (const o of outputs) assert.ok(ops.has(o), `${file}: output "${o}" kept`);
  }
});

test.run();
