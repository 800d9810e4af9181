import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeGraph, encodeGraph, libraryFunctionNames } from '../../src/converter/proto/codec.js';
import { FacenetDnnError } from '../../src/converter/errors.js';
import { DataType } from '../../src/converter/proto/types.js';
import { tensorToHost, hostToTensor } from '../../src/converter/tensor.js';
import { readShared, SHARED_MODELS } from '../support/shared.js';

for (const file of SHARED_MODELS) {
  test(`decode → encode of ${file} gives the same bytes`, () => {
    const bytes = readShared(`models/${file}`);
    const graph = decodeGraph(bytes, { source: file });
    assert.ok(graph.node.length > 100, 'has nodes');
    const again = encodeGraph(graph);
    assert.is(again.length, bytes.length);
    assert.ok(Buffer.compare(Buffer.from(again), Buffer.from(bytes)) === 0, 'byte-identical');
    assert.equal(libraryFunctionNames(graph), []);
  });
}

test('splat constants and tensor_content decode to the same values', () => {
  const splat = tensorToHost({ dtype: DataType.DT_FLOAT, tensor_shape: { dim: [{ size: 4 }] }, float_val: [1.5] });
  assert.equal(Array.from(splat.data), [1.5, 1.5, 1.5, 1.5]);
  const partial = tensorToHost({ dtype: DataType.DT_INT32, tensor_shape: { dim: [{ size: 4 }] }, int_val: [7, 8] });
  assert.equal(Array.from(partial.data), [7, 8, 8, 8]);
  const empty = tensorToHost({ dtype: DataType.DT_FLOAT, tensor_shape: { dim: [{ size: 2 }] } });
  assert.equal(Array.from(empty.data), [0, 0]);
  // hostToTensor writes tensor_content for > 1 element (OpenCV misreads splats) and a value list for
  // one element (OpenCV reads the ConcatV2 axis from int_val), as TF's make_tensor_proto does.
  const t = hostToTensor({ dtype: DataType.DT_FLOAT, shape: [2, 2], data: new Float32Array([1, -2, 3.25, 4]) });
  assert.is(t.float_val, undefined);
  assert.is(t.tensor_content!.length, 16);
  assert.equal(Array.from(new Float32Array(t.tensor_content!.slice().buffer)), [1, -2, 3.25, 4]);
  const one = hostToTensor({ dtype: DataType.DT_INT32, shape: [], data: Int32Array.of(3) });
  assert.equal(one.int_val, [3]);
  assert.is(one.tensor_content, undefined);
  assert.equal(hostToTensor({ dtype: DataType.DT_FLOAT, shape: [1], data: Float32Array.of(0.5) }).float_val, [0.5]);
  const i64 = hostToTensor({ dtype: DataType.DT_INT64, shape: [2], data: new Float64Array([-1, 5]) });
  assert.equal(Array.from(tensorToHost(i64).data), [-1, 5]);
});

test('float_val-stored constants of a real graph decode (HED batch-norm params)', () => {
  const graph = decodeGraph(readShared('models/hed_graph.pb'));
  const listed = graph.node.filter((n) => n.op === 'Const' && (n.attr['value']?.tensor?.float_val?.length ?? 0) > 0);
  assert.is(listed.length, 25);
  for (const n of listed) {
    const t = n.attr['value']!.tensor!;
    const h = tensorToHost(t);
    assert.equal(h.shape, [1]);
    assert.is(h.data[0], Math.fround(t.float_val![0]!));
  }
});

function decodeError(bytes: Uint8Array): FacenetDnnError {
  try {
    decodeGraph(bytes, { source: 'bad.pb' });
  } catch (e) {
    assert.instance(e, FacenetDnnError);
    return e as FacenetDnnError;
  }
  throw new assert.Assertion({ message: 'expected decodeGraph to throw', operator: 'throws', actual: null, expects: null, generated: true });
}

test('bad input gives a clear error naming the file', () => {
  let e = decodeError(new Uint8Array());
  assert.is(e.code, 'ERR_DECODE');
  assert.match(e.message, /bad\.pb.*empty/);
  const jpeg = readShared('images/Anthony_Hopkins_0001.jpg');
  e = decodeError(jpeg);
  assert.match(e.message, /bad\.pb.*JPEG/);
  const full = readShared('models/emotion_mini_xception.pb');
  e = decodeError(full.subarray(0, Math.floor(full.length / 2)));
  assert.match(e.message, /bad\.pb.*truncated/);
  e = decodeError(new TextEncoder().encode('node {\n name: "x"\n}\n'));
  assert.match(e.message, /text GraphDef/);
  e = decodeError(new TextEncoder().encode('{"format":"graph-model"}'));
  assert.match(e.message, /JSON/);
});

test.run();
