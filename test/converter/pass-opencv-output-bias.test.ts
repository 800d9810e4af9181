/**
 * opencv-compat makes a graph output that is a bias after a conv or MatMul fetchable by its name.
 * OpenCV's importer merges BiasAdd (and, after a MatMul, an Add of a constant) into the layer
 * before it and names the merged layer after that op, so `forward("out")` failed with "Requested
 * layer not found" (HED's `hed/dsn_fuse/conv2d/BiasAdd`, MTCNN's `rnet/conv5-2/conv5-2`).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { opencvCompat } from '../../src/converter/passes/opencv-compat.js';
import { makeContext } from '../../src/converter/passes/types.js';
import { encodeGraph } from '../../src/converter/proto/codec.js';
import { DataType } from '../../src/converter/proto/types.js';
import type { GraphDef } from '../../src/converter/proto/types.js';
import { validateGraph } from '../../src/converter/graph/validate.js';
import { loadOpenCV } from '../../src/runtime/opencv/node.js';
import { forwardTF } from '../../src/runtime/opencv/forward.js';
import { GraphBuilder, a } from '../support/builder.js';
import { runReference } from '../support/reference.js';
import { maxAbsDiff, uniform } from '../support/numeric.js';

function convBias(): GraphDef {
  const b = new GraphBuilder();
  b.placeholder('x', [-1, 5, 5, 3]);
  b.const('w', uniform(3 * 3 * 3 * 4, 1), [3, 3, 3, 4]);
  b.op('Conv2D', 'conv', ['x', 'w'], { strides: a.ints([1, 1, 1, 1]), padding: a.s('SAME'), data_format: a.s('NHWC') });
  b.const('b', uniform(4, 2), [4]);
  b.op('BiasAdd', 'out', ['conv', 'b'], { data_format: a.s('NHWC') });
  return b.build();
}

function matmulAdd(): GraphDef {
  const b = new GraphBuilder();
  // forwardTF feeds NHWC tensors: a [N,1,1,6] input flattened to [N,6] for the MatMul.
  b.placeholder('x', [-1, 1, 1, 6]);
  b.const('flat/shape', [-1, 6], [2], DataType.DT_INT32);
  b.op('Reshape', 'flat', ['x', 'flat/shape'], { Tshape: a.type(DataType.DT_INT32) });
  b.const('w', uniform(6 * 3, 3), [6, 3]);
  b.op('MatMul', 'mm', ['flat', 'w'], { transpose_a: a.b(false), transpose_b: a.b(false) });
  b.const('b', uniform(3, 4), [3]);
  b.op('Add', 'out', ['mm', 'b']);
  return b.build();
}

for (const [label, build, shape] of [
  ['Conv2D → BiasAdd', convBias, [2, 5, 5, 3]],
  ['MatMul → Add(const)', matmulAdd, [2, 1, 1, 6]],
] as const) {
  test(`${label} as the output: fetchable by name in OpenCV, same values as TF`, async () => {
    const g = build();
    const out = opencvCompat().run(g, makeContext(['x'], ['out']));
    validateGraph(out);
    const node = out.node.find((n) => n.name === 'out')!;
    assert.is(node.op, 'Mul', 'the output is a layer OpenCV keeps');
    assert.equal(g.node.find((n) => n.name === 'out')!.op, label.startsWith('Conv') ? 'BiasAdd' : 'Add', 'input graph untouched');
    const data = uniform((shape as readonly number[]).reduce((p, d) => p * d, 1), 9);
    const cv = await loadOpenCV();
    const [got] = forwardTF(cv, encodeGraph(out), { name: 'x', shape: [...shape], data }, ['out']);
    const [ref] = await runReference(g, { x: { shape: [...shape], data } }, ['out']);
    assert.equal(got!.shape, ref!.shape);
    assert.ok(maxAbsDiff(got!.data, ref!.data) < 1e-5, `max |Δ| ${maxAbsDiff(got!.data, ref!.data)}`);
  });
}

test('the unchanged graph cannot be fetched by that name: the rewrite is needed', async () => {
  const cv = await loadOpenCV();
  const data = uniform(2 * 5 * 5 * 3, 9);
  assert.throws(() => forwardTF(cv, encodeGraph(convBias()), { name: 'x', shape: [2, 5, 5, 3], data }, ['out']), /not found/);
});

test('a bias that is not an output is left for OpenCV to merge', () => {
  const g = convBias();
  const out = opencvCompat().run(g, makeContext(['x'], ['conv']));
  assert.is(out.node.find((n) => n.name === 'out')!.op, 'BiasAdd');
});

test.run();
