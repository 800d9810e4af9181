/**
 * `npm run demo`: the whole converter job on a built-in default, no download needed.
 * Converts the committed FaceNet-anatomy graph (fixtures/facenet-tiny.pb: the real model's structure,
 * random weights), runs the result in OpenCV.js on a batch of 2, and checks it against TensorFlow
 * semantics (TensorFlow.js running the original graph, tf.cond branches included).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { convert } from '../src/converter/convert.js';
import { decodeGraph } from '../src/converter/proto/codec.js';
import { loadOpenCV } from '../src/runtime/opencv/node.js';
import { forwardTF } from '../src/runtime/opencv/forward.js';
import { runReference } from '../test/support/reference.js';
import { uniform, maxAbsDiff } from '../test/support/numeric.js';

const path = fileURLToPath(new URL('../fixtures/facenet-tiny.pb', import.meta.url));
const bytes = new Uint8Array(readFileSync(path));
console.log(`facenet-dnn demo: fixtures/facenet-tiny.pb (${(bytes.length / 1e6).toFixed(1)} MB), a FaceNet-anatomy graph`);
console.log('  (the real 20180402-114759 structure: queue-fed input, 112 batch norms in tf.cond pairs, dropout cond;');
console.log('   weights are random and channels are 1/16 of the real model, so embeddings mean nothing)\n');

let t = performance.now();
const { model, report } = convert(bytes, { preset: 'facenet', source: 'facenet-tiny.pb' });
console.log(`convert --preset facenet: ${report.nodesBefore} → ${report.nodesAfter} nodes in ${(performance.now() - t).toFixed(0)} ms`);
console.log(`  removed: ${Object.entries(report.opsRemoved).slice(0, 6).map(([op, n]) => `${op} ${n}`).join(', ')}, …`);
console.log(`  OpenCV will reject: ${report.rejected.length ? report.rejected.map((r) => r.op).join(', ') : 'none'}\n`);

t = performance.now();
const cv = await loadOpenCV();
console.log(`OpenCV.js loaded in ${(performance.now() - t).toFixed(0)} ms`);
const n = 2;
const input = uniform(n * 160 * 160 * 3, 42);
t = performance.now();
const [emb] = forwardTF(cv, model, { name: 'input', shape: [n, 160, 160, 3], data: input }, ['embeddings']);
console.log(`OpenCV DNN forward, batch ${n}: embeddings [${emb!.shape}] in ${(performance.now() - t).toFixed(0)} ms`);

t = performance.now();
const [ref] = await runReference(
  decodeGraph(bytes),
  { input: { shape: [n, 160, 160, 3], data: input }, phase_train: { shape: [], data: new Uint8Array([0]), dtype: 'bool' } },
  ['embeddings'],
  { backend: 'wasm' },
);
console.log(`TensorFlow.js on the ORIGINAL graph (phase_train=false): [${ref!.shape}] in ${(performance.now() - t).toFixed(0)} ms`);
console.log(`max |Δ| OpenCV vs TensorFlow semantics: ${maxAbsDiff(emb!.data, ref!.data).toExponential(2)}\n`);
console.log('On the real model:');
console.log('  npx facenet-dnn convert 20180402-114759.pb -o facenet.dnn.pb --preset facenet');
process.exit(0);
