import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { GraphBuilder, a, opCounts } from '../support/builder.js';
import { resolveSwitchMerge } from '../../src/converter/passes/switch-merge.js';
import { freezePlaceholders } from '../../src/converter/passes/freeze-placeholders.js';
import { removeIdentity } from '../../src/converter/passes/remove-identity.js';
import { prune } from '../../src/converter/passes/prune.js';
import { cleanup } from '../../src/converter/passes/cleanup.js';
import { makeContext, type Pass, type PassContext } from '../../src/converter/passes/types.js';
import { validateGraph } from '../../src/converter/graph/validate.js';
import { topoSort } from '../../src/converter/graph/sort.js';
import { parseInput } from '../../src/converter/graph/names.js';
import { FacenetDnnError } from '../../src/converter/errors.js';
import { DataType } from '../../src/converter/proto/types.js';
import type { GraphDef, NodeDef } from '../../src/converter/proto/types.js';
import { attr, constValue } from '../../src/converter/tensor.js';

const { DT_BOOL, DT_FLOAT, DT_INT32 } = DataType;

// ---------------------------------------------------------------------------------------------
// A tiny TF1 interpreter with the executor's deadness rules, written for this test only, so the
// converted graph is checked against the *original* graph's semantics, not against the pass's own
// idea of them: a Switch emits a dead tensor on its untaken output; a node with a dead data input
// or a control input from a dead node is dead; a Merge forwards its first live input and emits its
// index on output 1.
// ---------------------------------------------------------------------------------------------
const DEAD = Symbol('dead');
type Val = tf.Tensor | typeof DEAD;

function evaluate(graph: GraphDef, feeds: Record<string, tf.Tensor>, fetches: string[]): tf.Tensor[] {
  const outs = new Map<string, Val[]>();
  const nodeDead = new Set<string>();
  for (const n of topoSort(graph.node)) {
    const data: Val[] = [];
    let anyDead = false;
    for (const s of n.input) {
      const ref = parseInput(s);
      if (ref.control) {
        if (nodeDead.has(ref.node)) anyDead = true;
        continue;
      }
      const v = outs.get(ref.node)?.[ref.port];
      if (v === undefined) throw new Error(`eval: ${n.name} reads missing ${s}`);
      data.push(v);
      if (v === DEAD) anyDead = true;
    }
    if (n.op === 'Merge' || n.op === 'RefMerge') {
      const i = data.findIndex((v) => v !== DEAD);
      if (i < 0) {
        nodeDead.add(n.name);
        outs.set(n.name, [DEAD, DEAD]);
      } else outs.set(n.name, [data[i]!, tf.scalar(i, 'int32')]);
      continue;
    }
    if (anyDead) {
      nodeDead.add(n.name);
      outs.set(n.name, [DEAD, DEAD, DEAD, DEAD, DEAD]);
      continue;
    }
    const x = data as tf.Tensor[];
    outs.set(n.name, run(n, x, feeds));
  }
  return fetches.map((f) => {
    const ref = parseInput(f);
    const v = outs.get(ref.node)?.[ref.port];
    if (v === undefined || v === DEAD) throw new Error(`eval: ${f} is ${v === DEAD ? 'dead' : 'missing'}`);
    return v;
  });
}

function run(n: NodeDef, x: tf.Tensor[], feeds: Record<string, tf.Tensor>): tf.Tensor[] {
  switch (n.op) {
    case 'Placeholder': {
      const f = feeds[n.name];
      if (!f) throw new Error(`eval: no feed for ${n.name}`);
      return [f];
    }
    case 'Const': {
      const h = constValue(n)!;
      const dt = h.dtype === DT_BOOL ? 'bool' : h.dtype === DT_INT32 ? 'int32' : 'float32';
      return [tf.tensor(Array.from(h.data), h.shape, dt)];
    }
    case 'Identity':
      return [x[0]!];
    case 'Switch':
    case 'RefSwitch': {
      const pred = x[1]!.dataSync()[0] !== 0;
      return pred ? [DEAD as never, x[0]!] : [x[0]!, DEAD as never];
    }
    case 'LogicalNot':
      return [tf.logicalNot(x[0]!)];
    case 'Conv2D':
      return [tf.conv2d(x[0] as tf.Tensor4D, x[1] as tf.Tensor4D, 1, 'valid')];
    case 'FusedBatchNorm': {
      const eps = attr.float(n, 'epsilon', 0.0001);
      if (attr.bool(n, 'is_training', true)) {
        const m = tf.moments(x[0]!, [0, 1, 2]);
        return [tf.batchNorm(x[0]!, m.mean, m.variance, x[2]!, x[1]!, eps), m.mean, m.variance];
      }
      return [tf.batchNorm(x[0]!, x[3]!, x[4]!, x[2]!, x[1]!, eps), x[3]!, x[4]!];
    }
    case 'Relu':
      return [tf.relu(x[0]!)];
    case 'Mul':
      return [tf.mul(x[0]!, x[1]!)];
    case 'Add':
    case 'AddV2':
      return [tf.add(x[0]!, x[1]!)];
    case 'Sub':
      return [tf.sub(x[0]!, x[1]!)];
    case 'RealDiv':
      return [tf.div(x[0]!, x[1]!)];
    case 'Floor':
      return [tf.floor(x[0]!)];
    case 'RandomUniform':
      return [tf.randomUniform(Array.from(x[0]!.dataSync()))];
    default:
      throw new Error(`eval: op ${n.op} not supported`);
  }
}

function runPasses(g: GraphDef, passes: Pass[], ctx: PassContext): GraphDef {
  for (const p of passes) {
    const before = JSON.stringify(g);
    const next = p.run(g, ctx);
    assert.is(JSON.stringify(g), before, `pass ${p.name} mutated its input`);
    validateGraph(next, `after pass "${p.name}"`);
    g = next;
  }
  return g;
}

function close(actual: tf.Tensor, expected: tf.Tensor, tol = 1e-5): void {
  assert.equal(actual.shape, expected.shape);
  const d = tf.max(tf.abs(tf.sub(tf.cast(actual, 'float32'), tf.cast(expected, 'float32')))).dataSync()[0]!;
  assert.ok(d <= tol, `max abs diff ${d} > ${tol}`);
}

// ---------------------------------------------------------------------------------------------
// A small cond: false branch x*2+1, true branch x*3. `trueFirst` lists the true branch first in
// the Merge, the order some graph writers use (TF1's tf.cond lists the false branch first).
// ---------------------------------------------------------------------------------------------
function smallCond(opts: { trueFirst?: boolean; pred?: 'const' | 'placeholder' | 'not'; predValue?: boolean; switchOp?: string } = {}) {
  const b = new GraphBuilder();
  b.placeholder('x', [2, 2]);
  const predValue = opts.predValue ?? false;
  if (opts.pred === 'placeholder') b.placeholder('p', [], DT_BOOL);
  else if (opts.pred === 'not') {
    b.const('p0', [predValue ? 0 : 1], [], DT_BOOL);
    b.op('LogicalNot', 'p', ['p0'], { T: undefined });
  } else b.const('p', [predValue ? 1 : 0], [], DT_BOOL);
  const sw = opts.switchOp ?? 'Switch';
  b.op(sw, 'cond/Switch', ['p', 'p'], { T: a.type(DT_BOOL) });
  b.op('Identity', 'cond/switch_t', ['cond/Switch:1'], { T: a.type(DT_BOOL) });
  b.op('Identity', 'cond/switch_f', ['cond/Switch'], { T: a.type(DT_BOOL) });
  b.op('Identity', 'cond/pred_id', ['p'], { T: a.type(DT_BOOL) });
  b.op(sw, 'cond/mul/Switch', ['x', 'cond/pred_id']);
  b.op(sw, 'cond/mul_1/Switch', ['x', 'cond/pred_id']);
  b.const('cond/two', [2], []);
  b.nodes.at(-1)!.input.push('^cond/switch_f');
  b.const('cond/one', [1], []);
  b.nodes.at(-1)!.input.push('^cond/switch_f');
  b.const('cond/three', [3], []);
  b.nodes.at(-1)!.input.push('^cond/switch_t');
  b.op('Mul', 'cond/mul', ['cond/mul/Switch', 'cond/two']);
  b.op('Add', 'cond/add', ['cond/mul', 'cond/one']);
  b.op('Mul', 'cond/mul_1', ['cond/mul_1/Switch:1', 'cond/three']);
  b.op('Merge', 'cond/Merge', opts.trueFirst ? ['cond/mul_1', 'cond/add'] : ['cond/add', 'cond/mul_1'], { N: a.i(2) });
  b.op('Identity', 'y', ['cond/Merge']);
  // A branch that is only a constant: its liveness comes from the ^switch_t control edge alone.
  b.const('cond/five', [5], []);
  b.nodes.at(-1)!.input.push('^cond/switch_t');
  b.op('Merge', 'cond/Merge_1', ['cond/five', 'cond/add'], { N: a.i(2) });
  b.op('Identity', 'z', ['cond/Merge_1']);
  b.op('Identity', 'idx', ['cond/Merge:1'], { T: a.type(DT_INT32) });
  return b.build();
}

const X = () => tf.tensor2d([[1, -2], [0.5, 4]]);

for (const trueFirst of [false, true]) {
  for (const predValue of [false, true]) {
    test(`cond with Merge listing the ${trueFirst ? 'true' : 'false'} branch first, predicate ${predValue}`, () => {
      const g = smallCond({ trueFirst, predValue });
      validateGraph(g);
      const ctx = makeContext(['x'], ['y', 'idx', 'z']);
      const out = runPasses(g, [resolveSwitchMerge()], ctx);
      const ops = opCounts(out);
      assert.is(ops['Switch'], undefined);
      assert.is(ops['Merge'], undefined);
      const names = new Set(out.node.map((n) => n.name));
      // The untaken branch is gone, the taken one remains and reads x directly.
      if (predValue) {
        assert.ok(names.has('cond/mul_1') && !names.has('cond/mul') && !names.has('cond/add'));
        assert.equal(out.node.find((n) => n.name === 'cond/mul_1')!.input, ['x', 'cond/three']);
      } else {
        assert.ok(names.has('cond/add') && !names.has('cond/mul_1') && !names.has('cond/three'));
        assert.equal(out.node.find((n) => n.name === 'cond/mul')!.input, ['x', 'cond/two']);
      }
      // Independent expectation, by hand with tfjs-core.
      const x = X();
      const expected = predValue ? tf.mul(x, 3) : tf.add(tf.mul(x, 2), 1);
      const [yOrig, idxOrig] = evaluate(g, { x }, ['y', 'idx']);
      const [y, idx] = evaluate(out, { x }, ['y', 'idx']);
      close(yOrig!, expected);
      close(y!, expected);
      const expectedZ = predValue ? tf.scalar(5) : expected;
      close(evaluate(g, { x }, ['z'])[0]!, expectedZ);
      close(evaluate(out, { x }, ['z'])[0]!, expectedZ);
      // Merge:1 is the index of the live input in the Merge's own list.
      const liveIndex = predValue === trueFirst ? 0 : 1;
      assert.is(idxOrig!.dataSync()[0], liveIndex);
      assert.is(idx!.dataSync()[0], liveIndex);
      const vi = out.node.find((n) => n.name === 'cond/Merge/value_index')!;
      assert.is(constValue(vi)!.dtype, DT_INT32);
      assert.equal(out.node.find((n) => n.name === 'idx')!.input, ['cond/Merge/value_index']);
    });
  }
}

test('LogicalNot of a constant and RefSwitch are resolved', () => {
  for (const switchOp of ['Switch', 'RefSwitch']) {
    // LogicalNot(true) = false: the false branch x*2+1 is taken.
    const g = smallCond({ pred: 'not', predValue: false, switchOp });
    const out = runPasses(g, [resolveSwitchMerge()], makeContext(['x'], ['y']));
    assert.is(opCounts(out)[switchOp], undefined);
    const x = X();
    close(evaluate(out, { x }, ['y'])[0]!, tf.add(tf.mul(x, 2), 1));
  }
});

test('remove-identity before switch-merge keeps the cond semantics (pivots and branch constants)', () => {
  const g = smallCond({ pred: 'placeholder' });
  const out = runPasses(g, [removeIdentity()], makeContext(['x', 'p'], ['y', 'z']));
  assert.ok(out.node.some((n) => n.name === 'cond/switch_t'), 'the pivot read through ^ edges is kept');
  const x = X();
  for (const p of [false, true]) {
    const feeds = { x, p: tf.scalar(p, 'bool') };
    const expected = p ? tf.mul(x, 3) : tf.add(tf.mul(x, 2), 1);
    const expectedZ = p ? tf.scalar(5) : tf.add(tf.mul(x, 2), 1);
    for (const graph of [g, out]) {
      const [y, z] = evaluate(graph, feeds, ['y', 'z']);
      close(y!, expected);
      close(z!, expectedZ);
    }
  }
});

test('a Switch whose predicate is not constant is an ERR_NOT_CONSTANT naming the Switch and the predicate', () => {
  const g = smallCond({ pred: 'placeholder' });
  try {
    resolveSwitchMerge().run(g, makeContext(['x'], ['y']));
    assert.unreachable('should throw');
  } catch (e) {
    assert.instance(e, FacenetDnnError);
    assert.is((e as FacenetDnnError).code, 'ERR_NOT_CONSTANT');
    assert.match((e as Error).message, /^Cannot resolve Switch "cond\/[^"]*Switch": its predicate "p" is not a constant \(freeze it, e\.g\. --set phase_train=false\)$/);
  }
});

test('an output on the untaken branch is an error naming it', () => {
  const g = smallCond({ predValue: false });
  try {
    resolveSwitchMerge().run(g, makeContext(['x'], ['cond/mul_1']));
    assert.unreachable('should throw');
  } catch (e) {
    assert.is((e as FacenetDnnError).code, 'ERR_GRAPH');
    assert.match((e as Error).message, '"cond/mul_1"');
    assert.match((e as Error).message, '"cond/mul_1/Switch"');
  }
});

test('a Merge named as an output is kept as an Identity of its live input', () => {
  const g = smallCond({ predValue: false });
  const out = runPasses(g, [resolveSwitchMerge()], makeContext(['x'], ['cond/Merge']));
  const m = out.node.find((n) => n.name === 'cond/Merge')!;
  assert.is(m.op, 'Identity');
  assert.equal(m.input, ['cond/add']);
});

test('a graph without Switch or Merge is returned as is', () => {
  const b = new GraphBuilder();
  b.placeholder('x');
  b.op('Relu', 'y', ['x']);
  const g = b.build();
  assert.is(resolveSwitchMerge().run(g, makeContext(['x'], ['y'])), g);
});

// ---------------------------------------------------------------------------------------------
// One FaceNet batch-norm block, node for node as docs/facenet-graph.md "One batch-norm block"
// (cond + cond_1 with the moving-average update), followed by Relu and slim.dropout's cond.
// ---------------------------------------------------------------------------------------------
const C = 2;
const W = [0.5, -1.5];
const BETA = [0.1, -0.2];
const MEAN = [0.3, -0.7];
const VAR = [1.2, 0.4];

function condHead(b: GraphBuilder, scope: string, pred: string): void {
  b.op('Switch', `${scope}/Switch`, [pred, pred], { T: a.type(DT_BOOL) });
  b.op('Identity', `${scope}/switch_t`, [`${scope}/Switch:1`], { T: a.type(DT_BOOL) });
  b.op('Identity', `${scope}/switch_f`, [`${scope}/Switch`], { T: a.type(DT_BOOL) });
  b.op('Identity', `${scope}/pred_id`, [pred], { T: a.type(DT_BOOL) });
}

function constWithCtrl(b: GraphBuilder, name: string, data: number[], shape: number[], ctrl: string, dtype: number = DT_FLOAT) {
  b.const(name, data, shape, dtype);
  b.nodes.at(-1)!.input.push(`^${ctrl}`);
}

function facenetBlock(): GraphDef {
  const b = new GraphBuilder();
  b.placeholder('input', [1, 3, 3, 1]);
  b.placeholder('phase_train', undefined, DT_BOOL);
  const X = 'InceptionResnetV1/Conv2d_1a_3x3';
  const BN = `${X}/BatchNorm`;
  b.const(`${X}/weights`, W, [1, 1, 1, C]);
  b.op('Identity', `${X}/weights/read`, [`${X}/weights`]);
  b.op('Conv2D', `${X}/Conv2D`, ['input', `${X}/weights/read`], { strides: a.ints([1, 1, 1, 1]), padding: a.s('VALID') });
  b.splat(`${BN}/Const`, 1, [C]);
  for (const [v, data] of [['beta', BETA], ['moving_mean', MEAN], ['moving_variance', VAR]] as const) {
    b.const(`${BN}/${v}`, data, [C]);
    b.op('Identity', `${BN}/${v}/read`, [`${BN}/${v}`]);
  }
  // cond: training vs inference batch norm.
  const c = `${BN}/cond`;
  condHead(b, c, 'phase_train');
  constWithCtrl(b, `${c}/Const`, [], [0], `${c}/switch_t`);
  constWithCtrl(b, `${c}/Const_1`, [], [0], `${c}/switch_t`);
  const sources = [`${X}/Conv2D`, `${BN}/Const`, `${BN}/beta/read`, `${BN}/moving_mean/read`, `${BN}/moving_variance/read`];
  for (let i = 0; i < 3; i++) b.op('Switch', `${c}/FusedBatchNorm/Switch${i ? `_${i}` : ''}`, [sources[i]!, `${c}/pred_id`]);
  b.op('FusedBatchNorm', `${c}/FusedBatchNorm`,
    [`${c}/FusedBatchNorm/Switch:1`, `${c}/FusedBatchNorm/Switch_1:1`, `${c}/FusedBatchNorm/Switch_2:1`, `${c}/Const`, `${c}/Const_1`],
    { epsilon: a.f(0.001), is_training: a.b(true), data_format: a.s('NHWC') });
  for (let i = 0; i < 5; i++) b.op('Switch', `${c}/FusedBatchNorm_1/Switch${i ? `_${i}` : ''}`, [sources[i]!, `${c}/pred_id`]);
  b.op('FusedBatchNorm', `${c}/FusedBatchNorm_1`,
    [0, 1, 2, 3, 4].map((i) => `${c}/FusedBatchNorm_1/Switch${i ? `_${i}` : ''}`),
    { epsilon: a.f(0.001), is_training: a.b(false), data_format: a.s('NHWC') });
  b.op('Merge', `${c}/Merge`, [`${c}/FusedBatchNorm_1`, `${c}/FusedBatchNorm`], { N: a.i(2) });
  b.op('Merge', `${c}/Merge_1`, [`${c}/FusedBatchNorm_1:1`, `${c}/FusedBatchNorm:1`], { N: a.i(2) });
  b.op('Merge', `${c}/Merge_2`, [`${c}/FusedBatchNorm_1:2`, `${c}/FusedBatchNorm:2`], { N: a.i(2) });
  // cond_1: the forced moving-average update (RefSwitch→Switch, AssignSub→Sub as patched by
  // facenet's freeze_graph.py), true branch only.
  const c1 = `${BN}/cond_1`;
  condHead(b, c1, 'phase_train');
  constWithCtrl(b, `${c1}/AssignMovingAvg/decay`, [0.005], [], `${c1}/switch_t`);
  for (const [k, v, m] of [['', 'moving_mean', `${c}/Merge_1`], ['_1', 'moving_variance', `${c}/Merge_2`]] as const) {
    const s = `${c1}/AssignMovingAvg${k}`;
    b.op('Switch', `${s}/sub/Switch`, [`${BN}/${v}`, `${c1}/pred_id`]);
    b.op('Switch', `${s}/sub/Switch_1`, [m, `${c1}/pred_id`]);
    b.op('Sub', `${s}/sub`, [`${s}/sub/Switch:1`, `${s}/sub/Switch_1:1`]);
    b.op('Mul', `${s}/mul`, [`${s}/sub`, `${c1}/AssignMovingAvg/decay`]);
    b.op('Switch', `${s}/Switch`, [`${BN}/${v}`, `${c1}/pred_id`]);
    b.op('Sub', s, [`${s}/Switch:1`, `${s}/mul`]);
  }
  b.op('Switch', `${c1}/Identity/Switch`, [`${c}/Merge`, `${c1}/pred_id`]);
  b.op('Identity', `${c1}/Identity`, [`${c1}/Identity/Switch:1`, `^${c1}/AssignMovingAvg`, `^${c1}/AssignMovingAvg_1`]);
  b.op('Switch', `${c1}/Switch_1`, [`${c}/Merge`, `${c1}/pred_id`]);
  b.op('Merge', `${c1}/Merge`, [`${c1}/Switch_1`, `${c1}/Identity`], { N: a.i(2) });
  b.op('Relu', `${X}/Relu`, [`${c1}/Merge`]);
  // slim.dropout: true branch RandomUniform/Floor/RealDiv/Mul, false branch Identity.
  const d = 'InceptionResnetV1/Logits/Dropout/cond';
  condHead(b, d, 'phase_train');
  constWithCtrl(b, `${d}/dropout/keep_prob`, [0.8], [], `${d}/switch_t`);
  constWithCtrl(b, `${d}/dropout/Shape`, [1, 3, 3, C], [4], `${d}/switch_t`, DT_INT32);
  b.op('RandomUniform', `${d}/dropout/random_uniform/RandomUniform`, [`${d}/dropout/Shape`], { T: a.type(DT_INT32), dtype: a.type(DT_FLOAT) });
  b.op('Add', `${d}/dropout/add`, [`${d}/dropout/keep_prob`, `${d}/dropout/random_uniform/RandomUniform`]);
  b.op('Floor', `${d}/dropout/Floor`, [`${d}/dropout/add`]);
  b.op('Switch', `${d}/dropout/div/Switch`, [`${X}/Relu`, `${d}/pred_id`]);
  b.op('RealDiv', `${d}/dropout/div`, [`${d}/dropout/div/Switch:1`, `${d}/dropout/keep_prob`]);
  b.op('Mul', `${d}/dropout/mul`, [`${d}/dropout/div`, `${d}/dropout/Floor`]);
  b.op('Switch', `${d}/Identity/Switch`, [`${X}/Relu`, `${d}/pred_id`]);
  b.op('Identity', `${d}/Identity`, [`${d}/Identity/Switch`]);
  b.op('Merge', `${d}/Merge`, [`${d}/Identity`, `${d}/dropout/mul`], { N: a.i(2) });
  b.const('scale', [2], []);
  b.op('Mul', 'embeddings', [`${d}/Merge`, 'scale']);
  return b.build();
}

const INPUT = () => tf.tensor4d([0.2, -1, 3, 0.7, 0, -0.4, 1.1, 2.5, -2], [1, 3, 3, 1]);

test('FaceNet batch-norm block + dropout: structure after freeze + switch-merge', () => {
  const g = facenetBlock();
  validateGraph(g);
  const ctx = makeContext(['input'], ['embeddings']);
  const out = runPasses(g, [freezePlaceholders({ phase_train: false }), resolveSwitchMerge()], ctx);
  const ops = opCounts(out);
  assert.is(ops['Switch'], undefined);
  assert.is(ops['Merge'], undefined);
  assert.is(ops['Sub'], undefined, 'the moving-average update is gone');
  assert.is(ops['RandomUniform'], undefined);
  assert.is(ops['Floor'], undefined);
  assert.is(ops['RealDiv'], undefined);
  assert.is(ops['FusedBatchNorm'], 1);
  const byName = new Map(out.node.map((n) => [n.name, n]));
  const fbn = byName.get('InceptionResnetV1/Conv2d_1a_3x3/BatchNorm/cond/FusedBatchNorm_1')!;
  assert.is(attr.bool(fbn, 'is_training'), false);
  assert.equal(fbn.input, [
    'InceptionResnetV1/Conv2d_1a_3x3/Conv2D',
    'InceptionResnetV1/Conv2d_1a_3x3/BatchNorm/Const',
    'InceptionResnetV1/Conv2d_1a_3x3/BatchNorm/beta/read',
    'InceptionResnetV1/Conv2d_1a_3x3/BatchNorm/moving_mean/read',
    'InceptionResnetV1/Conv2d_1a_3x3/BatchNorm/moving_variance/read',
  ]);
  // cond_1's false branch passes cond/Merge through: the Relu reads the inference batch norm.
  assert.equal(byName.get('InceptionResnetV1/Conv2d_1a_3x3/Relu')!.input, ['InceptionResnetV1/Conv2d_1a_3x3/BatchNorm/cond/FusedBatchNorm_1']);
  assert.equal(byName.get('embeddings')!.input, ['InceptionResnetV1/Logits/Dropout/cond/Identity', 'scale']);
  assert.equal(byName.get('InceptionResnetV1/Logits/Dropout/cond/Identity')!.input, ['InceptionResnetV1/Conv2d_1a_3x3/Relu']);
  // Nothing of the true branches or the moving-average update survives.
  assert.not.ok([...byName.keys()].some((k) => k.includes('AssignMovingAvg') || k.includes('switch_t') || k.includes('/dropout/')));
  assert.not.ok(byName.has('InceptionResnetV1/Conv2d_1a_3x3/BatchNorm/cond/Const'));
});

test('FaceNet batch-norm block + dropout: same function as the original graph with phase_train=false', () => {
  const g = facenetBlock();
  const ctx = makeContext(['input'], ['embeddings']);
  const out = runPasses(g, [freezePlaceholders({ phase_train: false }), resolveSwitchMerge(), removeIdentity(), prune(), cleanup()], ctx);
  assert.equal(
    Object.keys(opCounts(out)).sort(),
    ['Const', 'Conv2D', 'FusedBatchNorm', 'Mul', 'Placeholder', 'Relu'],
  );
  const x = INPUT();
  // Independent expectation with tfjs-core: relu(batchNorm(conv(x))) * 2, gamma = 1, eps = 0.001.
  const conv = tf.conv2d(x, tf.tensor4d(W, [1, 1, 1, C]), 1, 'valid');
  const expected = tf.mul(tf.relu(tf.batchNorm(conv, tf.tensor1d(MEAN), tf.tensor1d(VAR), tf.tensor1d(BETA), tf.ones([C]), 0.001)), 2);
  const orig = evaluate(g, { input: x, phase_train: tf.scalar(false, 'bool') }, ['embeddings'])[0]!;
  const conv2 = evaluate(out, { input: x }, ['embeddings'])[0]!;
  close(orig, expected);
  close(conv2, expected);
  // The test can tell the branches apart: the training branch (batch statistics, dropout) differs.
  const training = evaluate(g, { input: x, phase_train: tf.scalar(true, 'bool') }, ['embeddings'])[0]!;
  const diff = tf.max(tf.abs(tf.sub(training, expected))).dataSync()[0]!;
  assert.ok(diff > 1e-3, 'the true branch should compute something else');
});

test('FaceNet block with the Merges listing the true branch first still takes the false branch', () => {
  const g = facenetBlock();
  const swapped: GraphDef = {
    ...g,
    node: g.node.map((n) => (n.op === 'Merge' ? { ...n, input: [n.input[1]!, n.input[0]!] } : n)),
  };
  const out = runPasses(swapped, [freezePlaceholders({ phase_train: false }), resolveSwitchMerge(), removeIdentity(), prune(), cleanup()],
    makeContext(['input'], ['embeddings']));
  assert.is(opCounts(out)['Merge'], undefined);
  const x = INPUT();
  const expected = evaluate(swapped, { input: x, phase_train: tf.scalar(false, 'bool') }, ['embeddings'])[0]!;
  close(evaluate(out, { input: x }, ['embeddings'])[0]!, expected);
  const fbn = out.node.filter((n) => n.op === 'FusedBatchNorm');
  assert.is(fbn.length, 1);
  assert.is(attr.bool(fbn[0]!, 'is_training'), false);
});

test('switch-merge is linear: 500 chained FaceNet blocks (~6k nodes) in well under a second', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [1, 4]);
  b.const('phase_train', [0], [], DT_BOOL);
  let prev = 'x';
  for (let i = 0; i < 500; i++) {
    const s = `blk${i}`;
    condHead(b, `${s}/cond`, 'phase_train');
    b.op('Switch', `${s}/cond/a/Switch`, [prev, `${s}/cond/pred_id`]);
    b.op('Switch', `${s}/cond/b/Switch`, [prev, `${s}/cond/pred_id`]);
    b.op('Relu', `${s}/cond/a`, [`${s}/cond/a/Switch:1`]);
    b.op('Identity', `${s}/cond/b`, [`${s}/cond/b/Switch`]);
    b.op('Merge', `${s}/cond/Merge`, [`${s}/cond/b`, `${s}/cond/a`], { N: a.i(2) });
    b.op('Switch', `${s}/cond_1/Switch_1`, [`${s}/cond/Merge`, `${s}/cond/pred_id`]);
    b.op('Identity', `${s}/cond_1/Identity`, [`${s}/cond_1/Switch_1:1`]);
    b.op('Merge', `${s}/cond_1/Merge`, [`${s}/cond_1/Switch_1`, `${s}/cond_1/Identity`], { N: a.i(2) });
    b.op('Relu', `${s}/out`, [`${s}/cond_1/Merge`]);
    prev = `${s}/out`;
  }
  const g = b.build();
  assert.ok(g.node.length > 6000);
  const t0 = performance.now();
  const out = resolveSwitchMerge().run(g, makeContext(['x'], [prev]));
  const ms = performance.now() - t0;
  validateGraph(out);
  assert.is(opCounts(out)['Merge'], undefined);
  assert.is(out.node.find((n) => n.name === 'blk1/cond/b')!.input[0], 'blk0/out');
  console.log(`  switch-merge on ${g.node.length} nodes: ${ms.toFixed(1)} ms`);
  assert.ok(ms < 500, `took ${ms.toFixed(1)} ms for ${g.node.length} nodes`);
});

test.before(async () => {
  await tf.setBackend('cpu');
});

test.run();
