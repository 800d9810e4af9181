/**
 * The `facenet-dnn` command as users run it: the built `dist/cli.js` (run `npx tsup` first; `npm test`
 * builds in `pretest`) spawned with node in a temporary directory. Expected numbers come from the
 * decoded graphs (counted here, not by the code under test) and from the tfjs reference.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeGraph, encodeGraph } from '../../src/converter/proto/codec.js';
import { textToGraph } from '../../src/converter/pbtxt/index.js';
import { dataTypeName } from '../../src/converter/proto/types.js';
import type { GraphDef } from '../../src/converter/proto/types.js';
import { tensorToHost } from '../../src/converter/tensor.js';
import { GraphBuilder, opCounts } from '../support/builder.js';
import { runReference } from '../support/reference.js';
import { maxAbsDiff, rowNorms, uniform } from '../support/numeric.js';
import { IMAGES, MODELS } from '../support/shared.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist/cli.js');
const TINY = join(ROOT, 'fixtures/facenet-tiny.pb');
const EMOTION = join(MODELS, 'emotion_mini_xception.pb');
const JPEG = join(IMAGES, 'Anthony_Hopkins_0001.jpg');

const tinyBytes = new Uint8Array(readFileSync(TINY));
const tiny = decodeGraph(tinyBytes, { source: 'facenet-tiny.pb' });
const work = mkdtempSync(join(tmpdir(), 'facenet-dnn-cli-'));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], cwd = work): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function show(r: Run): string {
  return `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** A fresh, empty directory under the work dir. */
function freshDir(name: string): string {
  const d = join(work, name);
  mkdirSync(d);
  return d;
}

/**
 * Asserts a failed run: the exit code, exactly one stderr line starting `facenet-dnn: ` that
 * mentions every string of `mentions`, nothing on stdout, and `dir` holding only `listing` after it
 * (no output file, no temporary left behind).
 */
function expectFailure(r: Run, code: number, mentions: string[], dir: string, listing: string[]): string {
  assert.is(r.status, code, `exit code\n${show(r)}`);
  assert.is(r.stdout, '', `nothing on stdout\n${show(r)}`);
  assert.ok(r.stderr.endsWith('\n'), `stderr ends with a newline\n${show(r)}`);
  const lines = r.stderr.slice(0, -1).split('\n');
  assert.is(lines.length, 1, `exactly one line on stderr\n${show(r)}`);
  const line = lines[0]!;
  assert.ok(line.startsWith('facenet-dnn: '), `prefixed line: ${line}`);
  for (const m of mentions) assert.ok(line.includes(m), `message mentions ${m}: ${line}`);
  assert.equal(readdirSync(dir).sort(), [...listing].sort(), `directory listing after the failure (${line})`);
  return line;
}

function countOps(graph: GraphDef, op: string): number {
  return graph.node.filter((n) => n.op === op).length;
}

/** Attribute maps in key order, so two equal graphs encode to equal bytes. */
function canonical(g: GraphDef): Uint8Array {
  return encodeGraph({
    ...g,
    node: g.node.map((n) => ({ ...n, attr: Object.fromEntries(Object.keys(n.attr).sort().map((k) => [k, n.attr[k]!])) })),
  });
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

// Outputs shared between tests (the tests run in order): the tiny fixture converted with the preset.
const OUT = join(work, 'out.pb');
const OUT_TXT = join(work, 'out.pbtxt');
let converted: GraphDef | undefined;

test.before(() => {
  assert.ok(existsSync(CLI), `${CLI} is missing: build it with npx tsup (npm test does it in pretest)`);
});

test.after(() => {
  rmSync(work, { recursive: true, force: true });
});

test('convert --preset facenet --pbtxt: summary, a .pb without Switch/Merge, text parsing to the same graph', () => {
  const r = cli(['convert', TINY, '-o', OUT, '--preset', 'facenet', '--pbtxt', OUT_TXT]);
  assert.is(r.status, 0, show(r));
  assert.is(r.stderr, '', 'no progress on a non-TTY stderr');
  const out = decodeGraph(new Uint8Array(readFileSync(OUT)), { source: 'out.pb' });
  converted = out;
  for (const op of ['Switch', 'Merge', 'FIFOQueueV2', 'QueueDequeueUpToV2', 'FusedBatchNorm']) assert.is(countOps(out, op), 0, `${op} gone`);
  const input = out.node.find((n) => n.name === 'input');
  assert.is(input?.op, 'Placeholder');
  assert.ok(out.node.some((n) => n.name === 'embeddings'));

  const text = r.stdout;
  assert.ok(text.includes(`nodes:    ${tiny.node.length} → ${out.node.length}`), `node counts before → after\n${text}`);
  assert.ok(/inputs:\s+input \[-1,160,160,3\]/.test(text), text);
  assert.ok(/outputs:\s+embeddings\n/.test(text), text);
  // The most removed ops, with the counts the two decoded graphs give.
  const removedLine = text.split('\n').find((l) => l.includes('removed:')) ?? '';
  for (const op of ['Switch', 'Merge', 'Identity']) {
    const gone = countOps(tiny, op) - countOps(out, op);
    assert.ok(gone > 0);
    assert.ok(removedLine.includes(`${op} ${gone}`), `removed ${op} ${gone}: ${removedLine}`);
  }
  assert.ok(/warnings: \d+/.test(text), text);
  assert.ok(text.includes('OpenCV will reject: none'), text);

  // The text file parses to the graph of the binary one.
  const fromText = textToGraph(readFileSync(OUT_TXT, 'utf8'), 'out.pbtxt');
  assert.is(fromText.node.length, out.node.length);
  assert.ok(sameBytes(canonical(fromText), canonical(out)), 'pbtxt and pb hold the same graph');
  assert.equal(readdirSync(work).sort(), ['out.pb', 'out.pbtxt'], 'no temporaries left');
});

test('convert --opencv-config: the config variant has no Const, same structure; same .pb bytes', () => {
  assert.ok(converted, 'needs the first test');
  const dir = freshDir('config');
  const r = cli(['convert', TINY, '-o', 'm.pb', '--preset', 'facenet', '--pbtxt', 'm.pbtxt', '--opencv-config'], dir);
  assert.is(r.status, 0, show(r));
  assert.ok(sameBytes(new Uint8Array(readFileSync(join(dir, 'm.pb'))), new Uint8Array(readFileSync(OUT))), 'deterministic .pb');
  const config = textToGraph(readFileSync(join(dir, 'm.pbtxt'), 'utf8'), 'm.pbtxt');
  assert.is(countOps(config, 'Const'), 0, 'no Const in the config');
  assert.equal(
    config.node.map((n) => n.name),
    converted!.node.filter((n) => n.op !== 'Const').map((n) => n.name),
    'every other node, in order',
  );
  for (const n of config.node) {
    for (const [k, v] of Object.entries(n.attr)) assert.not.ok(v.tensor, `no tensor attr (${n.name}.${k})`);
  }
});

test('convert --json gives parseable JSON with the counts; -q prints nothing', () => {
  assert.ok(converted, 'needs the first test');
  const dir = freshDir('json');
  const r = cli(['convert', TINY, '-o', 'j.pb', '--preset', 'facenet', '--json'], dir);
  assert.is(r.status, 0, show(r));
  const j = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.is(j['nodesBefore'], tiny.node.length);
  assert.is(j['nodesAfter'], converted!.node.length);
  assert.equal(j['outputs'], ['embeddings']);
  assert.equal(j['rejected'], []);
  assert.equal(j['opsAfter'], opCounts(converted!));
  assert.is((j['opsRemoved'] as Record<string, number>)['Switch'], countOps(tiny, 'Switch'));
  assert.ok(Array.isArray(j['warnings']));
  assert.is(j['output'], 'j.pb');

  const q = cli(['convert', TINY, '-o', 'q.pb', '--preset', 'facenet', '-q'], dir);
  assert.is(q.status, 0, show(q));
  assert.is(q.stdout, '');
  assert.is(q.stderr, '');
  assert.ok(sameBytes(new Uint8Array(readFileSync(join(dir, 'q.pb'))), new Uint8Array(readFileSync(OUT))));
});

test('inference without flags: bool switch placeholder, then the queue with its candidates; emotion converts', () => {
  const dir = freshDir('infer');
  const a = cli(['convert', TINY, '-o', 'x.pb'], dir);
  const lineA = expectFailure(a, 1, ['"phase_train"', '--set phase_train=false', 'facenet-tiny.pb'], dir, []);
  assert.ok(lineA.includes('bool'), lineA);

  const b = cli(['convert', TINY, '-o', 'x.pb', '--set', 'phase_train=false'], dir);
  expectFailure(b, 1, ['queue', '"batch_join"', '"image_batch"', '"input"', '--input'], dir, []);

  const emotion = decodeGraph(new Uint8Array(readFileSync(EMOTION)), { source: 'emotion' });
  const placeholders = emotion.node.filter((n) => n.op === 'Placeholder').map((n) => n.name);
  assert.is(placeholders.length, 1);
  // The sink: the non-Const node no other node reads.
  const read = new Set(emotion.node.flatMap((n) => n.input.map((s) => s.replace(/^\^/, '').replace(/:\d+$/, ''))));
  const sinks = emotion.node.filter((n) => n.op !== 'Const' && !read.has(n.name)).map((n) => n.name);
  assert.is(sinks.length, 1);
  const c = cli(['convert', EMOTION, '-o', 'emotion.pb'], dir);
  assert.is(c.status, 0, show(c));
  assert.ok(c.stdout.includes(`inputs:   ${placeholders[0]} [`), c.stdout);
  assert.ok(c.stdout.includes(`outputs:  ${sinks[0]}\n`), c.stdout);
  const out = decodeGraph(new Uint8Array(readFileSync(join(dir, 'emotion.pb'))), { source: 'emotion.pb' });
  assert.ok(out.node.some((n) => n.name === placeholders[0] && n.op === 'Placeholder'));
  assert.ok(out.node.some((n) => n.name === sinks[0]));
  assert.equal(readdirSync(dir), ['emotion.pb']);
});

test('bad files: empty, truncated, a JPEG named .pb, missing; exit 1, one line naming the file, no output', () => {
  const dir = freshDir('files');
  writeFileSync(join(dir, 'empty.pb'), new Uint8Array(0));
  writeFileSync(join(dir, 'half.pb'), tinyBytes.subarray(0, tinyBytes.length >> 1));
  copyFileSync(JPEG, join(dir, 'photo.pb'));
  const inputs = ['empty.pb', 'half.pb', 'photo.pb'];
  expectFailure(cli(['convert', 'empty.pb', '-o', 'x.pb', '--preset', 'facenet'], dir), 1, ['empty.pb', 'empty'], dir, inputs);
  expectFailure(cli(['convert', 'half.pb', '-o', 'x.pb', '--preset', 'facenet'], dir), 1, ['half.pb', 'truncated'], dir, inputs);
  expectFailure(cli(['convert', 'photo.pb', '-o', 'x.pb', '--preset', 'facenet'], dir), 1, ['photo.pb', 'JPEG'], dir, inputs);
  expectFailure(cli(['convert', 'nothere.pb', '-o', 'x.pb', '--preset', 'facenet'], dir), 1, ['"nothere.pb"', 'no such file'], dir, inputs);
  expectFailure(cli(['inspect', 'photo.pb'], dir), 1, ['photo.pb', 'JPEG'], dir, inputs);
});

test('bad graphs and names: unknown output, non-constant predicate, a cycle', () => {
  const dir = freshDir('graphs');
  expectFailure(cli(['convert', TINY, '-o', 'x.pb', '--preset', 'facenet', '--output', 'nope'], dir), 1, ['"nope"'], dir, []);
  // Inputs and outputs named, phase_train left a placeholder: the first batch-norm Switch cannot be resolved.
  const line = expectFailure(
    cli(['convert', TINY, '-o', 'x.pb', '--input', 'input:-1,160,160,3', '--output', 'embeddings'], dir),
    1,
    ['Switch', '"phase_train"'],
    dir,
    [],
  );
  const switchName = /Switch "([^"]+)"/.exec(line)?.[1];
  assert.ok(switchName, `names the Switch: ${line}`);
  assert.is(tiny.node.find((n) => n.name === switchName)?.op, 'Switch', `"${switchName}" is a Switch of the graph`);

  const b = new GraphBuilder();
  b.placeholder('x', [1, 4]);
  b.op('Add', 'loop/a', ['x', 'loop/b']);
  b.op('Relu', 'loop/b', ['loop/a']);
  b.op('Relu', 'out', ['loop/b']);
  writeFileSync(join(dir, 'cycle.pb'), encodeGraph(b.build()));
  expectFailure(cli(['convert', 'cycle.pb', '-o', 'x.pb', '--input', 'x', '--output', 'out'], dir), 1, ['cycle', '"loop/a"', '"loop/b"'], dir, ['cycle.pb']);
});

test('bad destinations: -o or --pbtxt into a missing directory leaves nothing; a failure keeps the old file', () => {
  const dir = freshDir('dest');
  expectFailure(cli(['convert', TINY, '-o', 'nodir/x.pb', '--preset', 'facenet'], dir), 1, ['"nodir/x.pb"', '"nodir"'], dir, []);
  // The model could be written, the text file not: neither appears.
  expectFailure(cli(['convert', TINY, '-o', 'x.pb', '--preset', 'facenet', '--pbtxt', 'nodir/x.pbtxt'], dir), 1, ['"nodir/x.pbtxt"'], dir, []);
  const old = new TextEncoder().encode('an older model');
  writeFileSync(join(dir, 'x.pb'), old);
  expectFailure(cli(['convert', TINY, '-o', 'x.pb'], dir), 1, ['phase_train'], dir, ['x.pb']);
  expectFailure(cli(['convert', TINY, '-o', 'x.pb', '--preset', 'facenet', '--output', 'nope'], dir), 1, ['"nope"'], dir, ['x.pb']);
  assert.ok(sameBytes(new Uint8Array(readFileSync(join(dir, 'x.pb'))), old), 'old file untouched');
});

test('usage errors: exit 2, one line naming the command, flag or value', () => {
  const dir = freshDir('usage');
  expectFailure(cli(['frobnicate', TINY], dir), 2, ['"frobnicate"', '--help'], dir, []);
  expectFailure(cli(['convert', TINY, '-o', 'x.pb', '--frob'], dir), 2, ['"--frob"'], dir, []);
  expectFailure(cli(['convert', TINY, '-o', 'x.pb', '--set', 'x=abc'], dir), 2, ['"abc"', 'x=abc'], dir, []);
  expectFailure(cli(['convert', TINY, '-o'], dir), 2, ['"--out"'], dir, []);
  expectFailure(cli(['convert', TINY, '-o', 'x.pb', '--preset', 'facenot'], dir), 2, ['"facenot"', 'facenet'], dir, []);
  expectFailure(cli(['convert', TINY, '-o', 'x.pb', '--input', 'input:1,a'], dir), 2, ['"input:1,a"', '"1,a"'], dir, []);
  expectFailure(cli([], dir), 2, ['command'], dir, []);
});

test('inspect: inputs with dtypes, the queue, outputs, op histogram, parameters, control edges, rejected ops', () => {
  // Counted here from the decoded graph: elements of every Const as its value expands (splats
  // included), and `^` inputs.
  let params = 0;
  let control = 0;
  for (const n of tiny.node) {
    if (n.op === 'Const') params += tensorToHost(n.attr['value']!.tensor!, n.name).data.length;
    control += n.input.filter((s) => s.startsWith('^')).length;
  }
  // facenet-graph.md: the structure (and so the 675 control edges) does not depend on the width.
  assert.is(control, 675);
  const hist = opCounts(tiny);
  const phs = tiny.node.filter((n) => n.op === 'Placeholder');
  assert.equal(phs.map((n) => n.name).sort(), ['batch_size', 'phase_train']);

  const r = cli(['inspect', TINY]);
  assert.is(r.status, 0, show(r));
  assert.is(r.stderr, '');
  const text = r.stdout;
  for (const p of phs) {
    const dtype = dataTypeName(p.attr['dtype']!.type!);
    assert.ok(new RegExp(`name=${p.name}, op=Placeholder, type=${dtype}`).test(text), `${p.name} ${dtype}\n${text}`);
  }
  assert.ok(text.includes('DT_BOOL') && text.includes('DT_INT32'));
  assert.ok(text.includes('batch_join/fifo_queue'), 'the FIFOQueue');
  assert.ok(text.includes('name=embeddings,') && text.includes('name=label_batch,'), 'outputs');
  for (const [op, n] of Object.entries(hist)) assert.ok(new RegExp(`(^|, |\\s)${n} ${op}(,|\\n)`).test(text), `histogram ${n} ${op}`);
  assert.ok(text.includes(`Found ${params} `), `const parameters ${params}\n${text}`);
  assert.ok(text.includes(`${control} control edges`), `control edges ${control}`);
  const rejected = text.slice(text.indexOf('OpenCV DNN will reject:'));
  for (const op of ['FIFOQueueV2', 'QueueDequeueUpToV2', 'RandomUniform']) {
    assert.ok(rejected.includes(`${op} × ${hist[op]}`), `rejects ${op}\n${rejected}`);
  }

  const j = cli(['inspect', TINY, '--json']);
  assert.is(j.status, 0, show(j));
  const s = JSON.parse(j.stdout) as {
    nodes: number;
    inputs: Array<{ name: string; dtype: string }>;
    outputs: string[];
    ops: Record<string, number>;
    constParameters: number;
    controlEdges: number;
    queues: string[];
    rejected: Array<{ op: string; nodes: string[] }>;
  };
  assert.is(s.nodes, tiny.node.length);
  assert.is(s.constParameters, params);
  assert.is(s.controlEdges, control);
  assert.equal(s.ops, hist);
  assert.equal(s.inputs.map((i) => [i.name, i.dtype]).sort(), phs.map((p) => [p.name, dataTypeName(p.attr['dtype']!.type!)]).sort());
  assert.equal([...s.outputs].sort(), ['embeddings', 'label_batch']);
  assert.equal(s.queues, ['batch_join/fifo_queue']);
  const fifo = s.rejected.find((x) => x.op === 'FIFOQueueV2');
  assert.equal(fifo?.nodes, ['batch_join/fifo_queue']);
});

test('forward --json on the converted fixture: exact form, unit rows, equal to the TF reference on the original', async () => {
  assert.ok(existsSync(OUT), 'needs the first test');
  const n = 2;
  const data = uniform(n * 160 * 160 * 3, 11);
  writeFileSync(join(work, 'x.f32'), new Uint8Array(data.buffer));
  const r = cli(['forward', OUT, '--input-file', 'x.f32', '--shape', `${n},160,160,3`, '--json']);
  assert.is(r.status, 0, show(r));
  assert.is(r.stderr, '');
  const j = JSON.parse(r.stdout) as { outputs: Array<{ name: string; shape: number[]; data: number[] }> };
  assert.equal(Object.keys(j), ['outputs']);
  assert.is(j.outputs.length, 1);
  const [o] = j.outputs as [{ name: string; shape: number[]; data: number[] }];
  assert.equal(Object.keys(o), ['name', 'shape', 'data']);
  assert.is(o.name, 'embeddings');
  assert.equal(o.shape, [n, 512]);
  assert.is(o.data.length, n * 512);
  assert.ok(o.data.every((v) => typeof v === 'number' && Number.isFinite(v)));
  assert.is(r.stdout, JSON.stringify(j) + '\n', 'one compact JSON line');
  for (const norm of rowNorms(o.data, n)) assert.ok(Math.abs(norm - 1) < 1e-5, `unit row (${norm})`);
  const [ref] = await runReference(
    tiny,
    {
      input: { shape: [n, 160, 160, 3], data },
      phase_train: { shape: [], data: new Uint8Array([0]), dtype: 'bool' },
    },
    ['embeddings'],
    { backend: 'wasm' },
  );
  assert.equal(ref!.shape, [n, 512]);
  const d = maxAbsDiff(o.data, ref!.data);
  assert.ok(d <= 1e-5, `max |Δ| vs TF reference ${d}`);
  // The two faces differ: not a comparison of constants.
  assert.ok(maxAbsDiff(o.data.slice(0, 512), o.data.slice(512)) > 1e-2);
});

test('forward: a wrong-size input file (exit 2, sizes named); an output the model lacks (exit 1, named)', () => {
  assert.ok(existsSync(join(work, 'x.f32')), 'needs the forward test');
  const bytes = 2 * 160 * 160 * 3 * 4;
  const listing = readdirSync(work).sort();
  expectFailure(cli(['forward', OUT, '--input-file', 'x.f32', '--shape', '1,160,160,3']), 2, ['"x.f32"', String(bytes), String(bytes / 2)], work, listing);
  // label_batch is an output of the original graph; the converted one was pruned to embeddings.
  expectFailure(cli(['forward', OUT, '--input-file', 'x.f32', '--shape', '2,160,160,3', '--output', 'label_batch']), 1, ['"label_batch"', 'out.pb'], work, listing);
  expectFailure(cli(['forward', OUT, '--input-file', 'x.f32', '--shape', '2,160,160,3', '--input', 'nope']), 1, ['"nope"', 'out.pb'], work, listing);
  expectFailure(cli(['forward', OUT, '--input-file', 'missing.f32', '--shape', '2,160,160,3']), 1, ['"missing.f32"'], work, listing);
});

test('--help lists the commands (exit 0); --version prints the package version', () => {
  const h = cli(['--help']);
  assert.is(h.status, 0);
  assert.is(h.stderr, '');
  for (const c of ['convert', 'inspect', 'forward', '--preset', '--set', '--pbtxt', 'Exit status']) assert.ok(h.stdout.includes(c), c);
  assert.equal(cli(['-h']).stdout, h.stdout);
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const v = cli(['--version']);
  assert.is(v.status, 0);
  assert.is(v.stdout, `${version}\n`);
});

test.run();
