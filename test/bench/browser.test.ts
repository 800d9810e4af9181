/**
 * The browser bench's page engines (bench/browser.ts + bench/browser/page.ts) on the tiny FaceNet
 * fixture, in headless Chromium, not isolated and cross-origin isolated: every column's embeddings
 * are compared with TensorFlow semantics computed here in Node (tfjs on the ORIGINAL graph,
 * phase_train = false), never with another page column. Catches wiring mistakes (input slices,
 * layouts, the wrong output, a build that does not load or does not use its threads).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FACENET } from '../../fixtures/facenet-anatomy.js';
import { decodeGraph } from '../../src/converter/proto/codec.js';
import { CACHE, OPENCV_THREADS, ORT_THREADS, TFJS_THREADS, openSession, prepareFiles, type BenchFiles, type OpenSession } from '../../bench/browser.js';
import { createReferenceModel } from '../support/reference.js';
import { maxAbsDiff, uniform } from '../support/numeric.js';

const SIDE = 160;
const FACE = SIDE * SIDE * 3;
const DIM = 512;
const N = 2;
/** As the Node ONNX test: the tiny graph's embeddings agree with TF semantics to float32 rounding. */
const TOL = 1e-5;
const TINY = fileURLToPath(new URL('../../fixtures/facenet-tiny.pb', import.meta.url));
const chromium = existsSync('/usr/bin/chromium');

const raw = new Uint8Array(readFileSync(TINY));
const x = uniform(N * FACE, 7);
let prepared: BenchFiles;
let reference: { 1: Float32Array; 2: Float32Array };

test.before(async () => {
  if (!chromium) return;
  prepared = await prepareFiles(join(CACHE, 'test'), TINY, raw, x);
  const ref = await createReferenceModel(decodeGraph(raw), { [FACENET.input]: {}, [FACENET.phaseTrain]: { dtype: 'bool' } }, [FACENET.embeddings], { backend: 'wasm' });
  try {
    const run = async (n: number) => {
      const [out] = await ref.run({
        [FACENET.input]: { shape: [n, SIDE, SIDE, 3], data: x.subarray(0, n * FACE) },
        [FACENET.phaseTrain]: { shape: [], data: new Uint8Array([0]), dtype: 'bool' },
      });
      assert.equal(out!.shape, [n, DIM]);
      return out!.data;
    };
    reference = { 1: await run(1), 2: await run(N) };
  } finally {
    ref.dispose();
  }
});

function checkColumns(s: OpenSession): void {
  for (const c of s.columns) {
    const out = s.outputs.get(c.id)!;
    const d1 = maxAbsDiff(out[1], reference[1]);
    const d2 = maxAbsDiff(out[8], reference[2]);
    assert.ok(d1 <= TOL && d2 <= TOL, `${s.id} ${c.id}: max |Δ| from TF semantics ${d1.toExponential(2)} (batch 1), ${d2.toExponential(2)} (batch ${N})`);
  }
  assert.is(s.refused.size, 0, `no column refused: ${[...s.refused].join('; ')}`);
}

test('not isolated: OpenCV.js SIMD and stock, TF.js wasm, onnxruntime-web (1 thread) compute TF semantics', async () => {
  if (!chromium) return console.log('  (skipped: /usr/bin/chromium is missing)');
  const s = await openSession('plain', prepared, { batch: N });
  try {
    assert.is(s.info.crossOriginIsolated, false);
    assert.equal(s.columns.map((c) => c.id), ['opencv-js-simd', 'tfjs-wasm', 'ort-wasm', 'opencv-js']);
    const tfjs = s.info.columns.find((c) => c.id === 'tfjs-wasm')!;
    assert.match(tfjs.detail, /SIMD build, 1 thread/);
    assert.is(s.info.columns.find((c) => c.id === 'ort-wasm')!.threads, 1);
    checkColumns(s);
  } finally {
    await s.close();
  }
});

test('cross-origin isolated: the threads build, TF.js threaded-SIMD and onnxruntime-web with threads compute TF semantics', async () => {
  if (!chromium) return console.log('  (skipped: /usr/bin/chromium is missing)');
  const s = await openSession('isolated', prepared, { batch: N });
  try {
    assert.is(s.info.crossOriginIsolated, true);
    const info = (id: string) => s.info.columns.find((c) => c.id === id)!;
    assert.is(info('opencv-js-simd-threads').threads, OPENCV_THREADS);
    assert.match(info('opencv-js-simd-threads').detail, /pthreads/);
    assert.match(info('tfjs-wasm').detail, /threaded-SIMD build/);
    assert.is(info('tfjs-wasm').threads, TFJS_THREADS);
    assert.is(info('ort-wasm').threads, ORT_THREADS);
    checkColumns(s);
  } finally {
    await s.close();
  }
});

test.run();
