/**
 * The OpenCV.js builds: the Node loader's choice, and the SIMD build of wasm/build.sh (committed
 * artifacts, OpenCV 4.6 from Debian's sources) against the stock @techstark/opencv-js 4.12 on the
 * same converted graphs: same embeddings within 1e-5.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { createOpenCVLoader, separateWasmName, type CV } from '../../src/runtime/opencv/load.js';
import { buildFiles, fetchOrReadFile, resolveBuild, withProcessListenersRestored } from '../../src/runtime/opencv/node.js';
import { FacenetDnnError } from '../../src/converter/errors.js';
import { wasmFeatures } from '../../src/runtime/opencv/features.js';
import { PHOTOS, tinyEmbeddings } from './support/tiny-embed.js';
import { maxAbsDiff } from '../support/numeric.js';

const files = buildFiles('simd');

async function instance(options: { url: URL; wasmBinary?: Uint8Array }): Promise<CV> {
  return createOpenCVLoader({ sandbox: withProcessListenersRestored, fetch: fetchOrReadFile })(options);
}

test('the SIMD build is committed and can be forced where wasm SIMD validates', () => {
  assert.ok(files, 'wasm/dist/simd/opencv.js and opencv_js.wasm exist');
  assert.is(resolveBuild('stock'), 'stock');
  assert.ok(wasmFeatures().simd, 'Node 20 validates wasm SIMD');
  assert.is(resolveBuild('simd'), 'simd');
  assert.ok(resolveBuild('auto') !== 'stock', 'auto never picks the slow stock build where SIMD runs');
});

test('SIMD build embeddings equal the stock build within 1e-5 (tiny FaceNet-anatomy, real photos, batch 3)', async () => {
  const stock = await instance({ url: pathToFileURL(createRequire(import.meta.url).resolve('@techstark/opencv-js')) });
  const simd = await instance({ url: pathToFileURL(files!.script), wasmBinary: new Uint8Array(readFileSync(files!.wasm)) });
  assert.ok(stock !== simd, 'two separate OpenCV.js instances');
  const [a, b] = [await tinyEmbeddings(stock), await tinyEmbeddings(simd)];
  for (let i = 0; i < PHOTOS.length; i++) {
    const d = maxAbsDiff(a[i]!, b[i]!);
    assert.ok(d <= 1e-5, `photo ${i}: max |Δ| ${d}`);
  }
  assert.ok(maxAbsDiff(a[0]!, a[2]!) > 1e-3, 'different photos differ');
});

test('a url to a build with its wasm beside it loads that wasm; a missing one is an error naming it', async () => {
  const stockText = readFileSync(createRequire(import.meta.url).resolve('@techstark/opencv-js'), 'utf8');
  assert.is(separateWasmName(stockText), undefined, 'the stock build embeds its wasm');
  assert.is(separateWasmName(readFileSync(files!.script, 'utf8')), 'opencv_js.wasm');
  // No wasmBinary: the loader fetches opencv_js.wasm beside the script.
  const cv = await instance({ url: pathToFileURL(files!.script) });
  const m = cv['matFromArray'](1, 3, cv['CV_32F'], [1, 2, 3]);
  assert.equal(Array.from(m.data32F as Float32Array), [1, 2, 3]);
  m.delete();
  // A relative location cannot be resolved by the generic loader in Node (no page): it says so.
  // (The Node adapter turns paths into file: URLs first.)
  const rel = await instance({ url: relative(process.cwd(), files!.script) as unknown as URL }).then(() => undefined, (e: Error) => e);
  assert.match(rel!.message, /needs its opencv_js\.wasm but its location is unknown/);
  const dir = mkdtempSync(join(tmpdir(), 'facenet-dnn-'));
  try {
    copyFileSync(files!.script, join(dir, 'opencv.js'));
    const err = await instance({ url: pathToFileURL(join(dir, 'opencv.js')) }).then(() => undefined, (e: Error) => e);
    assert.instance(err, FacenetDnnError);
    assert.match(err!.message, /Cannot load OpenCV\.js: fetching the wasm "file:.*\/opencv_js\.wasm" failed \(ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
