/**
 * The FaceNet-anatomy generator (fixtures/facenet-anatomy.ts) and the committed fixture: byte
 * equality with a fresh build, structure against docs/facenet-graph.md (the op histogram,
 * parameter and control-edge counts observed on the real sister model), and the architecture,
 * embeddings and Merge-order independence checked through the tfjs reference.
 */
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FACENET, buildFacenetGraph, countConstElements } from '../fixtures/facenet-anatomy.js';
import { decodeGraph, encodeGraph } from '../src/converter/proto/codec.js';
import { DataType } from '../src/converter/proto/types.js';
import type { GraphDef, NodeDef } from '../src/converter/proto/types.js';
import { attr, shapeDims } from '../src/converter/tensor.js';
import { opCounts } from './support/builder.js';
import { runReference } from './support/reference.js';

const tinyBytes = readFileSync(new URL('../fixtures/facenet-tiny.pb', import.meta.url));
const tiny = decodeGraph(new Uint8Array(tinyBytes), { source: 'facenet-tiny.pb' });
const byName = (g: GraphDef) => new Map(g.node.map((n) => [n.name, n]));
const tinyNodes = byName(tiny);
const get = (name: string): NodeDef => {
  const n = tinyNodes.get(name);
  if (!n) throw new Error(`missing node ${name}`);
  return n;
};

// docs/facenet-graph.md, "Op histogram (sister model 20180408-102900, observed)" and "derived".
const DOC_HISTOGRAM: Record<string, number> = {
  Switch: 2019, Const: 1104, Identity: 1056, Sub: 449, Merge: 449, Mul: 248, Conv2D: 132, BiasAdd: 21,
  FusedBatchNorm: 224, Relu: 131, ConcatV2: 23, MaxPool: 3, AvgPool: 1, MatMul: 1, Reshape: 3, Placeholder: 2,
  FIFOQueueV2: 1, QueueDequeueUpToV2: 1, RandomUniform: 1, Floor: 1, RealDiv: 1, Square: 1, Sum: 1, Maximum: 1, Rsqrt: 1,
};
const DOC_CONSTANT_PARAMS = 23_512_505;
const DOC_TRAINABLE_PARAMS = 23_497_424;
const DOC_CONTROL_EDGES = 675;

test('the committed tiny fixture equals a fresh build byte for byte', () => {
  const fresh = encodeGraph(buildFacenetGraph({ width: FACENET.tinyWidth, seed: FACENET.tinySeed }));
  assert.is(tinyBytes.length, fresh.length);
  assert.ok(Buffer.compare(tinyBytes, Buffer.from(fresh)) === 0, 'bytes differ: run `npx tsx scripts/gen-fixtures.ts`');
  const other = encodeGraph(buildFacenetGraph({ width: FACENET.tinyWidth, seed: FACENET.tinySeed + 1 }));
  assert.ok(Buffer.compare(tinyBytes, Buffer.from(other)) !== 0, 'the seed changes the weights');
});

test('op histogram and control edges are those of the real model (any width)', () => {
  const counts = opCounts(tiny);
  for (const [op, n] of Object.entries(DOC_HISTOGRAM)) assert.is(counts[op], n, op);
  assert.is(counts['Shape'], 3, 'flatten, dropout and Bottleneck Shape');
  assert.is(counts['Add'], 23, '21 residual adds + 2 in dropout');
  assert.is(counts['StridedSlice'], 1);
  assert.is(counts['Pack'], 1);
  const control = tiny.node.reduce((s, n) => s + n.input.filter((i) => i.startsWith('^')).length, 0);
  assert.is(control, DOC_CONTROL_EDGES);
  // Per batch-norm block: 2 FusedBatchNorm, 18 Switch, 4 Merge; the dropout cond adds 3 Switch, 1 Merge.
  const bn = counts['FusedBatchNorm']! / 2;
  assert.is(bn, 112);
  assert.is(counts['Switch'], 18 * bn + 3);
  assert.is(counts['Merge'], 4 * bn + 1);
  assert.equal(opCounts(buildFacenetGraph({ width: 1 / 8, calibrate: false })), counts, 'width changes no structure');
});

test('full size: constant and trainable parameter counts of the real model, channel counts of the table', () => {
  const full = buildFacenetGraph({ calibrate: false });
  assert.is(countConstElements(full), DOC_CONSTANT_PARAMS);
  const nodes = byName(full);
  // The doc's "23,497,424 trainable" is every model variable: weights, biases, beta and the moving
  // statistics (only gamma, a constant since scale=False, and the small op constants are left out).
  let variables = 0;
  for (const n of full.node) {
    if (n.op === 'Const' && /\/(weights|biases|beta|moving_mean|moving_variance)$/.test(n.name)) {
      variables += shapeDims(n.attr['value']!.tensor!.tensor_shape)!.reduce((p, d) => p * d, 1);
    }
  }
  assert.is(variables, DOC_TRAINABLE_PARAMS);
  const wshape = (scope: string) => shapeDims(nodes.get(`InceptionResnetV1/${scope}/weights`)!.attr['value']!.tensor!.tensor_shape);
  assert.equal(wshape('Conv2d_1a_3x3'), [3, 3, 3, 32]);
  assert.equal(wshape('Conv2d_2b_3x3'), [3, 3, 32, 64]);
  assert.equal(wshape('Conv2d_3b_1x1'), [1, 1, 64, 80]);
  assert.equal(wshape('Conv2d_4b_3x3'), [3, 3, 192, 256]);
  assert.equal(wshape('Repeat/block35_1/Conv2d_1x1'), [1, 1, 96, 256]);
  assert.equal(wshape('Mixed_6a/Branch_0/Conv2d_1a_3x3'), [3, 3, 256, 384]);
  assert.equal(wshape('Repeat_1/block17_1/Branch_1/Conv2d_0b_1x7'), [1, 7, 128, 128]);
  assert.equal(wshape('Repeat_1/block17_1/Conv2d_1x1'), [1, 1, 256, 896]);
  assert.equal(wshape('Mixed_7a/Branch_2/Conv2d_1a_3x3'), [3, 3, 256, 256]);
  assert.equal(wshape('Repeat_2/block8_1/Branch_1/Conv2d_0c_3x1'), [3, 1, 192, 192]);
  assert.equal(wshape('Block8/Conv2d_1x1'), [1, 1, 384, 1792]);
  assert.equal(wshape('Bottleneck'), [1792, 512]);
});

test('inputs, outputs and the queue chain are named and wired as in the real model', () => {
  assert.is(get('batch_size').op, 'Placeholder');
  assert.is(attr.type(get('batch_size'), 'dtype'), DataType.DT_INT32);
  assert.is(get('batch_join/fifo_queue').op, 'FIFOQueueV2');
  assert.equal(get('batch_join').input, ['batch_join/fifo_queue', 'batch_size']);
  assert.is(get('batch_join').op, 'QueueDequeueUpToV2');
  assert.equal(get('image_batch').input, ['batch_join']);
  assert.equal([get('input').op, ...get('input').input], ['Identity', 'image_batch']);
  assert.equal(get('label_batch').input, ['batch_join:1']);
  const pt = get('phase_train');
  assert.is(pt.op, 'Placeholder');
  assert.is(attr.type(pt, 'dtype'), DataType.DT_BOOL);
  assert.is(attr.shape(pt, 'shape'), undefined, 'phase_train has no shape');
  assert.equal(get('InceptionResnetV1/Conv2d_1a_3x3/Conv2D').input, ['input', 'InceptionResnetV1/Conv2d_1a_3x3/weights/read']);
  assert.equal(get('embeddings').input, ['InceptionResnetV1/Bottleneck/BatchNorm/Reshape_1', 'embeddings/Rsqrt']);
  assert.equal(get('embeddings/Sum').input, ['embeddings/Square', 'embeddings/Sum/reduction_indices']);
  assert.ok(attr.bool(get('embeddings/Sum'), 'keep_dims'));
  assert.equal(get('embeddings/Maximum').input, ['embeddings/Sum', 'embeddings/Maximum/y']);
  for (const scope of [
    ...[1, 2, 3, 4, 5].map((i) => `Repeat/block35_${i}`),
    ...Array.from({ length: 10 }, (_, i) => `Repeat_1/block17_${i + 1}`),
    ...[1, 2, 3, 4, 5].map((i) => `Repeat_2/block8_${i}`),
    'Block8',
  ]) {
    assert.ok(tinyNodes.has(`InceptionResnetV1/${scope}/add`), scope);
    assert.equal(get(`InceptionResnetV1/${scope}/mul`).input, [`InceptionResnetV1/${scope}/mul/x`, `InceptionResnetV1/${scope}/Conv2d_1x1/BiasAdd`]);
  }
  assert.not.ok(tinyNodes.has('InceptionResnetV1/Block8/Relu'), 'Block8 has no activation');
  assert.ok(tinyNodes.has('InceptionResnetV1/Repeat_2/block8_5/Relu'));
  for (const n of ['Mixed_6a/concat', 'Mixed_7a/concat', 'Logits/AvgPool_1a_8x8/AvgPool', 'Logits/Flatten/flatten/Reshape', 'Logits/Dropout/cond/Merge', 'Logits/Dropout/cond/dropout/random_uniform/RandomUniform', 'Bottleneck/MatMul', 'Bottleneck/BatchNorm/Reshape']) {
    assert.ok(tinyNodes.has(`InceptionResnetV1/${n}`), n);
  }
  assert.equal(attr.ints(get('InceptionResnetV1/Logits/AvgPool_1a_8x8/AvgPool'), 'ksize'), [1, 3, 3, 1]);
});

test('every batch norm block has the two tf.cond blocks of the doc', () => {
  const blocks = tiny.node.filter((n) => n.name.endsWith('/BatchNorm/cond/FusedBatchNorm_1')).map((n) => n.name.replace(/\/cond\/FusedBatchNorm_1$/, ''));
  assert.is(blocks.length, 112);
  for (const x of blocks) {
    const gamma = get(`${x}/Const`).attr['value']!.tensor!;
    assert.equal(gamma.float_val, [1], `${x} gamma is a splat`);
    assert.not.ok(gamma.tensor_content?.length, `${x} gamma has no tensor_content`);
    const tr = get(`${x}/cond/FusedBatchNorm`);
    const inf = get(`${x}/cond/FusedBatchNorm_1`);
    assert.ok(attr.bool(tr, 'is_training'));
    assert.not.ok(attr.bool(inf, 'is_training'));
    assert.ok(Math.abs(attr.float(inf, 'epsilon') - 0.001) < 1e-9);
    assert.equal(tr.input.slice(0, 3), [`${x}/cond/FusedBatchNorm/Switch:1`, `${x}/cond/FusedBatchNorm/Switch_1:1`, `${x}/cond/FusedBatchNorm/Switch_2:1`]);
    assert.equal(get(`${x}/cond/Const`).input, [`^${x}/cond/switch_t`]);
    assert.equal(get(`${x}/cond/switch_t`).input, [`${x}/cond/Switch:1`]);
    assert.equal(get(`${x}/cond/Switch`).input, ['phase_train', 'phase_train']);
    assert.equal(inf.input.map((i) => get(i).input[0]), [
      x.endsWith('Bottleneck/BatchNorm') ? `${x}/Reshape` : x.replace(/BatchNorm$/, 'Conv2D'),
      `${x}/Const`, `${x}/beta/read`, `${x}/moving_mean/read`, `${x}/moving_variance/read`,
    ]);
    assert.equal(get(`${x}/cond/Merge`).input, [`${x}/cond/FusedBatchNorm_1`, `${x}/cond/FusedBatchNorm`], 'false branch first');
    assert.equal(get(`${x}/cond/Merge_2`).input, [`${x}/cond/FusedBatchNorm_1:2`, `${x}/cond/FusedBatchNorm:2`]);
    assert.equal(get(`${x}/cond_1/Identity`).input, [`${x}/cond_1/Identity/Switch:1`, `^${x}/cond_1/AssignMovingAvg`, `^${x}/cond_1/AssignMovingAvg_1`]);
    assert.equal(get(`${x}/cond_1/AssignMovingAvg`).input, [`${x}/cond_1/AssignMovingAvg/Switch:1`, `${x}/cond_1/AssignMovingAvg/mul`]);
    assert.equal(get(`${x}/cond_1/AssignMovingAvg/sub/Switch_1`).input[0], `${x}/cond/Merge_1`);
    assert.equal(get(`${x}/cond_1/Switch_1`).input, [`${x}/cond/Merge`, `${x}/cond_1/pred_id`]);
    assert.equal(get(`${x}/cond_1/Merge`).input, [`${x}/cond_1/Switch_1`, `${x}/cond_1/Identity`]);
  }
  // Consts are stored as TF's make_tensor_proto stores them: more than one element as
  // tensor_content, one element as a value list; the exceptions are the splat gammas and the empty
  // training-mean/variance.
  for (const n of tiny.node) {
    if (n.op !== 'Const') continue;
    const t = n.attr['value']!.tensor!;
    const size = shapeDims(t.tensor_shape)!.reduce((p, d) => p * d, 1);
    if (n.name.endsWith('/BatchNorm/Const') || size === 0) continue;
    const listed = (t.float_val?.length ?? 0) + (t.int_val?.length ?? 0);
    if (size === 1) assert.ok(!t.tensor_content?.length && listed === 1, `${n.name} is a value list`);
    else assert.ok((t.tensor_content?.length ?? 0) > 0 && listed === 0, `${n.name} is tensor_content`);
  }
});

test('trueBranchFirst lists the true branch first in every Merge', () => {
  const g = buildFacenetGraph({ width: FACENET.tinyWidth, trueBranchFirst: true, calibrate: false });
  const m = byName(g);
  const x = 'InceptionResnetV1/Conv2d_1a_3x3/BatchNorm';
  assert.equal(m.get(`${x}/cond/Merge`)!.input, [`${x}/cond/FusedBatchNorm`, `${x}/cond/FusedBatchNorm_1`]);
  assert.equal(m.get(`${x}/cond_1/Merge`)!.input, [`${x}/cond_1/Identity`, `${x}/cond_1/Switch_1`]);
  assert.equal(m.get('InceptionResnetV1/Logits/Dropout/cond/Merge')!.input, ['InceptionResnetV1/Logits/Dropout/cond/dropout/mul', 'InceptionResnetV1/Logits/Dropout/cond/Identity']);
});

/** Two standardized test images unlike each other (noise; a smooth ramp pattern). */
function testImages(): Float32Array {
  const px = 160 * 160 * 3;
  const data = new Float32Array(2 * px);
  let s = 42;
  const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (let i = 0; i < px; i++) data[i] = (r() * 255 - 127.5) / 128;
  for (let i = 0; i < px; i++) {
    const y = Math.floor(i / 480);
    const x = Math.floor(i / 3) % 160;
    data[px + i] = (((y + 2 * x * (i % 3)) % 160) * 1.6 - 127.5) / 128;
  }
  return data;
}

const FEEDS = {
  input: { shape: [2, 160, 160, 3], data: testImages() },
  phase_train: { shape: [], data: new Uint8Array([0]), dtype: 'bool' as const },
};
// Architecture table of docs/facenet-graph.md (H×W at 160×160).
const TABLE: Array<[string, number]> = [
  ['Conv2d_1a_3x3/Relu', 79], ['Conv2d_2a_3x3/Relu', 77], ['Conv2d_2b_3x3/Relu', 77], ['MaxPool_3a_3x3/MaxPool', 38],
  ['Conv2d_3b_1x1/Relu', 38], ['Conv2d_4a_3x3/Relu', 36], ['Conv2d_4b_3x3/Relu', 17], ['Repeat/block35_5/Relu', 17],
  ['Mixed_6a/concat', 8], ['Repeat_1/block17_10/Relu', 8], ['Mixed_7a/concat', 3], ['Repeat_2/block8_5/Relu', 3],
  ['Block8/add', 3], ['Logits/AvgPool_1a_8x8/AvgPool', 1],
];

test('reference run of the tiny fixture: table sizes, sane activations, distinct unit-norm [2,512] embeddings', async () => {
  const outs = await runReference(tiny, FEEDS, [...TABLE.map(([n]) => `InceptionResnetV1/${n}`), 'embeddings']);
  TABLE.forEach(([name, hw], k) => {
    const o = outs[k]!;
    assert.equal(o.shape.slice(0, 3), [2, hw, hw], name);
    let sq = 0;
    for (const v of o.data) sq += v * v;
    const rms = Math.sqrt(sq / o.data.length);
    assert.ok(rms > 0.1 && rms < 100, `${name}: rms ${rms} out of a sane range`);
  });
  assert.is(outs[10]!.shape[3], 112, 'Mixed_7a: 1792/16 channels');
  const e = outs.at(-1)!;
  assert.equal(e.shape, [2, 512]);
  assert.ok(e.data.every(Number.isFinite));
  const row = (i: number) => e.data.subarray(i * 512, (i + 1) * 512);
  const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);
  assert.ok(Math.abs(dot(row(0), row(0)) - 1) < 1e-4);
  assert.ok(Math.abs(dot(row(1), row(1)) - 1) < 1e-4);
  const cos = dot(row(0), row(1));
  assert.ok(cos < 0.99, `embeddings nearly identical (cos ${cos})`);
  assert.ok(row(0).some((v) => Math.abs(v) > 0.05), 'not spread thin');
});

test('trueBranchFirst=true gives the same reference output', async () => {
  const swapped = buildFacenetGraph({ width: FACENET.tinyWidth, seed: FACENET.tinySeed, trueBranchFirst: true });
  const [a] = await runReference(tiny, FEEDS, ['embeddings']);
  const [b] = await runReference(swapped, FEEDS, ['embeddings']);
  assert.equal(Array.from(b!.data), Array.from(a!.data));
});

test.run();
