/**
 * flatten: slim.flatten and FaceNet's bottleneck Reshape(y, Shape(MatMul)) become Reshape [-1, C]
 * on a batch-dynamic graph, checked structurally and numerically (tfjs reference runner, batch 1
 * and 3, before vs after).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { flattenBatchDynamic } from '../../src/converter/passes/flatten.js';
import { foldConstants } from '../../src/converter/passes/fold-constants.js';
import { makeContext } from '../../src/converter/passes/types.js';
import { validateGraph } from '../../src/converter/graph/validate.js';
import { DataType } from '../../src/converter/proto/types.js';
import type { GraphDef } from '../../src/converter/proto/types.js';
import { constValue } from '../../src/converter/tensor.js';
import { GraphBuilder, a, opCounts } from '../support/builder.js';
import { runReference } from '../support/reference.js';

test.before(async () => {
  await tf.setBackend('cpu');
});

const I = DataType.DT_INT32;
const byName = (g: GraphDef) => new Map(g.node.map((n) => [n.name, n]));
const sliceAttrs = {
  T: a.type(I),
  Index: a.type(I),
  begin_mask: a.i(0),
  end_mask: a.i(0),
  ellipsis_mask: a.i(0),
  new_axis_mask: a.i(0),
  shrink_axis_mask: a.i(1),
};

function feed(shape: number[], seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1);
}

/** Placeholder [-1,4,4,3] → Shape → StridedSlice → Pack → Reshape (slim.flatten), then MatMul and a BN-style reshape back. */
function graph(): GraphDef {
  const b = new GraphBuilder();
  b.placeholder('x', [-1, 4, 4, 3]);
  b.op('Relu', 'relu', ['x']);
  b.op('Shape', 'Flatten/Shape', ['relu'], { out_type: a.type(I) });
  b.const('Flatten/b', [0], [1], I);
  b.const('Flatten/e', [1], [1], I);
  b.const('Flatten/s', [1], [1], I);
  b.op('StridedSlice', 'Flatten/strided_slice', ['Flatten/Shape', 'Flatten/b', 'Flatten/e', 'Flatten/s'], sliceAttrs);
  b.const('Flatten/m1', [-1], [], I);
  b.op('Pack', 'Flatten/Reshape/shape', ['Flatten/strided_slice', 'Flatten/m1'], { T: a.type(I), N: a.i(2), axis: a.i(0) });
  b.op('Reshape', 'Flatten/Reshape', ['relu', 'Flatten/Reshape/shape'], { Tshape: a.type(I) });
  b.const('w', feed([48, 6], 7), [48, 6]);
  b.op('MatMul', 'Bottleneck/MatMul', ['Flatten/Reshape', 'w']);
  b.const('bn/shape4', [-1, 1, 1, 6], [4], I);
  b.op('Reshape', 'bn/Reshape', ['Bottleneck/MatMul', 'bn/shape4'], { Tshape: a.type(I) });
  b.op('Relu', 'bn/act', ['bn/Reshape']);
  b.op('Shape', 'bn/Shape', ['Bottleneck/MatMul'], { out_type: a.type(I) });
  b.op('Reshape', 'bn/Reshape_1', ['bn/act', 'bn/Shape'], { Tshape: a.type(I) });
  b.op('Identity', 'out', ['bn/Reshape_1']);
  return b.build();
}

test('fold leaves the dynamic flatten alone; flatten makes it Reshape [-1, 48]', async () => {
  const g = graph();
  const ctx = makeContext(['x'], ['out']);
  const folded = foldConstants().run(g, ctx);
  validateGraph(folded);
  assert.is(byName(folded).get('Flatten/Shape')!.op, 'Shape', 'batch stays dynamic');
  const out = flattenBatchDynamic().run(folded, ctx);
  validateGraph(out);
  const n = byName(out);
  const flat = n.get('Flatten/Reshape')!;
  const shapeConst = n.get(flat.input[1]!)!;
  assert.is(shapeConst.op, 'Const');
  assert.equal(Array.from(constValue(shapeConst)!.data), [-1, 48]);
  const back = n.get('bn/Reshape_1')!;
  assert.equal(Array.from(constValue(n.get(back.input[1]!)!)!.data), [-1, 6]);
  const ops = opCounts(out);
  assert.is(ops['Shape'], undefined, 'no live Shape left');
  assert.is(ops['StridedSlice'], undefined);
  assert.is(ops['Pack'], undefined);
  assert.ok(n.has('bn/shape4'), 'a constant shape with -1 is untouched');
  assert.ok(out.node.length < g.node.length);
  for (const batch of [1, 3]) {
    const f = { x: { shape: [batch, 4, 4, 3], data: feed([batch, 4, 4, 3], 11 + batch) } };
    const [want] = await runReference(g, f, ['out']);
    const [got] = await runReference(out, f, ['out']);
    assert.equal(got!.shape, [batch, 6]);
    assert.equal(Array.from(got!.data), Array.from(want!.data), `batch ${batch}`);
  }
});

test('a static batch is folded by fold-constants instead, and flatten has nothing to do', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [2, 3]);
  b.op('Shape', 'sh', ['x'], { out_type: a.type(I) });
  b.op('Reshape', 'r', ['x', 'sh'], { Tshape: a.type(I) });
  const g = foldConstants().run(b.build(), makeContext(['x'], ['r']));
  const ctx = makeContext(['x'], ['r']);
  const out = flattenBatchDynamic().run(g, ctx);
  assert.is(out, g, 'unchanged');
  assert.equal(ctx.warnings, []);
});

test('unproven patterns are skipped with a warning; a baked batch 1 is reported, not rewritten', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [-1, -1, 3]);
  b.op('Shape', 'sh', ['x'], { out_type: a.type(I) });
  b.const('b0', [0], [1], I);
  b.const('b1', [1], [1], I);
  b.op('StridedSlice', 'batch', ['sh', 'b0', 'b1', 'b1'], sliceAttrs);
  b.const('m1', [-1], [], I);
  b.op('Pack', 'shape', ['batch', 'm1'], { T: a.type(I), N: a.i(2), axis: a.i(0) });
  b.op('Reshape', 'flat', ['x', 'shape'], { Tshape: a.type(I) });
  b.const('one', [1, -1], [2], I);
  b.op('Reshape', 'baked', ['x', 'one'], { Tshape: a.type(I) });
  const g = b.build();
  const ctx = makeContext(['x'], ['flat', 'baked']);
  const out = flattenBatchDynamic().run(g, ctx);
  assert.is(out, g);
  assert.ok(ctx.warnings.some((w) => w.startsWith('Cannot make Reshape "flat" batch-dynamic')), ctx.warnings.join('\n'));
  assert.ok(ctx.warnings.some((w) => w.includes('"baked"') && w.includes('batch 1')), ctx.warnings.join('\n'));
});

test.run();
