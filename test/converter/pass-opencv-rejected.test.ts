/**
 * rejectedOps: hand-made graphs with each kind of case, and every real graph in ../shared/models
 * before and after fold-batch-norms + opencv-compat. Expectations for the real graphs come from
 * their documented anatomy (shared/models/MANIFEST.md) and OpenCV's tf_importer.cpp.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeGraph } from '../../src/converter/proto/codec.js';
import { parseInput } from '../../src/converter/graph/names.js';
import { validateGraph } from '../../src/converter/graph/validate.js';
import { foldBatchNorms } from '../../src/converter/passes/fold-batch-norms.js';
import { opencvCompat, rejectedOps } from '../../src/converter/passes/opencv-compat.js';
import { makeContext } from '../../src/converter/passes/types.js';
import { DataType } from '../../src/converter/proto/types.js';
import type { GraphDef } from '../../src/converter/proto/types.js';
import { GraphBuilder, a } from '../support/builder.js';
import { readShared } from '../support/shared.js';

test('hand graph: each rejection kind, and the fused subgraphs accepted', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [-1, 4, 4, 2]);
  b.op('Neg', 'neg', ['x']);
  b.const('two', [2], []);
  b.op('RealDiv', 'div_ok', ['neg', 'two']);
  b.op('RealDiv', 'div_bad', ['two', 'div_ok']); // "Division of constant over variable"
  b.op('StopGradient', 'sg', ['div_bad']);
  // slim.flatten with a dynamic batch: Shape → StridedSlice → Pack → Reshape(x, ·): accepted.
  b.op('Shape', 'flat/Shape', ['sg'], { out_type: a.type(DataType.DT_INT32) });
  b.const('flat/b', [0], [1], DataType.DT_INT32);
  b.const('flat/e', [1], [1], DataType.DT_INT32);
  b.const('flat/s', [1], [1], DataType.DT_INT32);
  b.op('StridedSlice', 'flat/ss', ['flat/Shape', 'flat/b', 'flat/e', 'flat/s'], { Index: a.type(DataType.DT_INT32), shrink_axis_mask: a.i(1) });
  b.const('flat/m1', [-1], [], DataType.DT_INT32);
  b.op('Pack', 'flat/pack', ['flat/ss', 'flat/m1'], { N: a.i(2), axis: a.i(0), T: a.type(DataType.DT_INT32) });
  b.op('Reshape', 'flat', ['sg', 'flat/pack'], { Tshape: a.type(DataType.DT_INT32) });
  // A live Shape feeding something else: rejected.
  b.op('Shape', 'live_shape', ['x'], { out_type: a.type(DataType.DT_INT32) });
  b.op('Cast', 'cast', ['live_shape'], { SrcT: a.type(DataType.DT_INT32), DstT: a.type(DataType.DT_FLOAT) });
  const got = rejectedOps(b.build());
  assert.equal(got, [
    { op: 'Neg', nodes: ['neg'] },
    { op: 'RealDiv', nodes: ['div_bad'] },
    { op: 'StopGradient', nodes: ['sg'] },
    { op: 'Shape', nodes: ['live_shape'] },
    { op: 'Cast', nodes: ['cast'] },
  ]);
});

function dropIdentity(g: GraphDef): GraphDef {
  const src = new Map<string, string>();
  for (const n of g.node) if (n.op === 'Identity') src.set(n.name, n.input[0]!);
  const resolve = (s: string): string => {
    const r = parseInput(s);
    let t = r.node, port = r.port;
    while (port === 0 && src.has(t)) ({ node: t, port } = parseInput(src.get(t)!));
    return r.control ? `^${t}` : port ? `${t}:${port}` : t;
  };
  return { ...g, node: g.node.filter((n) => n.op !== 'Identity').map((n) => ({ ...n, input: n.input.map(resolve) })) };
}

const summary = (r: ReturnType<typeof rejectedOps>) => Object.fromEntries(r.map((x) => [x.op, x.nodes.length]));

const CASES: Array<{ file: string; before: Record<string, number>; after: Record<string, number> }> = [
  // Keras mini-Xception: BN written out (Rsqrt inside OpenCV's batch-norm subgraph), no rejection.
  { file: 'emotion_mini_xception.pb', before: {}, after: {} },
  // Keras face-mask SSD: Shape only inside Keras reshape (Shape → StridedSlice → Pack → Reshape).
  { file: 'aizoo_face_mask_detection.pb', before: {}, after: {} },
  // tf.cond batch norms: Switch/Merge are removed by the importer itself (known-wrong, not rejected).
  { file: 'hed_graph.pb', before: {}, after: {} },
  // PReLU written as Relu(x) + alpha·Neg(Relu(Neg(x))): 12 PReLUs, 2 Neg each, and 12 Muls by the
  // alpha vector feeding an Add of two variables (parseMul's bias trap). Neg becomes Mul(x, -1),
  // the Add an AddN.
  { file: 'hse_mtcnn.pb', before: { Neg: 24, Mul: 12 }, after: {} },
  // OpenCV's own detector, meant to be loaded with its .pbtxt: alone, its l2_normalize has a
  // Dequantize (not a Const) as Maximum's y, so the importer's subgraph matcher would not fuse it.
  { file: 'opencv_face_detector_uint8.pb', before: { Maximum: 1, Rsqrt: 1 }, after: { Maximum: 1, Rsqrt: 1 } },
];

for (const c of CASES) {
  test(`rejectedOps on ${c.file}, before and after fold-batch-norms + opencv-compat`, () => {
    const g0 = decodeGraph(readShared(`models/${c.file}`), { source: c.file });
    const before = rejectedOps(g0);
    const ctx = makeContext([], []);
    let g = dropIdentity(g0);
    g = foldBatchNorms().run(g, ctx);
    g = opencvCompat().run(g, ctx);
    validateGraph(g);
    const after = rejectedOps(g);
    assert.equal(summary(before), c.before, 'before');
    assert.equal(summary(after), c.after, 'after');
  });
}

test.run();
