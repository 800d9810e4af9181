/**
 * `npm run demo`: the whole pipeline on a built-in default, no download needed.
 * 1. generate a FaceNet-anatomy frozen graph (the real 20180402-114759 structure, random weights),
 * 2. convert it for OpenCV DNN, 3. embed photos in OpenCV.js (../shared/images when present,
 * else synthetic images), 4. print the distance matrix and timings, and check the embeddings
 * against TensorFlow semantics (TensorFlow.js running the original graph).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildFacenetGraph, FACENET } from '../fixtures/facenet-anatomy.js';
import { convert } from '../src/converter/convert.js';
import { encodeGraph } from '../src/converter/proto/codec.js';
import { createFaceNet } from '../src/runtime/embed/node.js';
import { preprocess, type ImageInput } from '../src/runtime/preprocess/index.js';
import { squaredEuclidean } from '../src/runtime/match/index.js';
import { runReference } from '../test/support/reference.js';

const ms = (t: number) => `${(performance.now() - t).toFixed(0)} ms`;
const say = (s = '') => console.log(s);

say('facenet-dnn demo: FaceNet on OpenCV DNN (WebAssembly), end to end, no download');
say('NOTE: the model here has the real 20180402-114759 graph structure but RANDOM weights and 1/16 of the');
say('      channels, so distances mean nothing about identity. The real model: see the end.\n');

let t = performance.now();
const original = buildFacenetGraph({ width: FACENET.tinyWidth, seed: 2024 });
const bytes = encodeGraph(original);
say(`1. generated a FaceNet-anatomy graph: ${original.node.length} nodes, ${(bytes.length / 1e6).toFixed(1)} MB (${ms(t)})`);

t = performance.now();
const { model, report } = convert(bytes, { preset: 'facenet', source: 'facenet-anatomy.pb' });
say(`2. converted for OpenCV DNN: ${report.nodesBefore} → ${report.nodesAfter} nodes (${ms(t)}); removed ` +
  Object.entries(report.opsRemoved).slice(0, 5).map(([op, n]) => `${op} ${n}`).join(', ') + ', …');

t = performance.now();
const facenet = await createFaceNet({ model });
say(`3. OpenCV.js loaded and the model imported (${ms(t)})`);

const dir = fileURLToPath(new URL('../../shared/images/', import.meta.url));
let faces: Array<{ name: string; image: ImageInput }>;
if (existsSync(dir)) {
  faces = readdirSync(dir).filter((f) => f.endsWith('.jpg')).sort().slice(0, 5)
    .map((name) => ({ name, image: new Uint8Array(readFileSync(dir + name)) }));
} else {
  // No shared photos beside the checkout: smooth synthetic images stand in.
  faces = [0, 1, 2].map((k) => {
    const w = 200, h = 240, data = new Uint8Array(w * h * 3);
    for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) data[i * 3 + c] = (128 + 100 * Math.sin((i % w) / (9 + k) + c + (i / w) / (7 + k))) | 0;
    return { name: `synthetic-${k}`, image: { width: w, height: h, data, channels: 3 as const } };
  });
}
t = performance.now();
const embeddings = await facenet.embedBatch(faces.map((f) => f.image));
const perFace = (performance.now() - t) / faces.length;
say(`4. embedded ${faces.length} faces in one batch: ${perFace.toFixed(0)} ms per face (decode + crop + resize + standardize + forward)\n`);

say('Images:');
faces.forEach((f, i) => say(`  ${i}: ${f.name}`));
say('Distance matrix (squared Euclidean, facenet metric 0):');
say('     ' + faces.map((_, j) => String(j).padStart(8)).join(''));
embeddings.forEach((a, i) => say(`  ${String(i).padEnd(3)}` + embeddings.map((b) => squaredEuclidean(a, b).toFixed(4).padStart(8)).join('')));

t = performance.now();
const x = new Float32Array(faces.length * 160 * 160 * 3);
for (let i = 0; i < faces.length; i++) x.set(await preprocess(faces[i]!.image), i * 160 * 160 * 3);
const [ref] = await runReference(
  original,
  { input: { shape: [faces.length, 160, 160, 3], data: x }, phase_train: { shape: [], data: new Uint8Array([0]), dtype: 'bool' } },
  ['embeddings'],
  { backend: 'wasm' },
);
let maxDiff = 0;
embeddings.forEach((e, i) => e.forEach((v, k) => (maxDiff = Math.max(maxDiff, Math.abs(v - ref!.data[i * 512 + k]!)))));
say(`\nCheck: TensorFlow.js on the ORIGINAL graph (tf.cond branches, phase_train=false), same input: max |Δ| ${maxDiff.toExponential(2)} (${ms(t)})`);
await facenet.dispose();

say('\nOn the real model (davidsandberg/facenet 20180402-114759.pb):');
say('  npx facenet-dnn convert 20180402-114759.pb -o facenet.dnn.pb --preset facenet');
say('  npx facenet-dnn compare facenet.dnn.pb face1.jpg face2.jpg');
say('  or in code: const facenet = await createFaceNet({ model: "20180402-114759.pb" })  // converted on the fly');
process.exit(maxDiff <= 1e-5 ? 0 : 1);
