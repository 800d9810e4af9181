/**
 * The shipped OpenCV.js builds (wasm/dist/simd, wasm/dist/simd-threads) in whatever runtime runs
 * this file under scripts/test-runtimes.ts: the build `'auto'` picks here, loaded from the harness's
 * server as a separate instance, gives the stock build's embeddings within 1e-5 (tiny
 * FaceNet-anatomy model, real photos, one batch of 3), and the threads build really runs on
 * workers where it is picked (a cross-origin isolated Chromium page or worker). From source in
 * Node (no server) test/runtime/builds.test.ts and threads.test.ts cover the same.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { convert } from '../../src/converter/convert.js';
import { FacenetDnnError } from '../../src/converter/errors.js';
import { createFaceNetIn } from '../../src/runtime/embed/facenet.js';
import { wasmFeatures } from '../../src/runtime/opencv/features.js';
import { createOpenCVLoader, type CV } from '../../src/runtime/opencv/load.js';
import { terminateThreads } from '../../src/runtime/opencv/shared.js';
import { candidateBuilds, createWebOpenCVLoader } from '../../src/runtime/opencv/web.js';
import { maxAbsDiff } from '../support/numeric.js';
import { BASE, RUNTIME, buildUrl, repoBytes, sharedBytes } from './support/env.js';

const PHOTOS = ['Anthony_Hopkins_0001.jpg', 'Anthony_Hopkins_0002.jpg', 'hse_test_image.jpg'];
const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
const browser = RUNTIME === 'browser' || RUNTIME === 'worker';

async function embeddings(cv: CV): Promise<Float32Array[]> {
  const model = convert(await repoBytes('fixtures/facenet-tiny.pb'), { preset: 'facenet' }).model;
  const photos = await Promise.all(PHOTOS.map((p) => sharedBytes(`images/${p}`)));
  const f = await createFaceNetIn({ loadOpenCV: async () => cv }, { model, cv });
  try {
    return await f.embedBatch(photos);
  } finally {
    await f.dispose();
  }
}

let stock: Promise<Float32Array[]> | undefined;
const stockEmbeddings = () => (stock ??= createOpenCVLoader({ url: buildUrl('stock'), timeoutMs: 60_000 })().then(embeddings));

test(`auto picks the fastest build ${RUNTIME} can run${isolated ? ' (cross-origin isolated)' : ''}`, async () => {
  if (BASE && browser) {
    // The harness serves the *-isolated runtimes with COOP/COEP: the page must then be isolated.
    const served = (await fetch(`${BASE}package.json`)).headers.get('cross-origin-embedder-policy') === 'require-corp';
    assert.is(isolated, served, 'crossOriginIsolated follows the server headers');
  }
  const order = candidateBuilds('auto');
  assert.is(order.at(-1), 'stock', 'stock is the last resort');
  assert.ok(wasmFeatures().simd);
  const want = browser && isolated && (globalThis.navigator?.hardwareConcurrency ?? 1) > 1 ? 'simd-threads' : 'simd';
  assert.is(order[0], want, `first choice in ${RUNTIME}`);
  if (!isolated && browser) {
    // Without COOP/COEP a page has no SharedArrayBuffer: forcing threads is a clear error.
    assert.throws(() => candidateBuilds('simd-threads'), (e: Error) => e instanceof FacenetDnnError && /cross-origin isolation/.test(e.message));
  }
});

test(`the SIMD build gives the stock build's embeddings within 1e-5 (${RUNTIME})`, async () => {
  if (!BASE) return; // from source in Node: test/runtime/builds.test.ts
  // No wasm option: the loader fetches opencv_js.wasm from beside the script.
  const simd = await createOpenCVLoader({ url: buildUrl('simd'), timeoutMs: 60_000 })();
  assert.type(simd['CascadeClassifier'], 'undefined', 'the trimmed build, not the stock one');
  const [a, b] = [await stockEmbeddings(), await embeddings(simd)];
  for (let i = 0; i < PHOTOS.length; i++) assert.ok(maxAbsDiff(a[i]!, b[i]!) <= 1e-5, `${PHOTOS[i]}: max |Δ| ${maxAbsDiff(a[i]!, b[i]!)}`);
  assert.ok(maxAbsDiff(a[0]!, a[2]!) > 1e-3, 'different photos differ');
});

test(`the SIMD+threads build, where it can run, runs on worker threads and matches stock within 1e-5 (${RUNTIME})`, async () => {
  if (!BASE) return;
  if (candidateBuilds('auto')[0] !== 'simd-threads') {
    // Not a cross-origin isolated page or worker: the build cannot start here, by design.
    assert.ok(!isolated || !browser, 'an isolated page or worker picks the threads build');
    return;
  }
  const mt = await createOpenCVLoader({ url: buildUrl('simd-threads'), timeoutMs: 60_000 })();
  mt['setNumThreads'](2);
  assert.is(mt['getNumThreads'](), 2);
  const [a, b] = [await stockEmbeddings(), await embeddings(mt)];
  for (let i = 0; i < PHOTOS.length; i++) assert.ok(maxAbsDiff(a[i]!, b[i]!) <= 1e-5, `${PHOTOS[i]}: max |Δ| ${maxAbsDiff(a[i]!, b[i]!)}`);
  assert.ok(mt['PThread'].runningWorkers.length >= 1, 'a pthread worker ran');
  assert.ok(terminateThreads(mt), 'the threads build has pthread workers to stop');
});

test(`the web loader's default finds the packaged build beside the module (${RUNTIME})`, async () => {
  if (!BASE) return; // Node from source runs the Node adapter
  // The bundle sits at /__runtimes/ (served) or node_modules/.cache/facenet-dnn-runtimes/ (a file):
  // ../wasm/dist/ or ../../../wasm/dist/ from there is the repository's wasm/dist/.
  const cv = await createWebOpenCVLoader()({ timeoutMs: 60_000 });
  if (RUNTIME === 'node') {
    // Node's fetch cannot read file: URLs, so the web entry falls back to the stock package here
    // (Node itself uses the Node entry, which reads wasm/dist from disk).
    assert.type(cv['CascadeClassifier'], 'function', 'auto fell through to stock');
    return;
  }
  assert.type(cv['CascadeClassifier'], 'undefined', 'a trimmed build from wasm/dist, not the stock package');
  assert.is(cv['PThread'] !== undefined, candidateBuilds('auto')[0] === 'simd-threads', 'the threads build exactly where auto picks it');
  const m = cv['matFromArray'](1, 2, cv['CV_32F'], [0.5, 2]);
  assert.equal(Array.from(m.data32F as Float32Array), [0.5, 2]);
  m.delete();
  terminateThreads(cv);
});

test('a forced build that is not served is an error naming where it was looked for', async () => {
  if (!BASE) return;
  const err = await createWebOpenCVLoader()({ build: 'simd', fetch: async () => new Response('', { status: 404 }) }).then(() => undefined, (e: Error) => e);
  assert.instance(err, FacenetDnnError);
  assert.match(err!.message, /Cannot load the simd OpenCV\.js build: its script is not served at .*wasm\/dist\/simd\/opencv\.js/);
});

test.run();
