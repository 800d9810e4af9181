/**
 * `facenet-dnn verify` as users run it: the built `dist/cli.js` (run `npx tsup` first; `npm test`
 * builds in `pretest`) spawned with node. Passes on the tiny FaceNet-anatomy fixture converted with
 * `--preset facenet` and on a real graph fed a photo; fails with exit 1 naming the output and its
 * max |Δ| on a broken conversion, that figure checked against OpenCV and the tfjs reference run here.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convert } from '../../src/converter/convert.js';
import { decodeGraph, encodeGraph } from '../../src/converter/proto/codec.js';
import type { GraphDef } from '../../src/converter/proto/types.js';
import { constNode, constValue } from '../../src/converter/tensor.js';
import { loadOpenCV } from '../../src/runtime/opencv/node.js';
import { forwardTF } from '../../src/runtime/opencv/forward.js';
import { randomInput } from '../../src/verify.js';
import { runReference } from '../support/reference.js';
import { maxAbsDiff } from '../support/numeric.js';
import { IMAGES, MODELS } from '../support/shared.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist/cli.js');
const TINY = join(ROOT, 'fixtures/facenet-tiny.pb');
const EMOTION = join(MODELS, 'emotion_mini_xception.pb');
const work = mkdtempSync(join(tmpdir(), 'facenet-dnn-verify-'));
const CONVERTED = join(work, 'tiny.dnn.pb');
const BROKEN = join(work, 'tiny.broken.pb');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: work, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const show = (r: Run) => `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** The one stderr line of a failed run, after checking the exit code. */
function failure(r: Run, code: number): string {
  assert.is(r.status, code, show(r));
  const lines = r.stderr.trimEnd().split('\n');
  assert.is(lines.length, 1, `one line on stderr\n${show(r)}`);
  assert.ok(lines[0]!.startsWith('facenet-dnn: '), lines[0]);
  return lines[0]!;
}

test.before(() => {
  assert.ok(existsSync(CLI), `${CLI} is missing: build it with npx tsup (npm test does it in pretest)`);
  const r = cli(['convert', TINY, '-o', CONVERTED, '--preset', 'facenet', '-q']);
  assert.is(r.status, 0, show(r));
});

test.after(() => {
  rmSync(work, { recursive: true, force: true });
});

test('the tiny fixture converted with --preset facenet passes: table, verdict, exit 0', () => {
  const r = cli(['verify', TINY, CONVERTED, '--preset', 'facenet', '--image', join(IMAGES, 'Anthony_Hopkins_0001.jpg')]);
  assert.is(r.status, 0, show(r));
  assert.is(r.stderr, '', show(r));
  assert.match(r.stdout, /input:\s+input \[-1,160,160,3\]: 2 random in \[-1,1\) \(seed 1\), 1 image/);
  assert.match(r.stdout, /runs:\s+random #1; random #2; Anthony_Hopkins_0001\.jpg; batch of 2 \(random #1, random #2\)/);
  const row = r.stdout.split('\n').find((l) => l.trimStart().startsWith('embeddings'));
  assert.ok(row, r.stdout);
  const [, shape, max, mean, cos] = row!.trim().split(/\s+/);
  assert.is(shape, '[1,512]');
  assert.ok(Number(max) <= 1e-5 && Number(mean) <= Number(max), row);
  assert.ok(Number(cos) > 0.99999, row);
  assert.ok(row!.trimEnd().endsWith('ok'), row);
  assert.match(r.stdout, /verify passed: every output within 1e-4\n$/);
});

test('--json with the preset spelled out as flags: the result object', () => {
  const r = cli(['verify', TINY, CONVERTED, '--set', 'phase_train=false', '--input', 'input:-1,160,160,3', '--output', 'embeddings', '--json', '--random', '1']);
  assert.is(r.status, 0, show(r));
  const j = JSON.parse(r.stdout);
  assert.is(j.pass, true);
  assert.is(j.tolerance, 1e-4);
  assert.equal(j.input, { name: 'input', shape: [-1, 160, 160, 3] });
  assert.is(j.outputs.length, 1);
  assert.is(j.outputs[0].name, 'embeddings');
  assert.ok(j.outputs[0].maxAbsDiff <= 1e-5 && j.outputs[0].cosine > 0.99999, JSON.stringify(j.outputs));
  // One random input and the batch check, which needs a second one.
  assert.equal(j.runs.map((x: { label: string }) => x.label), ['random #1', 'random #2', 'batch of 2 (random #1, random #2)']);
});

test('a broken conversion (one conv filter perturbed) fails: exit 1, the output named, its max |Δ| right', async () => {
  const g = decodeGraph(new Uint8Array(readFileSync(CONVERTED)));
  const wName = g.node.find((n) => n.op === 'Conv2D')!.input[1]!;
  const w = constValue(g.node.find((n) => n.name === wName)!)!;
  const data = Float32Array.from(w.data);
  for (let i = 0; i < data.length; i += w.shape[3]!) data[i]! += 0.05;
  const broken: GraphDef = { ...g, node: g.node.map((n) => (n.name === wName ? constNode(wName, { ...w, data }) : n)) };
  const brokenBytes = encodeGraph(broken);
  writeFileSync(BROKEN, brokenBytes);

  const r = cli(['verify', TINY, BROKEN, '--preset', 'facenet', '--random', '1']);
  const line = failure(r, 1);
  const m = /^facenet-dnn: verify failed: output "embeddings" max \|Δ\| (\S+) > 1e-4$/.exec(line);
  assert.ok(m, line);
  assert.match(r.stdout, /embeddings .* FAIL\n/);
  assert.match(r.stdout, /verify FAILED: tolerance 1e-4\n$/);
  // The figure by hand: random inputs 1 and 2 (seeds 1, 2) at batch 1, OpenCV vs tfjs (the batch
  // of 2 repeats them). Printed with 2 significant digits.
  const cv = await loadOpenCV();
  const original = decodeGraph(new Uint8Array(readFileSync(TINY)));
  let max = 0;
  for (const seed of [1, 2]) {
    const x = randomInput(160 * 160 * 3, seed);
    const [got] = forwardTF(cv, brokenBytes, { name: 'input', shape: [1, 160, 160, 3], data: x }, ['embeddings']);
    const [want] = await runReference(original, { input: { shape: [1, 160, 160, 3], data: x }, phase_train: { shape: [], data: new Uint8Array([0]), dtype: 'bool' } }, ['embeddings'], { backend: 'wasm' });
    max = Math.max(max, maxAbsDiff(got!.data, want!.data));
  }
  assert.ok(max > 1e-3, `the perturbation shows (${max})`);
  assert.is(m![1], max.toPrecision(2), `printed ${m![1]}, by hand ${max}`);
});

test('a real graph fed a photo: emotion mini-Xception, grey 64×64, x / 255, random inputs in [0,1)', () => {
  const out = join(work, 'emotion.dnn.pb');
  writeFileSync(out, convert(new Uint8Array(readFileSync(EMOTION)), { inputs: [{ name: 'input_1', shape: [-1, 64, 64, 1] }], outputs: ['predictions/Softmax'] }).model);
  const r = cli(['verify', EMOTION, out, '--image', join(IMAGES, 'emotion_happy.jpg'), '--preprocess', 'unit', '--range', '0,1', '--json']);
  assert.is(r.status, 0, show(r));
  const j = JSON.parse(r.stdout);
  assert.equal(j.input, { name: 'input_1', shape: [-1, 64, 64, 1] }, 'input and shape from the converted graph');
  assert.equal(j.outputs.map((o: { name: string }) => o.name), ['predictions/Softmax'], 'output: the converted graph\'s sink');
  assert.ok(j.runs.some((x: { label: string }) => x.label === 'emotion_happy.jpg'), 'the photo ran');
  assert.ok(j.outputs[0].maxAbsDiff <= 1e-5 && j.outputs[0].cosine > 0.99999, JSON.stringify(j.outputs));
});

test('mistakes: usage errors exit 2; a missing file, a missing --set value or an unknown output exit 1, named', () => {
  assert.match(failure(cli(['verify', TINY]), 2), /verify takes the original and the converted graph/);
  assert.match(failure(cli(['verify', TINY, CONVERTED, '--tolerance', 'tiny']), 2), /--tolerance "tiny"/);
  assert.match(failure(cli(['verify', TINY, CONVERTED, '--preprocess', 'prewhiten', '--preset', 'facenet']), 2), /--preprocess "prewhiten"/);
  assert.match(failure(cli(['verify', TINY, join(work, 'nope.pb')]), 1), /Cannot read ".*nope\.pb": no such file/);
  assert.match(failure(cli(['verify', TINY, CONVERTED]), 1), /placeholder "phase_train" \(DT_BOOL\).*--set phase_train=/);
  assert.match(failure(cli(['verify', TINY, CONVERTED, '--preset', 'facenet', '--output', 'nope']), 1), /output "nope".*no node "nope"/);
  const help = cli(['--help']);
  assert.match(help.stdout, /facenet-dnn verify ORIGINAL\.pb CONVERTED\.pb/);
});

test.run();
