/**
 * The built package through its own exported paths (`npm test` builds dist/ first): ESM and CJS
 * entries load, expose the API, and the web entry pulls in no Node built-in.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { existsSync, readFileSync, readdirSync } from 'node:fs';

const require = createRequire(import.meta.url);
const tiny = new Uint8Array(readFileSync(new URL('../fixtures/facenet-tiny.pb', import.meta.url)));

test('ESM import of "facenet-dnn" (node condition) converts the tiny fixture', async () => {
  const mod = await import('facenet-dnn');
  for (const name of ['convert', 'decodeGraph', 'encodeGraph', 'graphToText', 'textToGraph', 'summarizeGraph', 'loadOpenCV', 'forwardTF', 'FacenetDnnError', 'createFaceNet', 'preprocess', 'verify', 'createGallery']) {
    assert.type((mod as Record<string, unknown>)[name], 'function', name);
  }
  const { report } = mod.convert(tiny, { preset: 'facenet' });
  assert.is(report.opsAfter['Switch'], undefined);
  assert.equal(report.outputs, ['embeddings']);
});

test('CJS require of "facenet-dnn" exposes the same API', () => {
  const mod = require('facenet-dnn');
  assert.type(mod.convert, 'function');
  assert.type(mod.decodeGraph(tiny).node.length, 'number');
});

test('"facenet-dnn/web" loads and its bundle imports no Node built-in', async () => {
  const web = (await import('facenet-dnn/web')) as Record<string, unknown>;
  for (const name of ['convert', 'createFaceNet', 'loadOpenCV', 'preprocess', 'createGallery', 'verify']) {
    assert.type(web[name], 'function', name);
  }
  const node = (await import('facenet-dnn')) as Record<string, unknown>;
  assert.ok(web['loadOpenCV'] !== node['loadOpenCV'], 'the web entry has its own loader, not the Node adapter');
  const dist = new URL('../dist/', import.meta.url);
  const entry = readFileSync(new URL('index.web.js', dist), 'utf8');
  const chunks = [...entry.matchAll(/from ["']\.\/([^"']+)["']/g)].map((m) => m[1]!);
  for (const file of ['index.web.js', ...chunks]) {
    const text = readFileSync(new URL(file, dist), 'utf8');
    assert.not.match(text, /from ["']node:|require\(["']node:|from ["'](fs|path|os|child_process)["']/, `${file} imports a Node built-in`);
  }
  assert.ok(readdirSync(dist).includes('index.web.d.ts'), 'types are built');
});

test('the built package finds its OpenCV.js builds: Node entry from dist/, web entry beside its bundle', async () => {
  const { createFaceNet } = await import('facenet-dnn');
  // build: 'simd' fails with ERR_OPENCV when dist/ cannot find wasm/dist/simd (no fallback when forced).
  const f = await createFaceNet({ model: tiny, opencv: { build: 'simd' } });
  const rgba = { width: 4, height: 4, data: new Uint8ClampedArray(64).fill(200) };
  const e = await f.embed(rgba);
  assert.is(e.length, 512);
  await f.dispose();
  // The web entry looks for ../wasm/dist/<build>/ from its own module URL (dist/…).
  const dist = new URL('../dist/', import.meta.url);
  for (const rel of ['simd/opencv.js', 'simd/opencv_js.wasm', 'simd-threads/opencv_js.js', 'simd-threads/opencv_js.worker.js', 'simd-threads/opencv_js.wasm']) {
    assert.ok(existsSync(new URL(`../wasm/dist/${rel}`, dist)), rel);
  }
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { files: string[] };
  assert.ok(pkg.files.includes('wasm/dist'), 'wasm/dist is packaged');
});

test.run();
