/**
 * opencv-compat keeps one-element DT_QUINT8 constants as `tensor_content`: OpenCV's importer turns a
 * Dequantize of Consts into a float Const and reads the quantized tensor with `getTensorContent`,
 * which asserts `!content.empty()` for DT_QUINT8 (no int_val fallback). Rewriting such a scalar to
 * `int_val` (as done for one-element float/int32 consts) made opencv_face_detector_uint8.pb
 * unloadable ("!content.empty() in function 'getTensorContentRef_'").
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { opencvCompat } from '../../src/converter/passes/opencv-compat.js';
import { makeContext } from '../../src/converter/passes/types.js';
import { encodeGraph } from '../../src/converter/proto/codec.js';
import { DataType } from '../../src/converter/proto/types.js';
import type { GraphDef, NodeDef } from '../../src/converter/proto/types.js';
import { makeShape } from '../../src/converter/tensor.js';
import { loadOpenCV } from '../../src/runtime/opencv/node.js';
import { forwardTF } from '../../src/runtime/opencv/forward.js';
import { GraphBuilder, a } from '../support/builder.js';

const node = (g: GraphDef, name: string): NodeDef => {
  const n = g.node.find((x) => x.name === name);
  if (!n) throw new Error(`no node ${name}`);
  return n;
};

/** A Const written as `tensor_content` from raw bytes, whatever the dtype. */
function rawConst(name: string, dtype: number, shape: number[], bytes: Uint8Array): NodeDef {
  return {
    name,
    op: 'Const',
    input: [],
    attr: { dtype: a.type(dtype), value: { tensor: { dtype, tensor_shape: makeShape(shape), tensor_content: bytes } } },
  };
}

const f32 = (v: number) => new Uint8Array(Float32Array.of(v).buffer);

/**
 * x [1, 2, 2, 1] → Conv2D with a 1×1×1×1 kernel = Dequantize(q, min, max), the way
 * opencv_face_detector_uint8.pb stores its weights (quint8 + float min/max, MIN_FIRST), every
 * constant in tensor_content as that file has it.
 */
function dequantizedConv(q: number, min: number, max: number): GraphDef {
  const b = new GraphBuilder();
  b.placeholder('x', [1, 2, 2, 1]);
  b.nodes.push(rawConst('w_quantized_const', DataType.DT_QUINT8, [1, 1, 1, 1], Uint8Array.of(q)));
  b.nodes.push(rawConst('w_quantized_min', DataType.DT_FLOAT, [], f32(min)));
  b.nodes.push(rawConst('w_quantized_max', DataType.DT_FLOAT, [], f32(max)));
  b.op('Dequantize', 'w', ['w_quantized_const', 'w_quantized_min', 'w_quantized_max'], {
    T: a.type(DataType.DT_QUINT8),
    mode: { s: new TextEncoder().encode('MIN_FIRST') },
  });
  b.op('Conv2D', 'conv', ['x', 'w'], { strides: a.ints([1, 1, 1, 1]), padding: { s: new TextEncoder().encode('VALID') } });
  return b.build();
}

test('a one-element quint8 Const keeps its tensor_content; a one-element float Const becomes float_val', () => {
  const g = dequantizedConv(255, -1, 3);
  const out = opencvCompat().run(g, makeContext(['x'], ['conv']));
  assert.is(node(out, 'w_quantized_const'), node(g, 'w_quantized_const'), 'quint8 scalar untouched');
  const min = node(out, 'w_quantized_min').attr['value']!.tensor!;
  assert.equal(min.float_val, [-1], 'float scalar written as a value list, as TF does');
  assert.not.ok(min.tensor_content?.length);
});

test('the rewritten Dequantize graph loads in OpenCV.js and computes x · w', async () => {
  const cv = await loadOpenCV();
  // TF's MIN_FIRST for quint8: s = (max − min)/255, w = (q + round(min/s))·s. With min = −1 and
  // max = −1 + 255/64, s = 1/64 and min/s = −64 exactly: q = 255 gives max, q = 0 gives min, and
  // every value is exact in float32.
  const min = -1, max = -1 + 255 / 64;
  for (const [q, w] of [[255, max], [0, min], [100, -1 + 100 / 64]] as const) {
    const g = dequantizedConv(q, min, max);
    const out = opencvCompat().run(g, makeContext(['x'], ['conv']));
    const x = Float32Array.of(1, -2, 0.5, 4);
    const [y] = forwardTF(cv, encodeGraph(out), { name: 'x', shape: [1, 2, 2, 1], data: x }, ['conv']);
    assert.equal(y!.shape, [1, 2, 2, 1]);
    assert.equal(Array.from(y!.data), Array.from(x, (v) => v * w), `q = ${q}`);
  }
});

test.run();
