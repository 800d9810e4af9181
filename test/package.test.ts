/**
 * The built package through its own exported paths (`npm test` builds dist/ first): ESM and CJS
 * entries load, expose the API, and the web entry pulls in no Node built-in.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { readFileSync, readdirSync } from 'node:fs';

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

test.run();
