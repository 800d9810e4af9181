/**
 * `convert()`: TensorFlow frozen GraphDef in, OpenCV-DNN-ready GraphDef out.
 */
import { FacenetDnnError } from './errors.js';
import { GraphIndex } from './graph/graph.js';
import { ancestorsOf, reachableFrom, summarizeGraph } from './inspect.js';
import { defaultPasses, runPasses, type PassProgress } from './pipeline.js';
import { PRESETS } from './presets.js';
import { decodeGraph, encodeGraph } from './proto/codec.js';
import { DataType } from './proto/types.js';
import type { GraphDef } from './proto/types.js';
import type { InputSpec } from './passes/types.js';
import { rejectedOps } from './passes/opencv-compat.js';
import { graphToText } from './pbtxt/write.js';
import { attr } from './tensor.js';

/** Options of {@link convert}. Every option overrides the preset's value for it. */
export interface ConvertOptions {
  /** A named preset (see `PRESETS`), e.g. `'facenet'`. Default: none, infer inputs and outputs. */
  preset?: string;
  /** Inputs by name, or with dtype and shape. Default: the preset's, else inferred from the graph. */
  inputs?: Array<string | InputSpec>;
  /** Output node names. Default: the preset's, else the graph's sinks that depend on the inputs. */
  outputs?: string[];
  /** Placeholders frozen to scalar constants, e.g. `{ phase_train: false }`. Merged over the preset's. */
  set?: Record<string, number | boolean>;
  /** Also produce TF text format: `true` for the full graph, `'opencv'` for OpenCV's config variant. Default: none. */
  pbtxt?: boolean | 'opencv';
  /** A name for the graph in error messages (a file name or URL). Default: `"graph"`. */
  source?: string;
  /** Called with each warning (a skipped pattern). Default: warnings are only collected in the report. */
  onWarning?: (message: string) => void;
  /** Called after every pass. */
  onProgress?: (progress: PassProgress) => void;
}

/** What a conversion did. */
export interface ConvertReport {
  inputs: InputSpec[];
  outputs: string[];
  nodesBefore: number;
  nodesAfter: number;
  opsBefore: Record<string, number>;
  opsAfter: Record<string, number>;
  /** op → how many nodes of it are gone. */
  opsRemoved: Record<string, number>;
  warnings: string[];
  /** Ops still in the graph that OpenCV's TensorFlow importer will refuse, with the nodes using them. */
  rejected: Array<{ op: string; nodes: string[] }>;
  passes: PassProgress[];
}

export interface ConvertResult {
  /** The converted graph. */
  graph: GraphDef;
  /** The converted graph as a binary `.pb`. */
  model: Uint8Array;
  /** TF text format, when `options.pbtxt` asked for it. */
  pbtxt?: string;
  report: ConvertReport;
}

function mergeInputs(preset: InputSpec[] | undefined, given: Array<string | InputSpec> | undefined): InputSpec[] | undefined {
  if (!given) return preset?.map((s) => ({ ...s }));
  return given.map((g) => {
    const spec = typeof g === 'string' ? { name: g } : { ...g };
    const p = preset?.find((s) => s.name === spec.name);
    return { ...p, ...spec, shape: spec.shape ?? p?.shape };
  });
}

const QUEUE_DEQUEUE = new Set(['QueueDequeueUpToV2', 'QueueDequeueManyV2', 'QueueDequeueV2']);

/**
 * Infers the inputs of a graph: its Placeholders that are not frozen. Fails with the candidates when
 * that is not a usable answer (a queue-fed graph, an unfrozen bool switch, nothing at all).
 */
export function inferInputs(graph: GraphDef, set: Readonly<Record<string, unknown>>, source: string): InputSpec[] {
  const index = new GraphIndex(graph);
  const placeholders = graph.node.filter((n) => (n.op === 'Placeholder' || n.op === 'PlaceholderWithDefault') && !(n.name in set));
  const switches = placeholders.filter(
    (p) => attr.type(p, 'dtype', 0) === DataType.DT_BOOL && reachesSwitch(index, graph, p.name),
  );
  if (switches.length) {
    const names = switches.map((p) => `${p.name}=false`).join(' --set ');
    throw new FacenetDnnError(
      'ERR_AMBIGUOUS',
      `Cannot infer the inputs of ${source}: bool placeholder ${switches.map((p) => `"${p.name}"`).join(', ')} drives tf.cond branches; freeze it (--set ${names})`,
    );
  }
  const dequeues = graph.node.filter((n) => QUEUE_DEQUEUE.has(n.op));
  const real = placeholders.filter((p) => {
    // A queue's batch size or a training-only scalar is not an image input.
    const consumers = index.consumers(p.name);
    return !(consumers.length > 0 && consumers.every((c) => QUEUE_DEQUEUE.has(c.node.op)));
  });
  if (dequeues.length && real.length === 0) {
    const candidates: string[] = [];
    for (const d of dequeues) {
      let cur = index.consumers(d.name).filter((c) => c.ref.port === 0 && !c.ref.control);
      while (cur.length === 1 && cur[0]!.node.op === 'Identity') {
        candidates.push(cur[0]!.node.name);
        cur = index.consumers(cur[0]!.node.name).filter((c) => !c.ref.control);
      }
    }
    throw new FacenetDnnError(
      'ERR_AMBIGUOUS',
      `Cannot infer the inputs of ${source}: it is fed by queue "${dequeues[0]!.name}"; name the input with --input NAME:SHAPE` +
        (candidates.length ? ` (candidates: ${candidates.map((c) => `"${c}"`).join(', ')}; for facenet use --preset facenet)` : ''),
    );
  }
  if (real.length === 0) throw new FacenetDnnError('ERR_AMBIGUOUS', `Cannot infer the inputs of ${source}: it has no Placeholder; name one with --input`);
  return real.map((p) => ({ name: p.name }));
}

function reachesSwitch(index: GraphIndex, graph: GraphDef, name: string): boolean {
  for (const n of reachableFrom(graph, [name])) {
    const op = index.find(n)?.op;
    if (op === 'Switch' || op === 'RefSwitch') return true;
  }
  return false;
}

/** The graph's sinks (nodes nothing reads) that depend on `inputs`. */
export function inferOutputs(graph: GraphDef, inputs: readonly string[], source: string): string[] {
  const reach = reachableFrom(graph, inputs);
  const sinks = summarizeGraph(graph).outputs.filter((o) => reach.has(o) && !inputs.includes(o));
  if (sinks.length === 0) {
    throw new FacenetDnnError('ERR_AMBIGUOUS', `Cannot infer the outputs of ${source}: no node depends on ${inputs.map((i) => `"${i}"`).join(', ')}; name them with --output`);
  }
  return sinks;
}

/** Runs `fn`, prefixing the message of a graph error with the graph's source so it names the file. */
function inGraph<T>(source: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof FacenetDnnError && !e.message.includes(source)) {
      throw new FacenetDnnError(e.code, `${source}: ${e.message}`, { cause: e });
    }
    throw e;
  }
}

function histogram(graph: GraphDef): Record<string, number> {
  return summarizeGraph(graph).ops;
}

/**
 * Converts a TensorFlow 1 frozen graph into one OpenCV's DNN module loads and computes correctly.
 *
 * The passes: freeze placeholders, make the inputs Placeholders, prune to the outputs, resolve
 * tf.cond Switch/Merge by dead-branch propagation, remove Identity-like ops, fold constants, keep
 * flatten batch-dynamic, fold batch norms into weights, rewrite ops OpenCV gets wrong, sort.
 *
 * @param model a binary GraphDef (`.pb` bytes) or a decoded graph.
 * @throws {FacenetDnnError} naming the node, op or value at fault; nothing is returned partially.
 * @example
 * ```ts
 * import { convert } from 'facenet-dnn';
 * const { model, report } = convert(pbBytes, { preset: 'facenet' });
 * // model: Uint8Array of the converted .pb; report.rejected is empty when OpenCV takes every op
 * ```
 */
export function convert(model: Uint8Array | GraphDef, options: ConvertOptions = {}): ConvertResult {
  const source = options.source ?? 'graph';
  let preset;
  if (options.preset !== undefined) {
    preset = PRESETS[options.preset];
    if (!preset) throw new RangeError(`Cannot convert: unknown preset "${options.preset}" (known: ${Object.keys(PRESETS).join(', ')})`);
  }
  const graph = model instanceof Uint8Array ? decodeGraph(model, { source }) : model;
  const set = { ...preset?.set, ...options.set };
  const inputs = mergeInputs(preset?.inputs, options.inputs) ?? inferInputs(graph, set, source);
  const index = inGraph(source, () => new GraphIndex(graph));
  const mustExist = (name: string, role: string) => {
    if (!index.has(name)) throw new FacenetDnnError('ERR_UNKNOWN_NODE', `Cannot find ${role} "${name}" in ${source}`);
  };
  for (const i of inputs) mustExist(i.name, 'input');
  for (const k of Object.keys(set)) mustExist(k, 'placeholder to freeze');
  const inputNames = inputs.map((i) => i.name);
  const outputs = options.outputs ?? preset?.outputs ?? inferOutputs(graph, inputNames, source);
  for (const o of outputs) mustExist(o, 'output');
  // An output that does not depend on any input is a constant: OpenCV has no use for such a graph.
  const needs = ancestorsOf(graph, outputs, new Set(inputNames));
  for (const i of inputNames) {
    if (!needs.has(i)) options.onWarning?.(`Input "${i}" is not needed by the outputs`);
  }
  const warnings: string[] = [];
  const ctx = {
    inputs: inputNames,
    outputs,
    warn(message: string) {
      warnings.push(message);
      options.onWarning?.(message);
    },
  };
  const passes: PassProgress[] = [];
  const out = inGraph(source, () =>
    runPasses(graph, defaultPasses({ set, inputs }), ctx, (p) => {
      passes.push(p);
      options.onProgress?.(p);
    }),
  );
  const opsBefore = histogram(graph);
  const opsAfter = histogram(out);
  const opsRemoved: Record<string, number> = {};
  for (const [op, n] of Object.entries(opsBefore)) {
    const gone = n - (opsAfter[op] ?? 0);
    if (gone > 0) opsRemoved[op] = gone;
  }
  const result: ConvertResult = {
    graph: out,
    model: encodeGraph(out),
    report: {
      inputs,
      outputs,
      nodesBefore: graph.node.length,
      nodesAfter: out.node.length,
      opsBefore,
      opsAfter,
      opsRemoved,
      warnings,
      rejected: rejectedOps(out),
      passes,
    },
  };
  if (options.pbtxt) result.pbtxt = graphToText(out, { opencvConfig: options.pbtxt === 'opencv' });
  return result;
}
