/**
 * fold-batch-norms on hand-built graphs. Numbers: the original is computed with tfjs-core ops
 * (tf.conv2d / tf.depthwiseConv2d / tf.matMul + tf.batchNorm with the same parameters), the folded
 * graph with tfjs ops on the weights and bias read back from the output graph.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { foldBatchNorms } from '../../src/converter/passes/fold-batch-norms.js';
import { makeContext } from '../../src/converter/passes/types.js';
import { validateGraph } from '../../src/converter/graph/validate.js';
import { parseInput } from '../../src/converter/graph/names.js';
import { DataType } from '../../src/converter/proto/types.js';
import type { GraphDef, NodeDef } from '../../src/converter/proto/types.js';
import { attr, constValue } from '../../src/converter/tensor.js';
import { GraphBuilder, a, opCounts } from '../support/builder.js';

test.before(async () => {
  await tf.setBackend('cpu');
});

// ---------- helpers ----------
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
const rnd = lcg(12345);
const uniform = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rnd());

interface BnParams { gamma: Float32Array; beta: Float32Array; mean: Float32Array; variance: Float32Array }
function bnParams(c: number): BnParams {
  return { gamma: uniform(c, 0.5, 1.5), beta: uniform(c, -1, 1), mean: uniform(c, -1, 1), variance: uniform(c, 0.1, 2) };
}
function addBnConsts(b: GraphBuilder, p: string, bn: BnParams): [string, string, string, string] {
  const c = bn.gamma.length;
  return [b.const(`${p}/gamma`, bn.gamma, [c]), b.const(`${p}/beta`, bn.beta, [c]), b.const(`${p}/mean`, bn.mean, [c]), b.const(`${p}/var`, bn.variance, [c])];
}
const convAttrs = (s = 1, pad = 'same') => ({ strides: a.ints([1, s, s, 1]), padding: a.s(pad), data_format: a.s('NHWC') });
const fbnAttrs = (eps = 0.001, training: boolean | 'absent' = false) => ({
  epsilon: a.f(eps), data_format: a.s('NHWC'), ...(training === 'absent' ? {} : { is_training: a.b(training) }),
});

function node(g: GraphDef, name: string): NodeDef {
  const n = g.node.find((x) => x.name === name);
  if (!n) throw new Error(`no node ${name}`);
  return n;
}
function constTensor(g: GraphDef, input: string): tf.Tensor {
  const h = constValue(node(g, parseInput(input).node));
  if (!h) throw new Error(`${input} is not a Const`);
  return tf.tensor(Float32Array.from(h.data), h.shape, 'float32');
}
function consumerCount(g: GraphDef, name: string): number {
  return g.node.reduce((k, n) => k + n.input.filter((s) => parseInput(s).node === name).length, 0);
}
function linearOp(lin: NodeDef, x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  if (lin.op === 'MatMul') return tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D, false, attr.bool(lin, 'transpose_b', false));
  const s = attr.ints(lin, 'strides');
  const pad = attr.string(lin, 'padding').toLowerCase() as 'same' | 'valid';
  if (lin.op === 'Conv2D') return tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, [s[1]!, s[2]!], pad);
  return tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, [s[1]!, s[2]!], pad);
}
/** Runs the folded `linear → BiasAdd(outName)` read back from the graph, asserting its wiring. */
function evalFolded(g: GraphDef, outName: string, x: tf.Tensor): tf.Tensor {
  const ba = node(g, outName);
  assert.is(ba.op, 'BiasAdd', `${outName} is a BiasAdd`);
  const lin = node(g, parseInput(ba.input[0]!).node);
  return tf.add(linearOp(lin, x, constTensor(g, lin.input[1]!)), constTensor(g, ba.input[1]!));
}
function maxAbsDiff(p: tf.Tensor, q: tf.Tensor): number {
  assert.equal(p.shape, q.shape, 'same shape');
  return tf.max(tf.abs(tf.sub(p, q))).dataSync()[0]!;
}
const bnRef = (y: tf.Tensor, p: BnParams, eps: number) =>
  tf.batchNorm(y as tf.Tensor4D, p.mean, p.variance, p.beta, p.gamma, eps);

function run(g: GraphDef, inputs: string[] = ['x'], outputs: string[] = []) {
  validateGraph(g);
  const ctx = makeContext(inputs, outputs);
  const out = foldBatchNorms().run(g, ctx);
  validateGraph(out);
  return { out, warnings: ctx.warnings };
}

// ---------- FusedBatchNorm after Conv2D ----------
test('Conv2D → FusedBatchNormV3 folds exactly into weights + BiasAdd', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [-1, 7, 7, 3]);
  const wData = uniform(3 * 3 * 3 * 4, -1, 1);
  b.const('w', wData, [3, 3, 3, 4]);
  b.op('Conv2D', 'conv', ['x', 'w'], convAttrs(2));
  const p = bnParams(4);
  b.op('FusedBatchNormV3', 'bn', ['conv', ...addBnConsts(b, 'bn', p)], fbnAttrs(0.001));
  b.op('Relu', 'relu', ['bn']);
  const g = b.build();
  const { out, warnings } = run(g, ['x'], ['relu']);
  assert.equal(warnings, []);
  const ops = opCounts(out);
  assert.is(ops['FusedBatchNormV3'], undefined, 'no batch norm left');
  assert.is(ops['BiasAdd'], 1);
  assert.is(node(out, 'relu').input[0], 'bn', 'Relu still reads "bn", now the BiasAdd');
  assert.is(consumerCount(out, 'w'), 1, 'weights rewritten in place, one consumer');
  for (const gone of ['bn/gamma', 'bn/beta', 'bn/mean', 'bn/var']) {
    assert.ok(!out.node.some((n) => n.name === gone), `${gone} removed`);
  }
  // The input graph is untouched.
  assert.is(node(g, 'bn').op, 'FusedBatchNormV3');
  assert.equal(Array.from(constValue(node(g, 'w'))!.data), Array.from(wData));

  const x = tf.tensor4d(uniform(2 * 7 * 7 * 3, -2, 2), [2, 7, 7, 3]);
  const ref = bnRef(tf.conv2d(x, tf.tensor4d(wData, [3, 3, 3, 4]), 2, 'same'), p, 0.001);
  const d = maxAbsDiff(ref, evalFolded(out, 'bn', x));
  assert.ok(d <= 1e-5, `max |Δ| ${d}`);
});

test('Conv2D → BiasAdd → FusedBatchNorm with a splat gamma: bias folded in, output name kept', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [1, 5, 5, 2]);
  const wData = uniform(1 * 1 * 2 * 3, -1, 1);
  const bias = uniform(3, -1, 1);
  b.const('w', wData, [1, 1, 2, 3]);
  b.const('b', bias, [3]);
  b.op('Conv2D', 'conv', ['x', 'w'], convAttrs(1, 'valid'));
  b.op('BiasAdd', 'conv/bias', ['conv', 'b'], { data_format: a.s('NHWC') });
  const p = bnParams(3);
  p.gamma.fill(1.7); // slim stores a constant gamma as one float_val
  b.splat('bn/gamma', 1.7, [3]);
  b.const('bn/beta', p.beta, [3]);
  b.const('bn/mean', p.mean, [3]);
  b.const('bn/var', p.variance, [3]);
  b.op('FusedBatchNorm', 'bn', ['conv/bias', 'bn/gamma', 'bn/beta', 'bn/mean', 'bn/var'], fbnAttrs(1e-3));
  const { out, warnings } = run(b.build(), ['x'], ['bn']);
  assert.equal(warnings, []);
  const ops = opCounts(out);
  assert.is(ops['FusedBatchNorm'], undefined);
  assert.is(ops['BiasAdd'], 1, 'the old BiasAdd is merged into the new one');
  assert.ok(!out.node.some((n) => n.name === 'conv/bias' || n.name === 'b'));
  const x = tf.tensor4d(uniform(25 * 2, -2, 2), [1, 5, 5, 2]);
  const ref = bnRef(tf.add(tf.conv2d(x, tf.tensor4d(wData, [1, 1, 2, 3]), 1, 'valid'), bias), p, 1e-3);
  const d = maxAbsDiff(ref, evalFolded(out, 'bn', x));
  assert.ok(d <= 1e-5, `max |Δ| ${d}`);
});

test('DepthwiseConv2dNative (multiplier 2) → FusedBatchNormV2: channel i·M + m scaled', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [-1, 6, 6, 3]);
  const wData = uniform(3 * 3 * 3 * 2, -1, 1);
  b.const('w', wData, [3, 3, 3, 2]);
  b.op('DepthwiseConv2dNative', 'dw', ['x', 'w'], convAttrs(1));
  const p = bnParams(6);
  b.op('FusedBatchNormV2', 'bn', ['dw', ...addBnConsts(b, 'bn', p)], fbnAttrs(1e-3));
  b.op('Relu6', 'out', ['bn']);
  const { out, warnings } = run(b.build(), ['x'], ['out']);
  assert.equal(warnings, []);
  assert.is(opCounts(out)['FusedBatchNormV2'], undefined);
  const x = tf.tensor4d(uniform(2 * 36 * 3, -2, 2), [2, 6, 6, 3]);
  const ref = bnRef(tf.depthwiseConv2d(x, tf.tensor4d(wData, [3, 3, 3, 2]), 1, 'same'), p, 1e-3);
  const d = maxAbsDiff(ref, evalFolded(out, 'bn', x));
  assert.ok(d <= 1e-5, `max |Δ| ${d}`);
});

test('shared weights are copied, not rewritten under the other conv', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [1, 4, 4, 2]);
  const wData = uniform(3 * 3 * 2 * 2, -1, 1);
  b.const('w', wData, [3, 3, 2, 2]);
  b.op('Conv2D', 'c1', ['x', 'w'], convAttrs(1));
  b.op('Conv2D', 'c2', ['x', 'w'], convAttrs(1));
  const p1 = bnParams(2), p2 = bnParams(2);
  b.op('FusedBatchNorm', 'bn1', ['c1', ...addBnConsts(b, 'bn1', p1)], fbnAttrs());
  b.op('FusedBatchNorm', 'bn2', ['c2', ...addBnConsts(b, 'bn2', p2)], fbnAttrs());
  b.op('Add', 'sum', ['bn1', 'bn2']);
  const { out } = run(b.build(), ['x'], ['sum']);
  assert.is(opCounts(out)['FusedBatchNorm'], undefined);
  const w1 = node(out, 'c1').input[1]!, w2 = node(out, 'c2').input[1]!;
  assert.is.not(w1, w2, 'each conv has its own weights');
  assert.is(consumerCount(out, w1), 1);
  assert.is(consumerCount(out, w2), 1);
  const x = tf.tensor4d(uniform(32, -2, 2), [1, 4, 4, 2]);
  const W = tf.tensor4d(wData, [3, 3, 2, 2]);
  for (const [name, p] of [['bn1', p1], ['bn2', p2]] as const) {
    const d = maxAbsDiff(bnRef(tf.conv2d(x, W, 1, 'same'), p, 1e-3), evalFolded(out, name, x));
    assert.ok(d <= 1e-5, `${name}: max |Δ| ${d}`);
  }
});

// ---------- The written-out (Keras) form ----------
function kerasBn(b: GraphBuilder, x: string, p: BnParams, eps: number, prefix = 'bn') {
  const [g, be, m, v] = addBnConsts(b, prefix, p);
  b.const(`${prefix}/add/y`, [eps], []);
  b.op('Add', `${prefix}/add`, [v, `${prefix}/add/y`]);
  b.op('Rsqrt', `${prefix}/Rsqrt`, [`${prefix}/add`]);
  b.op('Mul', `${prefix}/mul`, [`${prefix}/Rsqrt`, g]);
  b.op('Mul', `${prefix}/mul_1`, [x, `${prefix}/mul`]);
  b.op('Mul', `${prefix}/mul_2`, [m, `${prefix}/mul`]);
  b.op('Sub', `${prefix}/sub`, [be, `${prefix}/mul_2`]);
  b.op('Add', `${prefix}/add_1`, [`${prefix}/mul_1`, `${prefix}/sub`]);
  return `${prefix}/add_1`;
}

test('Keras batch norm written out (before constant folding) folds into Conv2D', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [-1, 5, 5, 3]);
  const wData = uniform(3 * 3 * 3 * 4, -1, 1);
  b.const('w', wData, [3, 3, 3, 4]);
  b.op('Conv2D', 'conv', ['x', 'w'], convAttrs(1));
  const p = bnParams(4);
  const y = kerasBn(b, 'conv', p, 0.001);
  b.op('Relu', 'relu', [y]);
  const { out, warnings } = run(b.build(), ['x'], ['relu']);
  assert.equal(warnings, []);
  const ops = opCounts(out);
  for (const op of ['Rsqrt', 'Mul', 'Sub']) assert.is(ops[op], undefined, `no ${op} left`);
  assert.is(ops['Add'], undefined);
  assert.equal(ops, { Placeholder: 1, Const: 2, Conv2D: 1, BiasAdd: 1, Relu: 1 });
  const x = tf.tensor4d(uniform(2 * 25 * 3, -2, 2), [2, 5, 5, 3]);
  const ref = bnRef(tf.conv2d(x, tf.tensor4d(wData, [3, 3, 3, 4]), 1, 'same'), p, 0.001);
  const d = maxAbsDiff(ref, evalFolded(out, 'bn/add_1', x));
  assert.ok(d <= 1e-5, `max |Δ| ${d}`);
});

test('after constant folding: Add(T, Mul(S, MatMul)) with transpose_b, operands swapped', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [-1, 6]);
  const wData = uniform(5 * 6, -1, 1); // [out=5, in=6] with transpose_b
  b.const('w', wData, [5, 6]);
  b.op('MatMul', 'mm', ['x', 'w'], { transpose_a: a.b(false), transpose_b: a.b(true) });
  const s = uniform(5, 0.5, 2), t = uniform(5, -1, 1);
  b.const('s', s, [5]);
  b.const('t', t, [5]);
  b.op('Mul', 'mul', ['s', 'mm']);
  b.op('AddV2', 'add', ['t', 'mul']);
  b.op('Softmax', 'out', ['add']);
  const { out, warnings } = run(b.build(), ['x'], ['out']);
  assert.equal(warnings, []);
  assert.equal(opCounts(out), { Placeholder: 1, Const: 2, MatMul: 1, BiasAdd: 1, Softmax: 1 });
  const x = tf.tensor2d(uniform(3 * 6, -2, 2), [3, 6]);
  const ref = tf.add(tf.mul(tf.matMul(x, tf.tensor2d(wData, [5, 6]), false, true), s), t);
  const d = maxAbsDiff(ref, evalFolded(out, 'add', x));
  assert.ok(d <= 1e-5, `max |Δ| ${d}`);
});

// ---------- BatchNormWithGlobalNormalization ----------
for (const scaleAfter of [true, false]) {
  test(`BatchNormWithGlobalNormalization (scale_after_normalization=${scaleAfter})`, () => {
    const b = new GraphBuilder();
    b.placeholder('x', [1, 4, 4, 2]);
    const wData = uniform(2 * 2 * 2 * 3, -1, 1);
    b.const('w', wData, [2, 2, 2, 3]);
    b.op('Conv2D', 'conv', ['x', 'w'], convAttrs(1, 'valid'));
    const p = bnParams(3);
    const [g, be, m, v] = addBnConsts(b, 'bn', p);
    b.op('BatchNormWithGlobalNormalization', 'bn', ['conv', m, v, be, g], {
      variance_epsilon: a.f(0.01), scale_after_normalization: a.b(scaleAfter),
    });
    const { out, warnings } = run(b.build(), ['x'], ['bn']);
    assert.equal(warnings, []);
    assert.is(opCounts(out)['BatchNormWithGlobalNormalization'], undefined);
    const x = tf.tensor4d(uniform(32, -2, 2), [1, 4, 4, 2]);
    const y = tf.conv2d(x, tf.tensor4d(wData, [2, 2, 2, 3]), 1, 'valid');
    const ref = tf.batchNorm(y, p.mean, p.variance, p.beta, scaleAfter ? p.gamma : undefined, 0.01);
    const d = maxAbsDiff(ref, evalFolded(out, 'bn', x));
    assert.ok(d <= 1e-5, `max |Δ| ${d}`);
  });
}

// ---------- FaceNet's Bottleneck ----------
test('FaceNet Bottleneck: MatMul → Reshape → FusedBatchNorm → Reshape_1(Shape) becomes MatMul + BiasAdd', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [-1, 8]);
  const wData = uniform(8 * 6, -1, 1);
  b.const('Bottleneck/weights', wData, [8, 6]);
  b.op('MatMul', 'Bottleneck/MatMul', ['x', 'Bottleneck/weights'], { transpose_a: a.b(false), transpose_b: a.b(false) });
  b.const('BatchNorm/Reshape/shape', [-1, 1, 1, 6], [4], DataType.DT_INT32);
  b.op('Reshape', 'BatchNorm/Reshape', ['Bottleneck/MatMul', 'BatchNorm/Reshape/shape'], { Tshape: a.type(DataType.DT_INT32) });
  const p = bnParams(6);
  p.gamma.fill(1); // slim scale=False: gamma of ones as a splat
  b.splat('BatchNorm/Const', 1, [6]);
  b.const('BatchNorm/beta', p.beta, [6]);
  b.const('BatchNorm/moving_mean', p.mean, [6]);
  b.const('BatchNorm/moving_variance', p.variance, [6]);
  b.op('FusedBatchNorm', 'BatchNorm/FusedBatchNorm', ['BatchNorm/Reshape', 'BatchNorm/Const', 'BatchNorm/beta', 'BatchNorm/moving_mean', 'BatchNorm/moving_variance'], fbnAttrs(0.001));
  b.op('Shape', 'BatchNorm/Shape', ['Bottleneck/MatMul'], { out_type: a.type(DataType.DT_INT32) });
  b.op('Reshape', 'BatchNorm/Reshape_1', ['BatchNorm/FusedBatchNorm', 'BatchNorm/Shape'], { Tshape: a.type(DataType.DT_INT32) });
  b.op('Square', 'embeddings/Square', ['BatchNorm/Reshape_1']);
  const { out, warnings } = run(b.build(), ['x'], ['embeddings/Square']);
  assert.equal(warnings, []);
  assert.equal(opCounts(out), { Placeholder: 1, Const: 2, MatMul: 1, BiasAdd: 1, Square: 1 });
  assert.is(node(out, 'embeddings/Square').input[0], 'BatchNorm/Reshape_1');
  const x = tf.tensor2d(uniform(3 * 8, -2, 2), [3, 8]); // batch 3: nothing baked to 1
  const mm = tf.matMul(x, tf.tensor2d(wData, [8, 6]));
  const ref = tf.reshape(bnRef(tf.reshape(mm, [-1, 1, 1, 6]), p, 0.001), [3, 6]);
  const d = maxAbsDiff(ref, evalFolded(out, 'BatchNorm/Reshape_1', x));
  assert.ok(d <= 1e-5, `max |Δ| ${d}`);
});

// ---------- BiasAdd chains ----------
test('BiasAdd(BiasAdd(conv, b1), b2) is merged', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [1, 3, 3, 2]);
  const wData = uniform(4, -1, 1), b1 = uniform(2, -1, 1), b2 = uniform(2, -1, 1);
  b.const('w', wData, [1, 1, 2, 2]);
  b.const('b1', b1, [2]);
  b.const('b2', b2, [2]);
  b.op('Conv2D', 'conv', ['x', 'w'], convAttrs(1));
  b.op('BiasAdd', 'ba1', ['conv', 'b1']);
  b.op('BiasAdd', 'ba2', ['ba1', 'b2']);
  b.op('Relu', 'out', ['ba2']);
  const { out } = run(b.build(), ['x'], ['out']);
  assert.is(opCounts(out)['BiasAdd'], 1);
  assert.is(node(out, 'ba2').input[0], 'conv');
  const x = tf.tensor4d(uniform(18, -2, 2), [1, 3, 3, 2]);
  const W = constTensor(out, node(out, 'conv').input[1]!);
  const ref = tf.add(tf.add(tf.conv2d(x, W as tf.Tensor4D, 1, 'same'), b1), b2);
  const d = maxAbsDiff(ref, evalFolded(out, 'ba2', x));
  assert.ok(d <= 1e-6, `max |Δ| ${d}`);
});

// ---------- What is left alone ----------
test('is_training absent (TF default true) is not folded, with a warning', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [1, 3, 3, 2]);
  b.const('w', uniform(8, -1, 1), [1, 1, 2, 4]);
  b.op('Conv2D', 'conv', ['x', 'w'], convAttrs(1));
  b.op('FusedBatchNorm', 'bn', ['conv', ...addBnConsts(b, 'bn', bnParams(4))], fbnAttrs(0.001, 'absent'));
  const { out, warnings } = run(b.build(), ['x'], ['bn']);
  assert.is(opCounts(out)['FusedBatchNorm'], 1);
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, /Cannot fold batch norm "bn" \(FusedBatchNorm\): is_training/);
});

test('a batch norm after Relu is left, its splat gamma/beta rewritten as tensor_content', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [1, 3, 3, 4]);
  b.op('Relu', 'relu', ['x']);
  b.splat('bn/gamma', 0.5, [4]);
  b.splat('bn/beta', 0.25, [4]);
  b.const('bn/mean', uniform(4, -1, 1), [4]);
  b.const('bn/var', uniform(4, 0.5, 1), [4]);
  b.op('FusedBatchNormV3', 'bn', ['relu', 'bn/gamma', 'bn/beta', 'bn/mean', 'bn/var'], fbnAttrs());
  const g = b.build();
  const { out, warnings } = run(g, ['x'], ['bn']);
  assert.is(opCounts(out)['FusedBatchNormV3'], 1);
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, /"bn".*"relu" \(Relu\) is not a Conv2D/);
  for (const [name, v] of [['bn/gamma', 0.5], ['bn/beta', 0.25]] as const) {
    const t = node(out, name).attr['value']!.tensor!;
    assert.is(t.tensor_content?.length, 16, `${name} has tensor_content`);
    assert.equal(Array.from(constValue(node(out, name))!.data), [v, v, v, v]);
    assert.is(node(g, name).attr['value']!.tensor!.tensor_content, undefined, 'input graph untouched');
  }
});

test('not folded: non-constant gamma, outputs 1..5 used, linear op is a graph output', () => {
  const mk = (variant: 'placeholder' | 'port1' | 'protected') => {
    const b = new GraphBuilder();
    b.placeholder('x', [1, 3, 3, 2]);
    b.const('w', uniform(8, -1, 1), [1, 1, 2, 4]);
    b.op('Conv2D', 'conv', ['x', 'w'], convAttrs(1));
    const [g, be, m, v] = addBnConsts(b, 'bn', bnParams(4));
    if (variant === 'placeholder') b.placeholder('gamma', [4]);
    b.op('FusedBatchNorm', 'bn', ['conv', variant === 'placeholder' ? 'gamma' : g, be, m, v], fbnAttrs());
    b.op('Relu', 'out', [variant === 'port1' ? 'bn:1' : 'bn']);
    return run(b.build(), variant === 'placeholder' ? ['x', 'gamma'] : ['x'], variant === 'protected' ? ['out', 'conv'] : ['out']);
  };
  for (const v of ['placeholder', 'port1', 'protected'] as const) {
    const { out, warnings } = mk(v);
    assert.is(opCounts(out)['FusedBatchNorm'], 1, v);
    assert.is(warnings.length, 1, v);
  }
});

test.run();
