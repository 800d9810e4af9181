/**
 * End to end on FaceNet-anatomy graphs: convert with the facenet preset, run in OpenCV.js, and
 * compare with TensorFlow semantics (tfjs) executing the *original* graph, Switch/Merge included.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { convert } from '../../src/converter/convert.js';
import { ancestorsOf } from '../../src/converter/inspect.js';
import { encodeGraph } from '../../src/converter/proto/codec.js';
import { loadOpenCV } from '../../src/runtime/opencv/node.js';
import { forwardTF } from '../../src/runtime/opencv/forward.js';
import { buildFacenetGraph, FACENET } from '../../fixtures/facenet-anatomy.js';
import { runReference } from '../support/reference.js';
import { maxAbsDiff, rowNorms, uniform } from '../support/numeric.js';
import type { GraphDef } from '../../src/converter/proto/types.js';

const SIDE = 160;
const FACE = SIDE * SIDE * 3;
const tiny = new Uint8Array(readFileSync(new URL('../../fixtures/facenet-tiny.pb', import.meta.url)));

async function reference(original: GraphDef | Uint8Array, batch: Float32Array, n: number) {
  const graph = original instanceof Uint8Array ? (await import('../../src/converter/proto/codec.js')).decodeGraph(original) : original;
  const [out] = await runReference(
    graph,
    {
      [FACENET.input]: { shape: [n, SIDE, SIDE, 3], data: batch },
      [FACENET.phaseTrain]: { shape: [], data: new Uint8Array([0]), dtype: 'bool' },
    },
    [FACENET.embeddings],
    { backend: 'wasm' },
  );
  return out!;
}

async function checkModel(original: Uint8Array, label: string, tol: number) {
  const { model, report } = convert(original, { preset: 'facenet', source: label });
  assert.equal(report.rejected, [], 'OpenCV accepts every op');
  for (const op of ['Switch', 'Merge', 'FusedBatchNorm', 'Identity', 'FIFOQueueV2', 'RandomUniform']) {
    assert.not.ok(report.opsAfter[op], `${op} is gone`);
  }
  // The flatten stays batch-dynamic: no constant shape with a leading 1.
  const cv = await loadOpenCV();
  const batch = uniform(4 * FACE, 7);
  const [one] = forwardTF(cv, model, { name: 'input', shape: [1, SIDE, SIDE, 3], data: batch.subarray(0, FACE) }, ['embeddings']);
  const [four] = forwardTF(cv, model, { name: 'input', shape: [4, SIDE, SIDE, 3], data: batch }, ['embeddings']);
  assert.equal(one!.shape, [1, 512]);
  assert.equal(four!.shape, [4, 512]);
  for (const norm of rowNorms(four!.data, 4)) assert.ok(Math.abs(norm - 1) < 1e-5, `unit norm (${norm})`);
  const ref = await reference(original, batch, 4);
  assert.equal(ref.shape, [4, 512]);
  const d4 = maxAbsDiff(four!.data, ref.data);
  const d1 = maxAbsDiff(one!.data, ref.data.subarray(0, 512));
  const rows = maxAbsDiff(four!.data.subarray(0, 512), one!.data);
  console.log(`  ${label}: max|Δ| vs TF reference: batch4 ${d4.toExponential(2)}, batch1 ${d1.toExponential(2)}; batch row 0 vs batch-1 ${rows.toExponential(2)}`);
  assert.ok(d4 <= tol, `batch-4 max |Δ| ${d4} ≤ ${tol}`);
  assert.ok(d1 <= tol, `batch-1 max |Δ| ${d1} ≤ ${tol}`);
  assert.ok(rows <= 1e-6, `batch row equals the single run (${rows})`);
  // Different faces give different embeddings: the comparison is not between constants.
  assert.ok(maxAbsDiff(four!.data.subarray(0, 512), four!.data.subarray(512, 1024)) > 1e-2);
}

test('tiny FaceNet-anatomy fixture: converted graph in OpenCV.js equals TF on the original', async () => {
  await checkModel(tiny, 'facenet-tiny.pb', 1e-5);
});

test('Merge nodes listing the true branch first still convert to the inference function', async () => {
  const g = buildFacenetGraph({ width: FACENET.tinyWidth, seed: 3, trueBranchFirst: true });
  await checkModel(encodeGraph(g), 'facenet-tiny-true-first', 1e-5);
});

test('the trueBranchFirst check can fail: taking Merge input 0 blindly gives another function', async () => {
  // What the seed's recipe and OpenCV's importer do: every Merge → its input[0]. On a graph whose
  // Merges list the true (training) branch first this picks training batch norm and dropout.
  const g = buildFacenetGraph({ width: FACENET.tinyWidth, seed: 3, trueBranchFirst: true });
  const naive: GraphDef = {
    ...g,
    node: g.node.map((n) => (n.op === 'Merge' ? { ...n, op: 'Identity', input: [n.input[0]!], attr: { T: n.attr['T']! } } : n)),
  };
  // Structurally: the naive graph's embeddings now depend on training-mode batch norms and dropout.
  const needed = ancestorsOf(naive, ['embeddings']);
  const training = naive.node.filter((n) => needed.has(n.name) && n.op === 'FusedBatchNorm' && n.attr['is_training']?.b === true);
  assert.is(training.length, 112, 'every batch norm runs in training mode');
  assert.ok([...needed].some((n) => n.endsWith('/RandomUniform')), 'dropout is live');
  // Numerically, when tfjs can run it (it may refuse the empty training-branch constants).
  const batch = uniform(2 * FACE, 11);
  const good = await reference(g, batch, 2);
  const naiveOut = await reference(naive, batch, 2).then((r) => r.data, () => undefined);
  if (naiveOut) assert.ok(maxAbsDiff(naiveOut, good.data) > 1e-3, 'naive conversion differs');
});

test('full-size FaceNet-anatomy graph (23.5 M parameters): batch 1 and 4 within 1e-5 of TF', async () => {
  const t0 = performance.now();
  const full = encodeGraph(buildFacenetGraph({ width: 1, seed: 1 }));
  console.log(`  generated full-size graph: ${(full.length / 1e6).toFixed(1)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await checkModel(full, 'facenet-full', 1e-5);
});

test.run();
