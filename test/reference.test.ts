/**
 * The tfjs reference runner (test/support/reference.ts) against hand computations with plain loops
 * (native OpenCV is not available here to cross-check), and on real TF1 graphs.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeGraph } from '../src/converter/proto/codec.js';
import { DataType } from '../src/converter/proto/types.js';
import { GraphBuilder, a } from './support/builder.js';
import { runReference, toGraphModelArtifacts } from './support/reference.js';

const MODELS = new URL('../../shared/models/', import.meta.url);

function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32 - 0.5;
  };
}
const randArray = (n: number, seed: number) => Float32Array.from({ length: n }, lcg(seed));

function close(actual: Float32Array, expected: ArrayLike<number>, tol: number, what: string) {
  assert.is(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  assert.ok(worst <= tol, `${what}: max abs diff ${worst} > ${tol}`);
}

/** TF Conv2D, NHWC input, HWIO filter, with TF's SAME rule (extra padding goes bottom/right). */
type Dims4 = [number, number, number, number];
function conv2d(x: Float32Array, [n, h, w, c]: Dims4, f: Float32Array, [kh, kw, , co]: Dims4, stride: number, same: boolean) {
  const oh = same ? Math.ceil(h / stride) : Math.floor((h - kh) / stride) + 1;
  const ow = same ? Math.ceil(w / stride) : Math.floor((w - kw) / stride) + 1;
  const padT = same ? Math.floor(Math.max((oh - 1) * stride + kh - h, 0) / 2) : 0;
  const padL = same ? Math.floor(Math.max((ow - 1) * stride + kw - w, 0) / 2) : 0;
  const out = new Float32Array(n * oh * ow * co);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++)
        for (let o = 0; o < co; o++) {
          let s = 0;
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++) {
              const iy = y * stride + i - padT;
              const ix = xx * stride + j - padL;
              if (iy < 0 || ix < 0 || iy >= h || ix >= w) continue;
              for (let k = 0; k < c; k++) s += x[((b * h + iy) * w + ix) * c + k]! * f[((i * kw + j) * c + k) * co + o]!;
            }
          out[((b * oh + y) * ow + xx) * co + o] = s;
        }
  return { out, shape: [n, oh, ow, co] };
}

test('Conv2D (SAME, stride 2, asymmetric pad) + BiasAdd + Relu equals a plain-loop computation', async () => {
  const xs: Dims4 = [2, 6, 7, 2];
  const fs: Dims4 = [3, 3, 2, 3];
  const x = randArray(2 * 6 * 7 * 2, 1);
  const f = randArray(3 * 3 * 2 * 3, 2);
  const bias = [0.1, -0.2, 0.05];
  const b = new GraphBuilder();
  b.placeholder('x', [-1, 6, 7, 2]);
  b.const('w', f, fs);
  b.const('b', bias, [3]);
  b.op('Conv2D', 'conv', ['x', 'w'], { strides: a.ints([1, 2, 2, 1]), padding: a.s('SAME'), data_format: a.s('NHWC') });
  b.op('BiasAdd', 'bias', ['conv', 'b'], { data_format: a.s('NHWC') });
  b.op('Relu', 'relu', ['bias']);
  const [out] = await runReference(b.build(), { x: { shape: xs, data: x } }, ['relu']);
  const ref = conv2d(x, xs, f, fs, 2, true);
  const expected = ref.out.map((v, i) => Math.max(0, v + bias[i % 3]!));
  assert.equal(out!.shape, ref.shape);
  assert.equal(ref.shape, [2, 3, 4, 3]);
  assert.ok(expected.some((v) => v > 0) && expected.some((v) => v === 0), 'the case exercises Relu');
  close(out!.data, expected, 1e-5, 'relu');
});

test('VALID conv equals the loops too', async () => {
  const xs: Dims4 = [1, 5, 5, 3];
  const fs: Dims4 = [2, 3, 3, 4];
  const x = randArray(75, 3);
  const f = randArray(2 * 3 * 3 * 4, 4);
  const b = new GraphBuilder();
  b.placeholder('x', [1, 5, 5, 3]);
  b.const('w', f, fs);
  b.op('Conv2D', 'conv', ['x', 'w'], { strides: a.ints([1, 1, 1, 1]), padding: a.s('VALID') });
  const [out] = await runReference(b.build(), { x: { shape: xs, data: x } }, ['conv']);
  const ref = conv2d(x, xs, f, fs, 1, false);
  assert.equal(out!.shape, [1, 4, 3, 4]);
  close(out!.data, ref.out, 1e-5, 'conv');
});

/**
 * A FaceNet-like miniature: queue-fed `input` Identity, a bool `phase_train`, and a slim batch
 * norm under tf.cond (training FusedBatchNorm on Switch:1, inference one on Switch:0, Merge).
 */
function condBnGraph(trueFirst: boolean) {
  const C = 3;
  const b = new GraphBuilder();
  b.placeholder('batch_size', [], DataType.DT_INT32);
  b.op('FIFOQueueV2', 'q', [], {
    T: undefined,
    component_types: { list: { type: [DataType.DT_FLOAT] } },
    shapes: { list: { shape: [{ dim: [{ size: 2 }, { size: 2 }, { size: C }] }] } },
    capacity: a.i(10),
    container: a.s(''),
    shared_name: a.s(''),
  });
  b.op('QueueDequeueUpToV2', 'deq', ['q', 'batch_size'], { T: undefined, component_types: { list: { type: [DataType.DT_FLOAT] } }, timeout_ms: a.i(-1) });
  b.op('Identity', 'input', ['deq']);
  b.placeholder('phase_train', undefined, DataType.DT_BOOL);
  b.splat('gamma', 1, [C]);
  b.const('beta', [0.5, -1, 0], [C]);
  b.const('mean', [0.2, -0.1, 0.3], [C]);
  b.const('var', [0.5, 2, 1.5], [C]);
  b.op('Switch', 'cond/Switch', ['phase_train', 'phase_train'], { T: a.type(DataType.DT_BOOL) });
  b.op('Identity', 'cond/switch_t', ['cond/Switch:1'], { T: a.type(DataType.DT_BOOL) });
  b.op('Identity', 'cond/pred_id', ['phase_train'], { T: a.type(DataType.DT_BOOL) });
  b.const('cond/Const', [], [0]);
  b.nodes[b.nodes.length - 1]!.input.push('^cond/switch_t');
  for (const [k, src] of [['Switch', 'input'], ['Switch_1', 'gamma'], ['Switch_2', 'beta'], ['Switch_3', 'mean'], ['Switch_4', 'var']] as const) {
    b.op('Switch', `cond/FusedBatchNorm/${k}`, [src, 'cond/pred_id']);
  }
  const fbn = { epsilon: a.f(0.001), data_format: a.s('NHWC') };
  b.op('FusedBatchNorm', 'cond/FusedBatchNorm', ['cond/FusedBatchNorm/Switch:1', 'cond/FusedBatchNorm/Switch_1:1', 'cond/FusedBatchNorm/Switch_2:1', 'cond/Const', 'cond/Const'], { ...fbn, is_training: a.b(true) });
  b.op('FusedBatchNorm', 'cond/FusedBatchNorm_1', ['cond/FusedBatchNorm/Switch', 'cond/FusedBatchNorm/Switch_1', 'cond/FusedBatchNorm/Switch_2', 'cond/FusedBatchNorm/Switch_3', 'cond/FusedBatchNorm/Switch_4'], { ...fbn, is_training: a.b(false) });
  const inputs = ['cond/FusedBatchNorm_1', 'cond/FusedBatchNorm'];
  b.op('Merge', 'cond/Merge', trueFirst ? inputs.reverse() : inputs, { N: a.i(2) });
  b.op('Relu', 'out', ['cond/Merge']);
  return b.build();
}

for (const trueFirst of [false, true]) {
  test(`cond batch norm fed at an inner node with phase_train=false (Merge ${trueFirst ? 'true' : 'false'} branch first)`, async () => {
    const x = randArray(2 * 2 * 2 * 3, 5).map((v) => v * 4);
    const [out] = await runReference(
      condBnGraph(trueFirst),
      { input: { shape: [2, 2, 2, 3], data: x }, phase_train: { shape: [], data: new Uint8Array([0]), dtype: 'bool' } },
      ['out'],
    );
    const beta = [0.5, -1, 0];
    const mean = [0.2, -0.1, 0.3];
    const vr = [0.5, 2, 1.5];
    const expected = x.map((v, i) => Math.max(0, (v - mean[i % 3]!) / Math.sqrt(vr[i % 3]! + 0.001) + beta[i % 3]!));
    assert.equal(out!.shape, [2, 2, 2, 3]);
    close(out!.data, expected, 1e-5, 'bn');
  });
}

test('the artifacts are pruned to the outputs and the fed inner node becomes a Placeholder', () => {
  const art = toGraphModelArtifacts(condBnGraph(false), { input: { shape: [1], data: new Float32Array(1) } }, ['out']);
  const nodes = (art.modelTopology as { node: Array<{ name: string; op: string; attr: Record<string, unknown> }> }).node;
  const names = nodes.map((n) => n.name);
  assert.not.ok(names.includes('q'), 'queue is cut');
  assert.not.ok(names.includes('deq'), 'dequeue is cut');
  assert.is(nodes.find((n) => n.name === 'input')!.op, 'Placeholder');
  assert.equal(nodes.find((n) => n.name === 'gamma')!.attr, { dtype: { type: 'DT_FLOAT' } });
  assert.equal(nodes.find((n) => n.name === 'cond/FusedBatchNorm_1')!.attr['data_format'], { s: Buffer.from('NHWC').toString('base64') });
  assert.ok(art.weightSpecs.some((s) => s.name === 'gamma' && s.shape[0] === 3));
  assert.throws(() => toGraphModelArtifacts(condBnGraph(false), {}, ['nope']), /"nope" is not in the graph/);
});

test('real graph: emotion mini-Xception (Int32 consts read from a Node Buffer), cpu and wasm agree', async () => {
  const g = decodeGraph(readFileSync(new URL('emotion_mini_xception.pb', MODELS)));
  const feeds = { input_1: { shape: [1, 64, 64, 1], data: randArray(64 * 64, 7).map((v) => v + 0.5) } };
  const [cpu] = await runReference(g, feeds, ['predictions/Softmax']);
  const [wasm] = await runReference(g, feeds, ['predictions/Softmax'], { backend: 'wasm' });
  assert.equal(cpu!.shape, [1, 7]);
  const sum = cpu!.data.reduce((s, v) => s + v, 0);
  assert.ok(Math.abs(sum - 1) < 1e-5, `softmax sums to ${sum}`);
  assert.ok(Math.max(...cpu!.data) < 0.999, 'not saturated');
  close(wasm!.data, cpu!.data, 1e-5, 'wasm vs cpu');
});

test('real graph: HED with the is_training bool fed false (49 tf.cond batch norms)', async () => {
  const g = decodeGraph(readFileSync(new URL('hed_graph.pb', MODELS)));
  const [out] = await runReference(
    g,
    {
      hed_input: { shape: [1, 256, 256, 3], data: randArray(256 * 256 * 3, 9).map((v) => v + 0.5) },
      is_training: { shape: [], data: new Uint8Array([0]), dtype: 'bool' },
    },
    ['hed/dsn_fuse/conv2d/BiasAdd'],
    { backend: 'wasm' },
  );
  assert.equal(out!.shape, [1, 256, 256, 1]);
  assert.ok(out!.data.every(Number.isFinite));
  assert.ok(Math.max(...out!.data) - Math.min(...out!.data) > 1, 'edge logits vary over the image');
});

test('real graph: AIZOO face-mask SSD (Keras-frozen, Shape/StridedSlice/Pack/Reshape heads)', async () => {
  const g = decodeGraph(readFileSync(new URL('aizoo_face_mask_detection.pb', MODELS)));
  const [loc, cls] = await runReference(
    g,
    { data_1: { shape: [1, 260, 260, 3], data: randArray(260 * 260 * 3, 11).map((v) => v + 0.5) } },
    ['loc_branch_concat_1/concat', 'cls_branch_concat_1/concat'],
    { backend: 'wasm' },
  );
  assert.equal(loc!.shape, [1, 5972, 4]);
  assert.equal(cls!.shape, [1, 5972, 2]);
  assert.ok(cls!.data.every((v) => v > 0 && v < 1), 'class scores are sigmoids');
  assert.ok(loc!.data.every(Number.isFinite));
});

test('tensors are disposed: repeated runs leave the tfjs tensor count unchanged', async () => {
  const g = condBnGraph(false);
  const feeds = { input: { shape: [1, 2, 2, 3], data: randArray(12, 13) }, phase_train: { shape: [], data: new Uint8Array([0]), dtype: 'bool' as const } };
  await runReference(g, feeds, ['out']);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) await runReference(g, feeds, ['out', 'cond/Merge']);
  assert.is(tf.memory().numTensors, before);
});

test.run();
