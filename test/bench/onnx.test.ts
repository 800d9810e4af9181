/**
 * The forward bench's onnxruntime-web column: bench/support/onnx.ts exports the CONVERTED graph to
 * ONNX, bench/support/ort.ts runs it in onnxruntime-web; the outputs are compared with TensorFlow
 * semantics (tfjs running the ORIGINAL graph, phase_train = false), never with the exporter itself.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { FACENET } from '../../fixtures/facenet-anatomy.js';
import { convert } from '../../src/converter/convert.js';
import { FacenetDnnError } from '../../src/converter/errors.js';
import { decodeGraph } from '../../src/converter/proto/codec.js';
import { DataType } from '../../src/converter/proto/types.js';
import type { GraphDef, NodeDef } from '../../src/converter/proto/types.js';
import { attrValue, constNode, tensorToHost } from '../../src/converter/tensor.js';
import { exportOnnx, summarizeOnnx } from '../../bench/support/onnx.js';
import { createOrtColumn, type OrtColumn } from '../../bench/support/ort.js';
import { fullModelBytes } from '../../bench/support/models.js';
import { createReferenceModel, runReference } from '../support/reference.js';
import { maxAbsDiff, prng, rowNorms, uniform } from '../support/numeric.js';

const SIDE = 160;
const FACE = SIDE * SIDE * 3;
const DIM = 512;
const TOL = 1e-5;
const tiny = new Uint8Array(readFileSync(new URL('../../fixtures/facenet-tiny.pb', import.meta.url)));

/** This process's onnxruntime-web runs with one thread (the count is fixed per process). */
const columns: OrtColumn[] = [];
async function column(onnx: Uint8Array, shape?: { size: number; channels: number; input?: string; output?: string }): Promise<OrtColumn> {
  const c = await createOrtColumn(onnx, { threads: 1, ...(shape ?? {}) });
  columns.push(c);
  return c;
}

/** TF semantics: tfjs on the ORIGINAL graph, phase_train = false, for n faces. */
async function facenetReference(original: Uint8Array, x: Float32Array, n: number): Promise<Float32Array> {
  const ref = await createReferenceModel(decodeGraph(original), { [FACENET.input]: {}, [FACENET.phaseTrain]: { dtype: 'bool' } }, [FACENET.embeddings], { backend: 'wasm' });
  try {
    const [out] = await ref.run({
      [FACENET.input]: { shape: [n, SIDE, SIDE, 3], data: x.subarray(0, n * FACE) },
      [FACENET.phaseTrain]: { shape: [], data: new Uint8Array([0]), dtype: 'bool' },
    });
    assert.equal(out!.shape, [n, DIM]);
    return out!.data;
  } finally {
    ref.dispose();
  }
}

async function checkFacenet(original: Uint8Array, label: string): Promise<void> {
  const converted = convert(original, { preset: 'facenet' }).model;
  const onnx = exportOnnx(converted);
  const s = summarizeOnnx(onnx.bytes);
  assert.equal(s.inputs, [{ name: 'input', dims: ['N', SIDE, SIDE, 3] }]);
  assert.equal(s.outputs, [{ name: 'embeddings', dims: ['N', DIM] }]);
  assert.is(s.ops['Conv'], 132, '132 convolutions');
  assert.is(s.ops['Gemm'], 1, 'the bottleneck MatMul + bias is one Gemm');
  assert.is(s.ops['Transpose'], 2, 'one Transpose to NCHW at the input, one back to NHWC before the flatten');
  // Every float constant of the converted graph is in the model once, plus 3 int64 values (the
  // flatten's shape [-1, 1792] and the l2-normalize's reduction axis).
  let floats = 0;
  for (const n of decodeGraph(converted).node) {
    const t = n.op === 'Const' ? n.attr['value']?.tensor : undefined;
    if (t?.dtype === DataType.DT_FLOAT) floats += tensorToHost(t, n.name).data.length;
  }
  assert.is(s.parameters, floats + 3, 'parameters');
  const ort = await column(onnx.bytes);
  const x = uniform(3 * FACE, 17);
  const ref3 = await facenetReference(original, x, 3);
  const one = await ort.run(x, 1);
  const three = await ort.run(x, 3);
  assert.is(one.length, DIM);
  assert.is(three.length, 3 * DIM);
  const d1 = maxAbsDiff(one, ref3.subarray(0, DIM));
  const d3 = maxAbsDiff(three, ref3);
  console.log(`  ${label}: onnxruntime-web vs TF (tfjs, original graph): max|Δ| batch 1 ${d1.toExponential(2)}, batch 3 ${d3.toExponential(2)}`);
  assert.ok(d1 <= TOL, `batch-1 max |Δ| ${d1} ≤ ${TOL}`);
  assert.ok(d3 <= TOL, `batch-3 max |Δ| ${d3} ≤ ${TOL}`);
  for (const norm of rowNorms(three, 3)) assert.ok(Math.abs(norm - 1) < 1e-5, `unit-norm rows (${norm})`);
  // Different faces give different embeddings: the comparison is not between constants.
  assert.ok(maxAbsDiff(three.subarray(0, DIM), three.subarray(DIM, 2 * DIM)) > 1e-2);
}

test('onnxruntime-web initializes from node_modules: no fetch (first column of the process)', async () => {
  const realFetch = globalThis.fetch;
  const fetched: string[] = [];
  globalThis.fetch = ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    fetched.push(String(input instanceof Request ? input.url : input));
    return realFetch(input, init);
  }) as typeof fetch;
  try {
    const c = await column(exportOnnx(convert(tiny, { preset: 'facenet' }).model).bytes);
    assert.ok(c.initializedWasm, 'this column initialized the wasm');
    assert.is(c.threads, 1);
    assert.match(c.label, /^onnxruntime-web 1\.\d+\.\d+, wasm SIMD, 1 thread /);
  } finally {
    globalThis.fetch = realFetch;
  }
  assert.equal(fetched, []);
});

test('tiny FaceNet-anatomy fixture: converted → ONNX → onnxruntime-web equals TF on the original graph (batch 1 and 3)', async () => {
  await checkFacenet(tiny, 'facenet-tiny.pb');
});

test('full-size FaceNet-anatomy graph: onnxruntime-web equals TF on the original graph (batch 1 and 3)', async () => {
  await checkFacenet(fullModelBytes(), 'facenet-full');
});

test('the comparison can fail: one conv filter value off by 0.05 in the converted graph is caught', async () => {
  const g = decodeGraph(convert(tiny, { preset: 'facenet' }).model);
  const target = g.node.find((n) => n.op === 'Conv2D' && n.name.includes('Conv2d_1a_3x3'))!;
  const wName = target.input[1]!;
  const node = g.node.find((n) => n.name === wName)!;
  const host = tensorToHost(node.attr['value']!.tensor!, wName);
  const data = Float32Array.from(host.data);
  data[0]! += 0.05;
  const bad: GraphDef = { ...g, node: g.node.map((n) => (n.name === wName ? constNode(wName, { ...host, data }) : n)) };
  const ort = await column(exportOnnx(bad).bytes);
  const x = uniform(FACE, 17);
  const d = maxAbsDiff(await ort.run(x, 1), await facenetReference(tiny, x, 1));
  console.log(`  perturbed filter: max|Δ| ${d.toExponential(2)}`);
  assert.ok(d > 1e-3, `the perturbation shows (${d})`);
});

// --- Ops and attribute values FaceNet does not exercise: asymmetric SAME padding (TF puts the odd
// pixel at the end), SAME average pooling (padding not counted), a flatten of an H×W > 1 map (TF's
// NHWC element order), a negative concat axis, per-channel and scalar constants on NCHW tensors.
const F = DataType.DT_FLOAT;
function op(name: string, type: string, input: string[], attr: NodeDef['attr'] = {}): NodeDef {
  return { name, op: type, input, attr: { T: attrValue.type(F), ...attr } };
}
function randConst(name: string, shape: number[], seed: number, scale = 0.5): NodeDef {
  const r = prng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return constNode(name, { dtype: F, shape, data: Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale) });
}
const intConst = (name: string, values: number[], shape = [values.length]): NodeDef =>
  constNode(name, { dtype: DataType.DT_INT32, shape, data: Int32Array.from(values) });
const nhwc = { data_format: attrValue.s('NHWC') };

function opsGraph(): GraphDef {
  const S = 10;
  const window = (k: number, s: number, padding: string) => ({ ksize: attrValue.ints([1, k, k, 1]), strides: attrValue.ints([1, s, s, 1]), padding: attrValue.s(padding), ...nhwc });
  return {
    node: [
      { name: 'x', op: 'Placeholder', input: [], attr: { dtype: attrValue.type(F), shape: attrValue.shape([-1, S, S, 4]) } },
      // 10 → 5 with a 3×3 stride-2 SAME conv: 1 pixel of padding in total, at the end (bottom/right).
      randConst('w1', [3, 3, 4, 6], 1),
      op('c1', 'Conv2D', ['x', 'w1'], { strides: attrValue.ints([1, 2, 2, 1]), padding: attrValue.s('SAME'), dilations: attrValue.ints([1, 1, 1, 1]), ...nhwc }),
      randConst('b1', [6], 2),
      op('ba1', 'BiasAdd', ['c1', 'b1'], nhwc),
      op('r1', 'Relu', ['ba1']),
      // 2×2 stride-1 SAME conv, dilation 2 (effective 3×3): symmetric padding; then the pools.
      randConst('w2', [2, 2, 4, 5], 3),
      op('c2', 'Conv2D', ['x', 'w2'], { strides: attrValue.ints([1, 1, 1, 1]), padding: attrValue.s('SAME'), dilations: attrValue.ints([1, 2, 2, 1]), ...nhwc }),
      op('mp', 'MaxPool', ['c2'], window(3, 2, 'SAME')),
      op('ap', 'AvgPool', ['c2'], window(3, 2, 'SAME')),
      // A VALID conv beside them: 10 → 4 with 3×3 stride 2.
      randConst('w3', [3, 3, 5, 3], 4),
      op('c3', 'Conv2D', ['c2', 'w3'], { strides: attrValue.ints([1, 2, 2, 1]), padding: attrValue.s('VALID'), ...nhwc }),
      op('mp3', 'MaxPool', ['c3'], window(2, 1, 'SAME')), // 4 → 4, one pixel at the end
      intConst('pad_axis', [-1], []),
      op('cat', 'ConcatV2', ['r1', 'mp', 'ap', 'pad_axis'], { N: attrValue.i(3), Tidx: attrValue.type(DataType.DT_INT32) }),
      constNode('half', { dtype: F, shape: [], data: new Float32Array([0.5]) }),
      op('scaled', 'Mul', ['half', 'cat']),
      randConst('shift', [16], 5),
      op('shifted', 'AddV2', ['scaled', 'shift']),
      intConst('flat_shape', [-1, 5 * 5 * 16]),
      op('flat', 'Reshape', ['shifted', 'flat_shape'], { Tshape: attrValue.type(DataType.DT_INT32) }),
      intConst('flat3_shape', [-1, 4 * 4 * 3]),
      op('flat3', 'Reshape', ['mp3', 'flat3_shape'], { Tshape: attrValue.type(DataType.DT_INT32) }),
      intConst('cat2_axis', [1], []),
      op('cat2', 'ConcatV2', ['flat', 'flat3', 'cat2_axis'], { N: attrValue.i(2), Tidx: attrValue.type(DataType.DT_INT32) }),
      randConst('wm', [400 + 48, 8], 6, 0.1),
      op('mm', 'MatMul', ['cat2', 'wm'], { transpose_a: attrValue.b(false), transpose_b: attrValue.b(false) }),
      randConst('bm', [8], 7),
      op('bias', 'BiasAdd', ['mm', 'bm'], nhwc),
      op('sq', 'Square', ['bias']),
      intConst('axes', [1]),
      op('sum', 'Sum', ['sq', 'axes'], { keep_dims: attrValue.b(true), Tidx: attrValue.type(DataType.DT_INT32) }),
      constNode('eps', { dtype: F, shape: [], data: new Float32Array([1e-10]) }),
      op('maximum', 'Maximum', ['sum', 'eps']),
      op('rsqrt', 'Rsqrt', ['maximum']),
      op('out', 'Mul', ['bias', 'rsqrt']),
    ],
    versions: { producer: 27 },
  };
}

test('ops FaceNet does not exercise (asymmetric SAME, SAME AvgPool, H×W > 1 flatten, axis -1 concat) equal TF', async () => {
  const g = opsGraph();
  const onnx = exportOnnx(g, { outputs: ['out'] });
  assert.equal(onnx.outputShapes, { out: [-1, 8] });
  const ort = await column(onnx.bytes, { size: 10, channels: 4, input: 'x', output: 'out' });
  for (const n of [1, 3]) {
    const x = uniform(n * 10 * 10 * 4, 23 + n);
    const [ref] = await runReference(g, { x: { shape: [n, 10, 10, 4], data: x } }, ['out'], { backend: 'cpu' });
    const got = await ort.run(x, n);
    const d = maxAbsDiff(got, ref!.data);
    console.log(`  ops graph, batch ${n}: max|Δ| ${d.toExponential(2)}`);
    assert.ok(d <= TOL, `batch ${n}: max |Δ| ${d} ≤ ${TOL}`);
  }
});

test('an unsupported op throws ERR_UNSUPPORTED_OP naming the node and the op', () => {
  const g = decodeGraph(convert(tiny, { preset: 'facenet' }).model);
  const victim = g.node.find((n) => n.op === 'Relu' && n.name.includes('block17_3'))!;
  const bad: GraphDef = { ...g, node: g.node.map((n) => (n === victim ? { ...n, op: 'LRN' } : n)) };
  try {
    exportOnnx(bad);
    assert.unreachable('should throw');
  } catch (e) {
    assert.instance(e, FacenetDnnError);
    assert.is((e as FacenetDnnError).code, 'ERR_UNSUPPORTED_OP');
    assert.match((e as Error).message, `"${victim.name}" (LRN)`);
    assert.match((e as Error).message, 'op LRN is not supported');
  }
  // An attribute value outside what is handled names the node too.
  const nchw: GraphDef = {
    ...g,
    node: g.node.map((n) => (n.op === 'MaxPool' ? { ...n, attr: { ...n.attr, data_format: attrValue.s('NCHW') } } : n)),
  };
  assert.throws(() => exportOnnx(nchw), (e: Error) => /"InceptionResnetV1\/MaxPool_3a_3x3\/MaxPool" \(MaxPool\).*data_format "NCHW"/.test(e.message));
});

test('a second thread count in the same process is refused', async () => {
  try {
    await createOrtColumn(new Uint8Array(), { threads: 2 });
    assert.unreachable('should throw');
  } catch (e) {
    assert.instance(e, RangeError);
    assert.match((e as Error).message, 'initialized onnxruntime-web with 1');
  }
});

test('2 threads in a child process: threads start, results equal 1 thread, the child exits after dispose()', async () => {
  // onnxruntime-web's thread count is fixed per process: a child process has its own. dispose()
  // throws when the child does not exit by itself (a pthread left running would keep it alive).
  const onnx = exportOnnx(convert(tiny, { preset: 'facenet' }).model).bytes;
  const two = await createOrtColumn(onnx, { threads: 2, childProcess: true });
  try {
    assert.is(two.threads, 2);
    assert.match(two.label, '2 threads, child process');
    if (two.osThreads) assert.ok(two.osThreads.after > two.osThreads.before, `threads were started (${two.osThreads.before} → ${two.osThreads.after})`);
    const x = uniform(3 * FACE, 29);
    const a = await two.run(x, 3);
    const overhead = two.lastCallOverheadMs!;
    const b = await (await column(onnx)).run(x, 3);
    const d = maxAbsDiff(a, b);
    console.log(`  2 threads (child) vs 1 thread: max|Δ| ${d.toExponential(2)}; OS threads ${two.osThreads?.before} → ${two.osThreads?.after}; IPC overhead of the first batch-3 call (cold) ${overhead.toFixed(1)} ms`);
    assert.ok(d <= 1e-6, `2 threads give the 1-thread result (max |Δ| ${d})`);
    // The same array again is not re-sent; changed in place, it must be.
    assert.equal(await two.run(x, 3), a);
    x[FACE + 5] = -x[FACE + 5]!;
    const changed = await two.run(x, 3);
    assert.ok(maxAbsDiff(changed.subarray(DIM, 2 * DIM), a.subarray(DIM, 2 * DIM)) > 0, 'a changed input gives a changed output');
    assert.ok(maxAbsDiff(changed, await (await column(onnx)).run(x, 3)) <= 1e-6, 'and the right one');
  } finally {
    const t = performance.now();
    await two.dispose();
    console.log(`  child exited ${(performance.now() - t).toFixed(0)} ms after dispose()`);
  }
});

test.after(async () => {
  for (const c of columns) await c.dispose();
});

test.run();
