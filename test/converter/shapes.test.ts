/**
 * Static shape inference against the shapes tfjs-core's ops produce on the same configurations,
 * plus the symbolic (dynamic batch) reasoning the fold and flatten passes rely on.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { analyzeShapes, inferShapes } from '../../src/converter/graph/shapes.js';
import { tensorKey } from '../../src/converter/graph/names.js';
import { DataType } from '../../src/converter/proto/types.js';
import { GraphBuilder, a } from '../support/builder.js';

test.before(async () => {
  await tf.setBackend('cpu');
});

const I = DataType.DT_INT32;
const zeros = (s: number[]) => tf.zeros(s);
const tp = (pad: string) => pad.toLowerCase() as 'same' | 'valid';
const conv = (op: string, pad: string, s: number, d = 1) => ({
  strides: a.ints([1, s, s, 1]),
  padding: a.s(pad),
  dilations: a.ints([1, d, d, 1]),
  data_format: a.s('NHWC'),
  ...(op.includes('Pool') ? { ksize: a.ints([1, 3, 2, 1]) } : {}),
});

function shapeOf(b: GraphBuilder, name: string, port = 0): number[] | undefined {
  return inferShapes(b.build()).get(tensorKey(name, port));
}

test('Conv2D / DepthwiseConv2dNative: SAME and VALID, strides, dilations, odd sizes', () => {
  let compared = 0;
  for (const [h, w] of [[7, 9], [8, 5], [1, 1], [160, 160]]) {
    for (const pad of ['SAME', 'VALID'] as const) {
      for (const [s, d] of [[1, 1], [2, 1], [3, 1], [1, 2]]) {
        const b = new GraphBuilder();
        b.placeholder('x', [2, h!, w!, 3]);
        b.const('f', new Float32Array(3 * 3 * 3 * 5), [3, 3, 3, 5]);
        b.const('df', new Float32Array(3 * 3 * 3 * 2), [3, 3, 3, 2]);
        b.op('Conv2D', 'c', ['x', 'f'], conv('Conv2D', pad, s!, d));
        b.op('DepthwiseConv2dNative', 'dw', ['x', 'df'], conv('Depthwise', pad, s!, d));
        const shapes = inferShapes(b.build());
        // TF rejects a VALID window larger than the input ("output size would be negative").
        if (pad === 'VALID' && Math.min(h!, w!) < 2 * d! + 1) continue;
        let want: number[];
        try {
          want = tf.conv2d(zeros([2, h!, w!, 3]) as tf.Tensor4D, zeros([3, 3, 3, 5]) as tf.Tensor4D, s!, tp(pad), 'NHWC', d).shape;
        } catch (e) {
          throw new Error(`tfjs rejected ${h}x${w} ${pad} s${s} d${d}: ${(e as Error).message}`);
        }
        assert.equal(shapes.get('c:0'), want, `Conv2D ${h}x${w} ${pad} s${s} d${d}`);
        const wantDw = tf.depthwiseConv2d(zeros([2, h!, w!, 3]) as tf.Tensor4D, zeros([3, 3, 3, 2]) as tf.Tensor4D, s!, tp(pad), 'NHWC', d).shape;
        assert.equal(shapes.get('dw:0'), wantDw, `Depthwise ${h}x${w} ${pad} s${s} d${d}`);
        compared++;
      }
    }
  }
  assert.ok(compared >= 24, `compared ${compared}`);
});

test('MaxPool / AvgPool, BiasAdd and unary ops', () => {
  for (const pad of ['SAME', 'VALID'] as const) {
    for (const s of [1, 2]) {
      const b = new GraphBuilder();
      b.placeholder('x', [1, 9, 6, 4]);
      b.op('MaxPool', 'mp', ['x'], conv('MaxPool', pad, s));
      b.op('AvgPool', 'ap', ['x'], conv('AvgPool', pad, s));
      b.const('bias', new Float32Array(4), [4]);
      b.op('BiasAdd', 'ba', ['mp', 'bias']);
      b.op('Relu6', 'r', ['ba']);
      b.op('Softmax', 'sm', ['r']);
      const shapes = inferShapes(b.build());
      const want = tf.maxPool(zeros([1, 9, 6, 4]) as tf.Tensor4D, [3, 2], s, tp(pad)).shape;
      assert.equal(shapes.get('mp:0'), want, `MaxPool ${pad} s${s}`);
      assert.equal(shapes.get('ap:0'), tf.avgPool(zeros([1, 9, 6, 4]) as tf.Tensor4D, [3, 2], s, tp(pad)).shape);
      assert.equal(shapes.get('sm:0'), want);
    }
  }
});

test('broadcasting binary ops, ConcatV2, MatMul, Pack, Mean, Squeeze, ExpandDims, Pad', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [2, 1, 4]);
  b.placeholder('y', [3, 1]);
  b.placeholder('m', [5, 3]);
  b.placeholder('n', [5, 4]);
  for (const op of ['Add', 'AddV2', 'Sub', 'Mul', 'RealDiv', 'Maximum', 'Minimum']) b.op(op, op, ['x', 'y']);
  b.const('axis', [-1], [], I);
  b.op('ConcatV2', 'cat', ['x', 'x', 'axis'], { N: a.i(2), Tidx: a.type(I) });
  b.op('MatMul', 'mm', ['m', 'n'], { transpose_a: a.b(true) });
  b.op('MatMul', 'mm2', ['n', 'm'], { transpose_a: a.b(true), transpose_b: a.b(false) });
  b.op('Pack', 'pk', ['y', 'y', 'y'], { axis: a.i(1), N: a.i(3) });
  b.const('axes', [0, 2], [2], I);
  b.op('Mean', 'mean', ['x', 'axes'], { keep_dims: a.b(true) });
  b.op('Sum', 'sum', ['x', 'axes'], { keep_dims: a.b(false) });
  b.op('Squeeze', 'sq', ['x'], { squeeze_dims: a.ints([1]) });
  b.const('ed', [0], [], I);
  b.op('ExpandDims', 'ex', ['y', 'ed']);
  b.const('pads', [1, 2, 0, 0, 3, 0], [3, 2], I);
  b.op('Pad', 'pad', ['x', 'pads']);
  const s = inferShapes(b.build());
  const x = zeros([2, 1, 4]);
  const y = zeros([3, 1]);
  assert.equal(s.get('Add:0'), tf.add(x, y).shape);
  for (const op of ['AddV2', 'Sub', 'Mul', 'RealDiv', 'Maximum', 'Minimum']) assert.equal(s.get(`${op}:0`), [2, 3, 4], op);
  assert.equal(s.get('cat:0'), tf.concat([x, x], -1).shape);
  assert.equal(s.get('mm:0'), tf.matMul(zeros([5, 3]), zeros([5, 4]), true, false).shape);
  assert.equal(s.get('mm2:0'), tf.matMul(zeros([5, 4]), zeros([5, 3]), true, false).shape);
  assert.equal(s.get('pk:0'), tf.stack([y, y, y], 1).shape);
  assert.equal(s.get('mean:0'), tf.mean(x, [0, 2], true).shape);
  assert.equal(s.get('sum:0'), tf.sum(x, [0, 2]).shape);
  assert.equal(s.get('sq:0'), tf.squeeze(x, [1]).shape);
  assert.equal(s.get('ex:0'), tf.expandDims(y, 0).shape);
  assert.equal(s.get('pad:0'), tf.pad(x, [[1, 2], [0, 0], [3, 0]]).shape);
});

test('Reshape, Shape, StridedSlice, FusedBatchNorm, Conv2DBackpropInput, Switch/Merge, Cast, Fill, Range', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [2, 6, 4, 3]);
  b.const('rs', [4, -1], [2], I);
  b.op('Reshape', 'r', ['x', 'rs'], { Tshape: a.type(I) });
  b.op('Shape', 'sh', ['x'], { out_type: a.type(I) });
  b.const('b', [0, 1], [2], I);
  b.const('e', [0, -1], [2], I);
  b.const('st', [1, 2], [2], I);
  b.op('StridedSlice', 'ss', ['x', 'b', 'e', 'st'], { Index: a.type(I), begin_mask: a.i(1), end_mask: a.i(0), ellipsis_mask: a.i(0), new_axis_mask: a.i(0), shrink_axis_mask: a.i(0) });
  b.const('gamma', new Float32Array(3), [3]);
  b.op('FusedBatchNorm', 'bn', ['x', 'gamma', 'gamma', 'gamma', 'gamma'], { is_training: a.b(false) });
  b.op('FusedBatchNormV3', 'bn3', ['x', 'gamma', 'gamma', 'gamma', 'gamma'], { is_training: a.b(false) });
  b.const('os', [2, 12, 8, 5], [4], I);
  b.const('tf', new Float32Array(3 * 3 * 5 * 3), [3, 3, 5, 3]);
  b.op('Conv2DBackpropInput', 'dc', ['os', 'tf', 'x'], conv('Conv2DBackpropInput', 'SAME', 2));
  b.placeholder('pred', [], DataType.DT_BOOL);
  b.op('Switch', 'sw', ['x', 'pred']);
  b.op('Relu', 'relu_t', ['sw:1']);
  b.op('Merge', 'mg', ['sw', 'relu_t'], { N: a.i(2) });
  b.op('Cast', 'cast', ['x'], { SrcT: a.type(DataType.DT_FLOAT), DstT: a.type(I), T: undefined });
  b.const('fd', [3, 2], [2], I);
  b.const('fv', [1], [], DataType.DT_FLOAT);
  b.op('Fill', 'fill', ['fd', 'fv'], { index_type: a.type(I) });
  b.const('r0', [1], [], I);
  b.const('r1', [11], [], I);
  b.const('r2', [3], [], I);
  b.op('Range', 'range', ['r0', 'r1', 'r2'], { Tidx: a.type(I), T: undefined });
  b.op('SomeCustomOp', 'custom', ['x']);
  const s = inferShapes(b.build());
  const x = zeros([2, 6, 4, 3]);
  assert.equal(s.get('r:0'), tf.reshape(x, [4, -1]).shape);
  assert.equal(s.get('sh:0'), [4]);
  assert.equal(s.get('ss:0'), tf.stridedSlice(x, [0, 1], [0, -1], [1, 2], 1).shape);
  for (let p = 0; p < 5; p++) assert.equal(s.get(`bn:${p}`), p === 0 ? [2, 6, 4, 3] : [3], `bn port ${p}`);
  assert.equal(s.get('bn3:4'), [3]);
  assert.ok(s.has('bn3:5'), 'FusedBatchNormV3 has a 6th output');
  assert.equal(s.get('dc:0'), tf.conv2dTranspose(x as tf.Tensor4D, zeros([3, 3, 5, 3]) as tf.Tensor4D, [2, 12, 8, 5], 2, 'same').shape);
  assert.equal(s.get('sw:0'), [2, 6, 4, 3]);
  assert.equal(s.get('sw:1'), [2, 6, 4, 3]);
  assert.equal(s.get('mg:0'), [2, 6, 4, 3]);
  assert.equal(s.get('mg:1'), []);
  assert.equal(s.get('cast:0'), [2, 6, 4, 3]);
  assert.equal(s.get('fill:0'), tf.fill([3, 2], 1).shape);
  assert.equal(s.get('range:0'), tf.range(1, 11, 3).shape);
  assert.is(s.get('custom:0'), undefined);
});

test('unknown dims: a dynamic batch stays -1 and is tracked through slim.flatten', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [-1, 9, 9, 3]);
  b.const('f', new Float32Array(3 * 3 * 3 * 8), [3, 3, 3, 8]);
  b.op('Conv2D', 'c', ['x', 'f'], conv('Conv2D', 'VALID', 2));
  b.op('Shape', 'sh', ['c'], { out_type: a.type(I) });
  b.const('b0', [0], [1], I);
  b.const('b1', [1], [1], I);
  b.op('StridedSlice', 'ss', ['sh', 'b0', 'b1', 'b1'], { Index: a.type(I), T: a.type(I), begin_mask: a.i(0), end_mask: a.i(0), ellipsis_mask: a.i(0), new_axis_mask: a.i(0), shrink_axis_mask: a.i(1) });
  b.const('m1', [-1], [], I);
  b.op('Pack', 'pk', ['ss', 'm1'], { N: a.i(2), T: a.type(I), axis: a.i(0) });
  b.op('Reshape', 'flat', ['c', 'pk'], { Tshape: a.type(I) });
  b.placeholder('u');
  b.op('Relu', 'ru', ['u']);
  const g = b.build();
  const s = inferShapes(g);
  assert.equal(s.get('c:0'), [-1, 4, 4, 8]);
  assert.equal(s.get('ss:0'), []);
  assert.equal(s.get('pk:0'), [2]);
  assert.equal(s.get('flat:0'), [-1, 128]);
  assert.is(s.get('ru:0'), undefined, 'unknown rank');
  const an = analyzeShapes(g);
  const batch = an.shape('x:0')![0]!;
  assert.ok(batch < -1, 'a symbol');
  assert.is(an.shape('flat:0')![0], batch, 'the flatten keeps the very same batch dim');
  assert.is(an.knownValue('ss:0'), undefined, 'the batch is not a known value');
  assert.is(an.knownValue('pk:0'), undefined);
  // The static part of the shape is known, the dynamic part is not.
  const v = an.value('sh:0')!;
  assert.equal(v.elems.slice(1), [4, 4, 8]);
  assert.ok(typeof v.elems[0] === 'object');
});

test('malformed nodes give unknown shapes, never an error', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [2, 3]);
  b.op('Conv2D', 'bad', ['x', 'x']); // rank 2 input, no attrs
  b.op('Reshape', 'r', ['x', 'x']);
  b.op('Unpack', 'up', ['x']); // missing num
  const s = inferShapes(b.build());
  assert.is(s.get('bad:0'), undefined);
  assert.is(s.get('up:0'), undefined);
  assert.ok(s.has('r:0'));
});

test.run();
