/**
 * `facenet-dnn embed` and `compare` as users run them (the built dist/cli.js). Expected embeddings come
 * from the tfjs reference on the original graph for the same preprocessed input.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeGraph } from '../../src/converter/proto/codec.js';
import { preprocess } from '../../src/runtime/preprocess/index.js';
import { runReference } from '../support/reference.js';
import { maxAbsDiff } from '../support/numeric.js';
import { IMAGES } from '../support/shared.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist/cli.js');
const TINY = join(ROOT, 'fixtures/facenet-tiny.pb');
const A = join(IMAGES, 'Anthony_Hopkins_0001.jpg');
const B = join(IMAGES, 'Anthony_Hopkins_0002.jpg');

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return r;
}

async function reference(file: string, box?: { x1: number; y1: number; x2: number; y2: number }): Promise<Float32Array> {
  const x = await preprocess(new Uint8Array(readFileSync(file)), box ? { box } : {});
  const [out] = await runReference(
    decodeGraph(new Uint8Array(readFileSync(TINY))),
    { input: { shape: [1, 160, 160, 3], data: x }, phase_train: { shape: [], data: new Uint8Array([0]), dtype: 'bool' } },
    ['embeddings'],
  );
  return out!.data;
}

test('embed --json prints exactly [{file, embedding}] equal to TF on the original graph', async () => {
  const r = cli(['embed', TINY, A, B, '--box', '70,60,180,190', '--box', '0,0,250,250', '--json']);
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
  assert.equal(out.map((o) => Object.keys(o)), [['file', 'embedding'], ['file', 'embedding']]);
  assert.equal(out.map((o) => o['file']), [A, B]);
  const ea = Float32Array.from(out[0]!['embedding'] as number[]);
  const eb = Float32Array.from(out[1]!['embedding'] as number[]);
  assert.is(ea.length, 512);
  assert.ok(maxAbsDiff(ea, await reference(A, { x1: 70, y1: 60, x2: 180, y2: 190 })) <= 1e-5, 'image A with its box');
  assert.ok(maxAbsDiff(eb, await reference(B, { x1: 0, y1: 0, x2: 250, y2: 250 })) <= 1e-5, 'image B with its box');
});

test('compare prints the Euclidean distance matrix of the embeddings', () => {
  const emb = JSON.parse(cli(['embed', TINY, A, B, '--json']).stdout) as Array<{ embedding: number[] }>;
  const r = cli(['compare', TINY, A, B]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /Images:\n0: .*Anthony_Hopkins_0001\.jpg\n1: .*Anthony_Hopkins_0002\.jpg/);
  const rows = r.stdout.trim().split('\n').slice(-2).map((l) => l.trim().split(/\s+/).slice(1).map(Number));
  let d = 0;
  for (let i = 0; i < 512; i++) d += (emb[0]!.embedding[i]! - emb[1]!.embedding[i]!) ** 2;
  assert.equal(rows[0]![0], 0);
  assert.equal(rows[1]![1], 0);
  assert.is(rows[0]![1], rows[1]![0]);
  assert.ok(Math.abs(rows[0]![1]! - Math.sqrt(d)) < 1e-4, `${rows[0]![1]} vs ${Math.sqrt(d)}`);
});

test('bad images and arguments fail with one line naming them', () => {
  let r = cli(['embed', TINY, A, join(ROOT, 'README.md')]);
  assert.is(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^facenet-dnn: .*README\.md: Cannot decode image: not a JPEG or PNG/);
  assert.is(r.stderr.trim().split('\n').length, 1);
  r = cli(['embed', TINY, A, B, '--box', '1,2,3,4']);
  assert.is(r.status, 2);
  assert.match(r.stderr, /one per image \(2 images, 1 boxes\)/);
  r = cli(['embed', TINY, A, '--preprocess', 'whiten']);
  assert.is(r.status, 2);
  assert.match(r.stderr, /--preprocess "whiten"/);
  r = cli(['compare', A, A]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /Anthony_Hopkins_0001\.jpg.*JPEG/);
});

test('--build picks the OpenCV.js build: every build matches TF on the original graph; bad --build / --threads are usage errors', async () => {
  const want = await reference(A);
  for (const build of ['stock', 'simd', 'simd-threads']) {
    const r = cli(['embed', TINY, A, '--json', '--build', build, ...(build === 'simd-threads' ? ['--threads', '2'] : [])]);
    assert.is(r.status, 0, `${build}: ${r.stderr}`);
    const e = Float32Array.from((JSON.parse(r.stdout) as Array<{ embedding: number[] }>)[0]!.embedding);
    assert.ok(maxAbsDiff(e, want) <= 1e-5, `${build}: max |Δ| ${maxAbsDiff(e, want)}`);
  }
  const bad = cli(['embed', TINY, A, '--build', 'gpu']);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /--build "gpu": expected auto, simd-threads, simd, stock/);
  const threads = cli(['embed', TINY, A, '--threads', '0']);
  assert.is(threads.status, 2);
  assert.match(threads.stderr, /--threads "0": expected an integer from 1 to 4/);
});

test.run();
