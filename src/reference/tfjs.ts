/**
 * An independent reference for TensorFlow semantics: runs an *original* TF1 GraphDef with
 * TensorFlow.js (tfjs-converter's graph executor on the cpu or wasm backend), so a conversion can be
 * checked against TF's numbers without TensorFlow or Python. `facenet-dnn verify` and the tests use
 * it. Web-standard APIs only (no `fs`, no `Buffer`): it runs in Node, Deno, Bun and browsers.
 *
 * How: the decoded GraphDef is turned, in memory, into the tfjs "graph-model" artifacts that
 * `tensorflowjs_converter` would write (modelTopology = the GraphDef in protobuf-JSON form, every
 * Const value moved into a weight spec + one weight buffer) and loaded with `loadGraphModelSync`.
 * Execution goes through `executeAsync` when the graph has control flow (Switch/Merge need it).
 *
 * Two edits are made to a *copy* of the graph before loading, neither a semantic change:
 * - The graph is cut to what the requested outputs depend on, stopping at the fed nodes. This is
 *   what TF's own `Session.run(fetches, feed_dict)` does (it prunes to the fetch closure and a fed
 *   tensor cuts the graph there). It is needed because, checked with tfjs-converter 4.22: the
 *   unpruned FaceNet-style graph loads, and `execute()` accepts a feed at the inner `input`
 *   Identity, but `executeAsync()` (required by Switch/Merge) runs every input-less node of the
 *   whole graph (its "init nodes") and throws "Unknown op 'FIFOQueueV2'" on `batch_join/fifo_queue`.
 * - A fed node that is not a Placeholder (FaceNet is fed at `input`, an Identity of the queue's
 *   output) becomes a Placeholder of the feed's dtype. tfjs accepts feeding inner nodes, but the
 *   pruning above would otherwise leave it with dangling inputs.
 *
 * As in TF, a feed the outputs do not depend on is accepted and ignored, and a Placeholder they do
 * depend on must be fed.
 *
 * Known limits of tfjs as a reference: FusedBatchNorm ignores `is_training` and only has output
 * 0, so only inference (`phase_train = false`) is meaningful; RandomUniform is not seeded like TF.
 * In browsers the wasm backend fetches its `.wasm` files from where the page serves the package
 * (see `setWasmPaths` of `@tensorflow/tfjs-backend-wasm`).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { loadGraphModelSync as LoadGraphModelSync } from '@tensorflow/tfjs-converter';
import { int64ToNumber } from '../converter/proto/codec.js';
import { DataType, dataTypeName } from '../converter/proto/types.js';
import type {
  AttrValue,
  GraphDef,
  ListValue,
  NameAttrList,
  NodeDef,
  TensorProto,
  TensorShapeProto,
} from '../converter/proto/types.js';
import { parseInput } from '../converter/graph/names.js';
import { tensorToHost } from '../converter/tensor.js';
import { FacenetDnnError } from '../converter/errors.js';

/** One fed tensor. `dtype` defaults from the array type (Float32Array: float32, Int32Array: int32). */
export interface ReferenceFeed {
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
  dtype?: 'float32' | 'int32' | 'bool';
}

/** What a {@link ReferenceModel} is fed at a node, before any value: the dtype alone. */
export interface ReferenceFeedSpec {
  /** Default `'float32'`. */
  dtype?: 'float32' | 'int32' | 'bool';
}

/** One fetched tensor, always as float32 (int32 and bool outputs are converted). */
export interface ReferenceOutput {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Options of {@link runReference} and {@link createReferenceModel}. */
export interface ReferenceOptions {
  /** tfjs backend. Default `'cpu'`. `'wasm'` is faster for big graphs. */
  backend?: 'cpu' | 'wasm';
}

// Ops whose presence forces executeAsync (tfjs' execute() refuses them).
const ASYNC_OPS = new Set([
  'Switch', 'Merge', 'Enter', 'Exit', 'NextIteration', 'LoopCond', 'If', 'StatelessIf', 'While',
  'StatelessWhile', 'NonMaxSuppressionV2', 'NonMaxSuppressionV3', 'NonMaxSuppressionV4',
  'NonMaxSuppressionV5', 'Where', 'ListDiff', 'Unique', 'UniqueV2', 'SparseToDense',
]);

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Standard base64 with padding (RFC 4648 §4), by hand: no `Buffer` (the reference also runs in
 * Deno, Bun and browsers) and no `btoa` over a binary string (a copy per byte).
 */
export function toBase64(b: Uint8Array): string {
  const out: string[] = [];
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    out.push(B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!);
  }
  const rest = b.length - i;
  if (rest === 1) {
    const n = b[i]! << 16;
    out.push(B64[n >> 18]! + B64[(n >> 12) & 63]! + '==');
  } else if (rest === 2) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8);
    out.push(B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + '=');
  }
  return out.join('');
}

const i64 = (v: unknown): string => String(typeof v === 'number' ? v : int64ToNumber(v as never));

function shapeJson(s: TensorShapeProto): object {
  const out: Record<string, unknown> = {};
  if (s.dim?.length) out['dim'] = s.dim.map((d) => ({ size: i64(d.size ?? 0), ...(d.name ? { name: d.name } : {}) }));
  if (s.unknown_rank) out['unknownRank'] = true;
  return out;
}

function tensorJson(t: TensorProto): object {
  const out: Record<string, unknown> = { dtype: dataTypeName(t.dtype) };
  if (t.tensor_shape) out['tensorShape'] = shapeJson(t.tensor_shape);
  if (t.tensor_content?.length) out['tensorContent'] = toBase64(t.tensor_content);
  if (t.float_val?.length) out['floatVal'] = [...t.float_val];
  if (t.double_val?.length) out['doubleVal'] = [...t.double_val];
  if (t.int_val?.length) out['intVal'] = [...t.int_val];
  if (t.int64_val?.length) out['int64Val'] = t.int64_val.map(i64);
  if (t.bool_val?.length) out['boolVal'] = [...t.bool_val];
  if (t.string_val?.length) out['stringVal'] = t.string_val.map(toBase64);
  if (t.half_val?.length) out['halfVal'] = [...t.half_val];
  return out;
}

function listJson(l: ListValue): object {
  const out: Record<string, unknown> = {};
  if (l.s?.length) out['s'] = l.s.map(toBase64);
  if (l.i?.length) out['i'] = l.i.map(i64);
  if (l.f?.length) out['f'] = l.f.map(Math.fround);
  if (l.b?.length) out['b'] = [...l.b];
  if (l.type?.length) out['type'] = l.type.map(dataTypeName);
  if (l.shape?.length) out['shape'] = l.shape.map(shapeJson);
  if (l.tensor?.length) out['tensor'] = l.tensor.map(tensorJson);
  if (l.func?.length) out['func'] = l.func.map(funcJson);
  return out;
}

function funcJson(f: NameAttrList): object {
  const attr: Record<string, object> = {};
  for (const [k, v] of Object.entries(f.attr ?? {})) attr[k] = attrJson(v);
  return { name: f.name ?? '', attr };
}

// protobufjs keeps field defaults on the prototype: only own properties are set fields (the oneof).
const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k) && (o as Record<string, unknown>)[k] != null;

/** An AttrValue in protobuf-JSON form (int64 as strings, enums by name, bytes as base64). */
function attrJson(a: AttrValue): object {
  if (own(a, 'list')) return { list: listJson(a.list!) };
  if (own(a, 's')) return { s: toBase64(a.s!) };
  if (own(a, 'shape')) return { shape: shapeJson(a.shape!) };
  if (own(a, 'tensor')) return { tensor: tensorJson(a.tensor!) };
  if (own(a, 'func')) return { func: funcJson(a.func!) };
  if (own(a, 'type')) return { type: dataTypeName(a.type!) };
  if (own(a, 'b')) return { b: a.b };
  // AttrValue.f is a proto float: TF sees the float32 value even if a built graph holds a double.
  if (own(a, 'f')) return { f: Math.fround(a.f!) };
  if (own(a, 'i')) return { i: i64(a.i) };
  if (own(a, 'placeholder')) return { placeholder: a.placeholder };
  return {};
}

// TF op-registry defaults of attributes tfjs reads without a fallback of its own (e.g. Conv2D
// `dilations`). TF's GraphDef importer fills these in; hand-built test graphs may omit them.
const NHWC = (): AttrValue => ({ s: new TextEncoder().encode('NHWC') });
const ONES = (): AttrValue => ({ list: { i: [1, 1, 1, 1] } });
const TF_DEFAULTS: Record<string, Record<string, () => AttrValue>> = {
  Conv2D: { dilations: ONES, data_format: NHWC },
  DepthwiseConv2dNative: { dilations: ONES, data_format: NHWC },
  Conv2DBackpropInput: { dilations: ONES, data_format: NHWC },
  FusedBatchNorm: { epsilon: () => ({ f: 0.0001 }), data_format: NHWC, is_training: () => ({ b: true }) },
  FusedBatchNormV2: { epsilon: () => ({ f: 0.0001 }), data_format: NHWC, is_training: () => ({ b: true }) },
  FusedBatchNormV3: { epsilon: () => ({ f: 0.0001 }), data_format: NHWC, is_training: () => ({ b: true }) },
  MaxPool: { data_format: NHWC },
  AvgPool: { data_format: NHWC },
  BiasAdd: { data_format: NHWC },
  MatMul: { transpose_a: () => ({ b: false }), transpose_b: () => ({ b: false }) },
  Pack: { axis: () => ({ i: 0 }) },
};

type WeightDtype = 'float32' | 'int32' | 'bool';

function weightDtype(t: DataType, node: string): WeightDtype {
  switch (t) {
    case DataType.DT_FLOAT:
    case DataType.DT_DOUBLE:
    case DataType.DT_HALF:
      return 'float32';
    case DataType.DT_BOOL:
      return 'bool';
    case DataType.DT_INT32:
    case DataType.DT_INT64:
    case DataType.DT_INT16:
    case DataType.DT_INT8:
    case DataType.DT_UINT8:
    case DataType.DT_UINT16:
      // tfjs has no 64/16/8-bit integer tensors; tensorflowjs_converter casts them to int32 too.
      return 'int32';
    default:
      throw new FacenetDnnError('ERR_UNSUPPORTED_OP', `Cannot run reference: Const "${node}" has dtype ${dataTypeName(t)}, which tfjs cannot hold`);
  }
}

/**
 * The nodes the outputs depend on (data and control inputs), not looking past fed nodes: TF's
 * Session prunes the same way.
 */
function closure(graph: GraphDef, outputs: readonly string[], fed: ReadonlySet<string>): Set<string> {
  const byName = new Map(graph.node.map((n) => [n.name, n]));
  const seen = new Set<string>();
  const stack = outputs.map((o) => parseInput(o).node);
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name)) continue;
    const node = byName.get(name);
    if (!node) throw new FacenetDnnError('ERR_UNKNOWN_NODE', `Cannot run reference: node "${name}" is not in the graph`);
    seen.add(name);
    if (fed.has(name)) continue;
    for (const i of node.input) stack.push(parseInput(i).node);
  }
  return seen;
}

const tfDtypeToTf: Record<WeightDtype, DataType> = {
  float32: DataType.DT_FLOAT,
  int32: DataType.DT_INT32,
  bool: DataType.DT_BOOL,
};

function feedDtype(f: ReferenceFeed | ReferenceFeedSpec): WeightDtype {
  if (f.dtype) return f.dtype;
  if (!('data' in f)) return 'float32';
  if (f.data instanceof Int32Array) return 'int32';
  if (f.data instanceof Uint8Array) return 'bool';
  return 'float32';
}

/**
 * The graph as tfjs graph-model artifacts (pruned to `outputs` from `feeds`, fed inner nodes made
 * Placeholders). Exported for tests that want to inspect what tfjs receives.
 */
export function toGraphModelArtifacts(
  graph: GraphDef,
  feeds: Readonly<Record<string, ReferenceFeed | ReferenceFeedSpec>>,
  outputs: readonly string[],
): { modelTopology: object; weightSpecs: tf.io.WeightsManifestEntry[]; weightData: ArrayBuffer } {
  const fedNodes = new Map<string, ReferenceFeed | ReferenceFeedSpec>();
  for (const [name, feed] of Object.entries(feeds)) {
    const ref = parseInput(name);
    if (ref.port !== 0) throw new RangeError(`Cannot run reference: feed "${name}" is not output 0 of its node`);
    fedNodes.set(ref.node, feed);
  }
  const keep = closure(graph, outputs, new Set(fedNodes.keys()));
  const nodes: object[] = [];
  const specs: tf.io.WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (const n of graph.node) {
    if (!keep.has(n.name)) continue;
    const feed = fedNodes.get(n.name);
    if (feed) {
      nodes.push(placeholderJson(n, feedDtype(feed)));
      continue;
    }
    if (n.op === 'Const') {
      const t = n.attr['value']?.tensor;
      if (!t) throw new FacenetDnnError('ERR_GRAPH', `Cannot run reference: Const "${n.name}" has no value`);
      const dtype = weightDtype(t.dtype, n.name);
      // A fresh copy of tensor_content: tensorToHost copies unaligned content with `.slice()`,
      // which for a Node Buffer (readFileSync, when a caller passes one) is a view, not a copy,
      // and misreads the values.
      const host = tensorToHost(t.tensor_content?.length ? { ...t, tensor_content: new Uint8Array(t.tensor_content) } : t, `"${n.name}"`);
      const bytes =
        dtype === 'float32' ? new Uint8Array(Float32Array.from(host.data).buffer)
        : dtype === 'int32' ? new Uint8Array(Int32Array.from(host.data).buffer)
        : Uint8Array.from(host.data, (v) => (v ? 1 : 0));
      specs.push({ name: n.name, shape: host.shape, dtype });
      chunks.push(bytes);
      total += bytes.length;
      // The value lives in the weights; tfjs reads a Const's dtype attr only.
      nodes.push({ name: n.name, op: 'Const', input: [...n.input], attr: { dtype: { type: dataTypeName(tfDtypeToTf[dtype]) } } });
      continue;
    }
    const attr: Record<string, object> = {};
    for (const [k, v] of Object.entries(n.attr)) attr[k] = attrJson(v);
    for (const [k, make] of Object.entries(TF_DEFAULTS[n.op] ?? {})) if (!(k in attr)) attr[k] = attrJson(make());
    nodes.push({ name: n.name, op: n.op, input: [...n.input], attr });
  }
  const weightData = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    weightData.set(c, off);
    off += c.length;
  }
  const modelTopology = { node: nodes, versions: { producer: graph.versions?.producer ?? 0 } };
  return { modelTopology, weightSpecs: specs, weightData: weightData.buffer };
}

function placeholderJson(n: NodeDef, dtype: WeightDtype): object {
  // No shape attr: tfjs then accepts any fed shape.
  return { name: n.name, op: 'Placeholder', input: [], attr: { dtype: { type: dataTypeName(tfDtypeToTf[dtype]) } } };
}

interface Tfjs {
  tf: typeof tf;
  loadGraphModelSync: typeof LoadGraphModelSync;
}

let tfjsLoaded: Promise<Tfjs> | undefined;
let wasmLoaded: Promise<unknown> | undefined;

/**
 * TensorFlow.js, imported on first use: importing this module (or the package entry that
 * re-exports it) costs nothing until a reference actually runs (tfjs takes ~0.4 s to load in Node).
 */
function loadTfjs(): Promise<Tfjs> {
  return (tfjsLoaded ??= Promise.all([
    import('@tensorflow/tfjs-core'),
    import('@tensorflow/tfjs-converter'),
    // Registers the cpu backend (the default, and tfjs' fallback).
    import('@tensorflow/tfjs-backend-cpu'),
  ]).then(([core, converter]) => ({ tf: core, loadGraphModelSync: converter.loadGraphModelSync })));
}

/** Switches tfjs to `name` unless it is already active (other callers may switch it too). */
async function useBackend(name: 'cpu' | 'wasm'): Promise<typeof tf> {
  if (name !== 'cpu' && name !== 'wasm') throw new RangeError(`Cannot run reference: backend must be "cpu" or "wasm", got ${JSON.stringify(name)}`);
  const { tf } = await loadTfjs();
  if (name === 'wasm') await (wasmLoaded ??= import('@tensorflow/tfjs-backend-wasm'));
  if (tf.getBackend() === name) return tf;
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`Cannot run reference: tfjs backend "${name}" failed to initialize`);
  await tf.ready();
  return tf;
}

/**
 * A TF graph loaded into TensorFlow.js once, for running many feeds of the same nodes (the weights
 * are converted and uploaded once: on a 95 MB graph that is most of a single run's time).
 */
export interface ReferenceModel {
  /** The fed node names the model was made for, in the order given. */
  readonly feeds: readonly string[];
  /** The fetched outputs, in the order `run` returns them. */
  readonly outputs: readonly string[];
  /**
   * Runs the graph. `feeds` must hold every node named at creation (extra names are an error:
   * the graph was pruned for the ones named then).
   */
  run(feeds: Readonly<Record<string, ReferenceFeed>>): Promise<ReferenceOutput[]>;
  /** Frees the model's weights. Idempotent. */
  dispose(): void;
}

/**
 * Loads an original TF graph into TensorFlow.js for the given fed nodes and outputs.
 *
 * @param graph a decoded (or built) TF1 GraphDef; it is not modified.
 * @param feeds the nodes that will be fed, with their dtype (inner nodes may be fed: they cut the
 *   graph there, as in TF). Feeds the outputs do not depend on are dropped, as TF ignores them.
 * @param outputs node names, optionally with `:N`.
 * @throws {FacenetDnnError} `ERR_UNKNOWN_NODE` for an output (or a node it reads) missing from the
 *   graph; `ERR_GRAPH` when the outputs depend on a Placeholder not in `feeds` (TF's "You must feed
 *   a value for placeholder tensor"), naming it and its dtype.
 * @example
 * ```ts
 * const ref = await createReferenceModel(graph, { input: {}, phase_train: { dtype: 'bool' } }, ['embeddings'], { backend: 'wasm' });
 * const [emb] = await ref.run({ input: { shape: [1, 160, 160, 3], data }, phase_train: { shape: [], data: new Uint8Array([0]), dtype: 'bool' } });
 * ref.dispose();
 * ```
 */
export async function createReferenceModel(
  graph: GraphDef,
  feeds: Readonly<Record<string, ReferenceFeedSpec>>,
  outputs: readonly string[],
  options: ReferenceOptions = {},
): Promise<ReferenceModel> {
  if (!Array.isArray(outputs) || outputs.length === 0) throw new TypeError('Cannot run reference: name at least one output');
  const fedNodes = new Set(Object.keys(feeds).map((f) => parseInput(f).node));
  const keep = closure(graph, outputs, fedNodes);
  const byName = new Map(graph.node.map((n) => [n.name, n]));
  for (const name of keep) {
    const n = byName.get(name)!;
    if (n.op === 'Placeholder' && !fedNodes.has(name)) {
      const dtype = n.attr['dtype']?.type;
      throw new FacenetDnnError(
        'ERR_GRAPH',
        `Cannot run reference: placeholder "${name}"${dtype !== undefined ? ` (${dataTypeName(dtype)})` : ''} is needed by the outputs but not fed`,
      );
    }
  }
  const used = Object.keys(feeds).filter((f) => keep.has(parseInput(f).node));
  const usedSpecs = Object.fromEntries(used.map((f) => [f, feeds[f]!]));
  await useBackend(options.backend ?? 'cpu');
  const { loadGraphModelSync } = await loadTfjs();
  const artifacts = toGraphModelArtifacts(graph, usedSpecs, outputs);
  const needsAsync = (artifacts.modelTopology as { node: NodeDef[] }).node.some((n) => ASYNC_OPS.has(n.op));
  let model: ReturnType<typeof loadGraphModelSync> | undefined = loadGraphModelSync({ ...artifacts, format: 'graph-model' } as unknown as tf.io.ModelArtifacts);
  const backend = options.backend ?? 'cpu';
  const names = Object.keys(feeds);
  return {
    feeds: names,
    outputs: [...outputs],
    async run(values) {
      if (!model) throw new Error('Cannot run reference: the model was disposed');
      for (const name of Object.keys(values)) {
        if (!(name in feeds)) throw new RangeError(`Cannot run reference: feed "${name}" was not named when the model was made (${names.map((f) => `"${f}"`).join(', ')})`);
      }
      for (const name of names) {
        if (!(name in values)) throw new RangeError(`Cannot run reference: feed "${name}" has no value`);
      }
      // Another caller may have switched the global backend since the model was made.
      const tf = await useBackend(backend);
      const inputs: Record<string, tf.Tensor> = {};
      let results: tf.Tensor[] = [];
      try {
        for (const name of used) {
          const f = values[name]!;
          const dtype = feedDtype(f);
          const data = dtype === 'bool' ? Uint8Array.from(f.data, (v) => (v ? 1 : 0)) : f.data;
          inputs[parseInput(name).node] = tf.tensor(data, f.shape, dtype);
        }
        const out = needsAsync ? await model.executeAsync(inputs, [...outputs]) : model.execute(inputs, [...outputs]);
        results = Array.isArray(out) ? out : [out];
        const got: ReferenceOutput[] = [];
        for (let k = 0; k < results.length; k++) {
          const t = results[k]!;
          const data = await t.data();
          got.push({ name: outputs[k]!, shape: [...t.shape], data: data instanceof Float32Array ? Float32Array.from(data) : Float32Array.from(data as ArrayLike<number>) });
        }
        return got;
      } finally {
        for (const t of results) t.dispose();
        for (const t of Object.values(inputs)) t.dispose();
      }
    },
    dispose() {
      model?.dispose();
      model = undefined;
    },
  };
}

/**
 * Runs the original TF graph with TensorFlow.js once and returns the named outputs (a
 * {@link createReferenceModel} made, run and disposed).
 *
 * @param graph a decoded (or built) TF1 GraphDef; it is not modified.
 * @param feeds tensors by node name; inner nodes may be fed (they cut the graph, as in TF).
 *   Bool feeds take 0/1 values in any of the array types with `dtype: 'bool'`.
 * @param outputs node names, optionally with `:N`.
 * @throws {FacenetDnnError} as {@link createReferenceModel}.
 * @example
 * ```ts
 * const [emb] = await runReference(graph, {
 *   input: { shape: [1, 160, 160, 3], data },
 *   phase_train: { shape: [], data: new Uint8Array([0]), dtype: 'bool' },
 * }, ['embeddings']);
 * ```
 */
export async function runReference(
  graph: GraphDef,
  feeds: Record<string, ReferenceFeed>,
  outputs: string[],
  options: ReferenceOptions = {},
): Promise<ReferenceOutput[]> {
  const specs = Object.fromEntries(Object.entries(feeds).map(([name, f]) => [name, { dtype: feedDtype(f) }]));
  const model = await createReferenceModel(graph, specs, outputs, options);
  try {
    return await model.run(feeds);
  } finally {
    model.dispose();
  }
}
