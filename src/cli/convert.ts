/** `facenet-dnn convert` and `facenet-dnn inspect`. */
import { basename } from 'node:path';
import { convert } from '../converter/convert.js';
import { rejectedOps } from '../converter/passes/opencv-compat.js';
import { decodeGraph } from '../converter/proto/codec.js';
import type { GraphDef } from '../converter/proto/types.js';
import { summarizeGraph } from '../converter/inspect.js';
import { PRESETS } from '../converter/presets.js';
import { shapeDims } from '../converter/tensor.js';
import { parseInputSpec, parseSet, UsageError } from './args.js';
import { checkWritable, readInput, writeAll } from './io.js';

export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Whether to print per-pass progress on stderr. */
  progress: boolean;
}

type Values = Record<string, string | boolean | string[] | undefined>;

function list(v: unknown): string[] {
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

function shapeText(shape: readonly number[] | null | undefined): string {
  return shape ? `[${shape.join(',')}]` : '[?]';
}

function topOps(ops: Record<string, number>, n = 8): string {
  const e = Object.entries(ops).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const head = e.slice(0, n).map(([op, c]) => `${op} ${c}`).join(', ');
  return e.length > n ? `${head}, … (${e.length} ops)` : head || 'none';
}

/** The shape attr of the Placeholder `name` in `graph` (an inferred input keeps the graph's own). */
function placeholderShape(graph: GraphDef, name: string): number[] | undefined {
  const n = graph.node.find((x) => x.name === name);
  return n?.attr['shape'] ? shapeDims(n.attr['shape'].shape) : undefined;
}

export function runConvert(args: string[], values: Values, io: Io): number {
  if (args.length !== 1) throw new UsageError(args.length ? `convert takes one input graph, got ${args.length}` : 'convert needs an input graph: facenet-dnn convert IN.pb -o OUT.pb');
  const [inPath] = args as [string];
  const outPath = values['out'];
  if (typeof outPath !== 'string') throw new UsageError('convert needs -o OUT.pb');
  const pbtxtPath = typeof values['pbtxt'] === 'string' ? values['pbtxt'] : undefined;
  if (values['opencv-config'] && !pbtxtPath) throw new UsageError('--opencv-config goes with --pbtxt FILE');
  if (pbtxtPath !== undefined && pbtxtPath === outPath) throw new UsageError(`Cannot write both the model and --pbtxt to "${outPath}"`);
  const preset = typeof values['preset'] === 'string' ? values['preset'] : undefined;
  if (preset !== undefined && !Object.hasOwn(PRESETS, preset)) {
    throw new UsageError(`Unknown preset "${preset}" (known: ${Object.keys(PRESETS).join(', ')})`);
  }
  const set = Object.fromEntries(list(values['set']).map(parseSet));
  const inputs = list(values['input']).map(parseInputSpec);
  const outputs = list(values['output']);
  const t0 = performance.now();
  const bytes = readInput(inPath);
  // Before the conversion: a typo in -o should not cost the whole run.
  checkWritable(outPath);
  if (pbtxtPath) checkWritable(pbtxtPath);
  const result = convert(bytes, {
    source: basename(inPath),
    preset,
    set: Object.keys(set).length ? set : undefined,
    inputs: inputs.length ? inputs : undefined,
    outputs: outputs.length ? outputs : undefined,
    pbtxt: pbtxtPath ? (values['opencv-config'] ? 'opencv' : true) : undefined,
    onProgress: io.progress ? (p) => io.err(`[${p.index}/${p.total}] ${p.pass}: ${p.nodes} nodes, ${p.ms.toFixed(0)} ms`) : undefined,
  });
  const files: Array<{ path: string; data: Uint8Array | string }> = [{ path: outPath, data: result.model }];
  if (pbtxtPath && result.pbtxt !== undefined) files.push({ path: pbtxtPath, data: result.pbtxt });
  writeAll(files);
  if (values['quiet']) return 0;
  const r = result.report;
  if (values['json']) {
    io.out(JSON.stringify({ ...r, output: outPath, pbtxt: pbtxtPath ?? null }, null, 2));
    return 0;
  }
  io.out(`converted ${inPath} → ${outPath}${pbtxtPath ? ` (+ ${pbtxtPath})` : ''} in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  io.out(`  inputs:   ${r.inputs.map((i) => `${i.name} ${shapeText(i.shape ?? placeholderShape(result.graph, i.name))}`).join(', ')}`);
  io.out(`  outputs:  ${r.outputs.join(', ')}`);
  io.out(`  nodes:    ${r.nodesBefore} → ${r.nodesAfter}`);
  io.out(`  removed:  ${topOps(r.opsRemoved)}`);
  io.out(`  ops now:  ${topOps(r.opsAfter)}`);
  io.out(`  warnings: ${r.warnings.length}`);
  for (const w of r.warnings.slice(0, 20)) io.out(`    - ${w}`);
  if (r.warnings.length > 20) io.out(`    … ${r.warnings.length - 20} more`);
  if (r.rejected.length) {
    io.out(`  OpenCV will reject: ${r.rejected.map((x) => `${x.op} (${x.nodes.length}: "${x.nodes[0]}"${x.nodes.length > 1 ? ', …' : ''})`).join(', ')}`);
  } else {
    io.out('  OpenCV will reject: none');
  }
  return 0;
}

export function runInspect(args: string[], values: Values, io: Io): number {
  if (args.length !== 1) throw new UsageError('inspect takes one graph: facenet-dnn inspect MODEL.pb');
  const [path] = args as [string];
  const graph = decodeGraph(readInput(path), { source: basename(path) });
  const s = summarizeGraph(graph);
  const rejected = rejectedOps(graph);
  if (values['json']) {
    io.out(JSON.stringify({ file: path, ...s, rejected }, null, 2));
    return 0;
  }
  io.out(`${path}: ${s.nodes} nodes`);
  io.out(`Found ${s.inputs.length} possible inputs:`);
  for (const i of s.inputs) io.out(`  (name=${i.name}, op=${i.op}, type=${i.dtype}, shape=${shapeText(i.shape)})`);
  if (s.queues.length) io.out(`Fed by queues: ${s.queues.join(', ')} (use --input NAME:SHAPE or --preset facenet)`);
  io.out(`Found ${s.outputs.length} possible outputs:`);
  for (const o of s.outputs) io.out(`  (name=${o}, op=${graph.node.find((n) => n.name === o)?.op})`);
  io.out(`Found ${s.constParameters} (${fmtCount(s.constParameters)}) const parameters, ${s.controlEdges} control edges`);
  io.out('Op types used:');
  io.out('  ' + Object.entries(s.ops).map(([op, n]) => `${n} ${op}`).join(', '));
  if (rejected.length) {
    io.out('OpenCV DNN will reject:');
    for (const r of rejected) io.out(`  ${r.op} × ${r.nodes.length} (e.g. "${r.nodes[0]}")`);
  } else {
    io.out('OpenCV DNN will reject: none');
  }
  return 0;
}

function fmtCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(2)}k`;
  return String(n);
}
