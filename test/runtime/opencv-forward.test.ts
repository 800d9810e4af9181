import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeGraph, encodeGraph } from '../../src/converter/proto/codec.js';
import { FacenetDnnError } from '../../src/converter/errors.js';
import { graphToText } from '../../src/converter/pbtxt/index.js';
import { createOpenCVLoader, cvErrorMessage } from '../../src/runtime/opencv/load.js';
import type { CV } from '../../src/runtime/opencv/load.js';
import { loadOpenCV } from '../../src/runtime/opencv/node.js';
import { forwardTF } from '../../src/runtime/opencv/forward.js';
import { GraphBuilder, a } from '../support/builder.js';
import { runReference } from '../support/reference.js';
import { readShared } from '../support/shared.js';

/** Deterministic pseudo-random values in [0, 1). */
function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  });
}

function maxDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  assert.is(x.length, y.length, 'lengths');
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

function expectCvError(run: () => unknown, re: RegExp): FacenetDnnError {
  try {
    run();
  } catch (e) {
    assert.instance(e, FacenetDnnError);
    assert.is((e as FacenetDnnError).code, 'ERR_OPENCV');
    assert.match((e as Error).message, re);
    assert.not.match((e as Error).message, /^\D*\d+$/, 'not a bare pointer number');
    return e as FacenetDnnError;
  }
  assert.unreachable('expected an ERR_OPENCV error');
  throw new Error('unreachable');
}

/** x [N,H,W,C] → Conv2D VALID 3×3 (C→K) → BiasAdd → Relu, with its reference computed by loops. */
function convGraph(c: number, k: number, seed: number) {
  const w = Array.from(rand(3 * 3 * c * k, seed), (v) => v - 0.5);
  const bias = Array.from(rand(k, seed + 1), (v) => v - 0.5);
  const b = new GraphBuilder();
  b.placeholder('x', [-1, -1, -1, c]);
  b.const('w', w, [3, 3, c, k]);
  b.op('Identity', 'w/read', ['w']);
  b.const('b', bias, [k]);
  b.op('Conv2D', 'conv', ['x', 'w/read'], { strides: a.ints([1, 1, 1, 1]), padding: a.s('VALID'), data_format: a.s('NHWC') });
  b.op('BiasAdd', 'bias_add', ['conv', 'b'], { data_format: a.s('NHWC') });
  b.op('Relu', 'relu', ['bias_add']);
  const graph = b.build();
  const reference = (x: Float32Array, n: number, h: number, wd: number): Float32Array => {
    const oh = h - 2;
    const ow = wd - 2;
    const out = new Float32Array(n * oh * ow * k);
    for (let bi = 0; bi < n; bi++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++)
          for (let o = 0; o < k; o++) {
            let s = bias[o]!;
            for (let dy = 0; dy < 3; dy++)
              for (let dx = 0; dx < 3; dx++)
                for (let ci = 0; ci < c; ci++) {
                  s += x[((bi * h + y + dy) * wd + xx + dx) * c + ci]! * w[((dy * 3 + dx) * c + ci) * k + o]!;
                }
            out[((bi * oh + y) * ow + xx) * k + o] = Math.max(0, s);
          }
    return out;
  };
  return { graph, pb: encodeGraph(graph), reference };
}

let cv: CV;
let loadMs = 0;
// Counted right before the load: other test files in the same process (tfjs' wasm backend) add
// listeners of their own earlier.
let listenersBefore = { u: 0, r: 0 };

test.before(async () => {
  listenersBefore = { u: process.listenerCount('uncaughtException'), r: process.listenerCount('unhandledRejection') };
  const t0 = performance.now();
  const [one, two] = await Promise.all([loadOpenCV(), loadOpenCV()]);
  loadMs = performance.now() - t0;
  assert.ok(one === two, 'concurrent callers share one load');
  cv = one;
});

test('loadOpenCV: initialized, not thenable, no process listeners left behind', async () => {
  assert.type(cv['Mat'], 'function');
  assert.type(cv['then'], 'undefined');
  assert.ok((await loadOpenCV()) === cv, 'later callers get the same module');
  assert.is(process.listenerCount('uncaughtException'), listenersBefore.u);
  assert.is(process.listenerCount('unhandledRejection'), listenersBefore.r);
  console.log(`    OpenCV.js load: ${loadMs.toFixed(0)} ms`);
});

test('loader: a failed import fails every later call fast with the same cause', async () => {
  let calls = 0;
  const boom = new Error('no such module');
  const load = createOpenCVLoader({
    importModule: async () => {
      calls++;
      throw boom;
    },
  });
  const errors = await Promise.all([load().catch((e) => e), load().catch((e) => e)]);
  const later = await load().catch((e) => e);
  assert.is(calls, 1);
  for (const e of [...errors, later]) {
    assert.instance(e, FacenetDnnError);
    assert.is(e.code, 'ERR_OPENCV');
    assert.match(e.message, /Cannot load OpenCV\.js: importing the module failed \(no such module\)/);
    assert.is(e.cause, boom);
  }
});

test('loader: a runtime that never initializes times out with a clear error', async () => {
  const load = createOpenCVLoader({ timeoutMs: 30, importModule: async () => ({ default: {} }) });
  const e = await load().catch((x) => x);
  assert.instance(e, FacenetDnnError);
  assert.match(e.message, /did not initialize within 30 ms/);
});

test('loader: an Emscripten-style thenable module resolves (does not spin) and chains onRuntimeInitialized', async () => {
  let previousCalled = false;
  const fake: Record<string, unknown> = {
    onRuntimeInitialized: () => {
      previousCalled = true;
    },
  };
  // What opencv.js does: then(f) calls f(Module) once the runtime runs, returning Module.
  fake['then'] = (f: (m: unknown) => void) => {
    if (fake['calledRun']) f(fake);
    return fake;
  };
  const load = createOpenCVLoader({ timeoutMs: 1000, importModule: async () => ({ default: fake }) });
  const pending = load();
  setTimeout(() => {
    fake['calledRun'] = true;
    (fake['onRuntimeInitialized'] as () => void)();
  }, 5);
  const got = await pending;
  assert.ok(got === fake);
  assert.ok(previousCalled, 'the previous onRuntimeInitialized still ran');
});

test('C++ exceptions (numbers) are decoded to OpenCV text', () => {
  let raw: unknown;
  try {
    cv['readNetFromTensorflow']('/no/such/file.pb');
  } catch (e) {
    raw = e;
  }
  assert.type(raw, 'number');
  assert.match(cvErrorMessage(cv, raw), /Can't open "\/no\/such\/file\.pb"/);
});

test('hand-built conv graph: N=1 (1, 2, 3 channels) matches plain loops', () => {
  for (const c of [1, 2, 3]) {
    const { pb, reference } = convGraph(c, 4, 10 + c);
    const x = rand(6 * 7 * c, 20 + c);
    const [out] = forwardTF(cv, pb, { name: 'x', shape: [1, 6, 7, c], data: x }, ['relu']);
    assert.equal(out!.shape, [1, 4, 5, 4]);
    const d = maxDiff(out!.data, reference(x, 1, 6, 7));
    assert.ok(d < 1e-5, `C=${c}: max diff ${d}`);
  }
});

test('hand-built conv graph: batch N=3 (C=3) matches loops and three N=1 runs', () => {
  const { pb, reference } = convGraph(3, 5, 31);
  const x = rand(3 * 6 * 6 * 3, 32);
  const [batch] = forwardTF(cv, pb, { name: 'x', shape: [3, 6, 6, 3], data: x }, ['relu']);
  assert.equal(batch!.shape, [3, 4, 4, 5]);
  assert.ok(maxDiff(batch!.data, reference(x, 3, 6, 6)) < 1e-5);
  const per = 6 * 6 * 3;
  for (let i = 0; i < 3; i++) {
    const [one] = forwardTF(cv, pb, { name: 'x', shape: [1, 6, 6, 3], data: x.subarray(i * per, (i + 1) * per) }, ['relu']);
    assert.is(maxDiff(one!.data, batch!.data.subarray(i * 80, (i + 1) * 80)), 0, `image ${i}`);
  }
});

test('emotion_mini_xception.pb: [1,7] softmax equal to the TF.js reference; batch 3 equals three N=1 runs', async () => {
  const pb = readShared('models/emotion_mini_xception.pb');
  const input = rand(3 * 64 * 64, 7);
  const img = (i: number) => input.subarray(i * 4096, (i + 1) * 4096);
  let t0 = performance.now();
  const [first] = forwardTF(cv, pb, { name: 'input_1', shape: [1, 64, 64, 1], data: img(0) }, ['predictions/Softmax']);
  const firstMs = performance.now() - t0;
  t0 = performance.now();
  const [again] = forwardTF(cv, pb, { name: 'input_1', shape: [1, 64, 64, 1], data: img(0) }, ['predictions/Softmax']);
  const againMs = performance.now() - t0;
  assert.equal(first!.shape, [1, 7]);
  assert.is(maxDiff(first!.data, again!.data), 0);
  const sum = first!.data.reduce((s, v) => s + v, 0);
  assert.ok(Math.abs(sum - 1) < 1e-5, `sums to ${sum}`);

  const [ref] = await runReference(decodeGraph(pb), { input_1: { shape: [1, 64, 64, 1], data: img(0) } }, ['predictions/Softmax']);
  const d = maxDiff(first!.data, ref!.data);
  assert.ok(d < 1e-4, `OpenCV vs TF.js: max diff ${d}`);

  t0 = performance.now();
  const [batch] = forwardTF(cv, pb, { name: 'input_1', shape: [3, 64, 64, 1], data: input }, ['predictions/Softmax']);
  const batchMs = performance.now() - t0;
  assert.equal(batch!.shape, [3, 7]);
  for (let i = 0; i < 3; i++) {
    const [one] = forwardTF(cv, pb, { name: 'input_1', shape: [1, 64, 64, 1], data: img(i) }, ['predictions/Softmax']);
    assert.is(maxDiff(one!.data, batch!.data.subarray(i * 7, i * 7 + 7)), 0, `image ${i}`);
  }
  console.log(`    emotion forward (import + run): first ${firstMs.toFixed(0)} ms, again ${againMs.toFixed(0)} ms, batch 3 ${batchMs.toFixed(0)} ms`);
});

test('errors: unknown output and unsupported op name the node/op; bad bytes name the import', () => {
  const { pb } = convGraph(1, 2, 41);
  const x = rand(25, 42);
  expectCvError(() => forwardTF(cv, pb, { name: 'x', shape: [1, 5, 5, 1], data: x }, ['nope']), /Cannot compute output "nope": Requested layer "nope" not found/);
  const b = new GraphBuilder();
  b.placeholder('x', [1, 2, 2, 1]);
  b.op('Neg', 'negate', ['x']);
  expectCvError(
    () => forwardTF(cv, encodeGraph(b.build()), { name: 'x', shape: [1, 2, 2, 1], data: new Float32Array(4) }, ['negate']),
    /Can't create layer "negate" of type "Neg"/,
  );
  expectCvError(() => forwardTF(cv, new Uint8Array([1, 2, 3]), { shape: [1, 1, 1, 1], data: new Float32Array(1) }, ['y']), /Cannot import the TensorFlow graph into OpenCV: .*Failed to parse GraphDef/);
  assert.throws(() => forwardTF(cv, pb, { shape: [1, 5, 5, 1], data: new Float32Array(3) }, ['relu']), RangeError);
});

test('OpenCV config variant: readNetFromTensorflow(pb, pbtxt) gives the .pb-alone output; the plain text does not load', () => {
  const { graph, pb } = convGraph(2, 3, 51);
  const x = rand(2 * 5 * 5 * 2, 52);
  const input = { name: 'x', shape: [2, 5, 5, 2], data: x };
  const [alone] = forwardTF(cv, pb, input, ['relu']);
  const [withConfig] = forwardTF(cv, pb, input, ['relu'], { config: graphToText(graph, { opencvConfig: true }) });
  assert.equal(withConfig!.shape, alone!.shape);
  assert.is(maxDiff(withConfig!.data, alone!.data), 0);
  // Const nodes with values in both files: OpenCV's addConstNodes asserts each name is new.
  expectCvError(() => forwardTF(cv, pb, input, ['relu'], { config: graphToText(graph) }), /addConstNodes/);
});

test('no leaked files in the Emscripten FS', () => {
  const names = (cv['FS'] ? cv['FS'].readdir('/') : []) as string[];
  assert.equal(names.filter((n) => n.startsWith('facenet-dnn-')), []);
});

test.run();
