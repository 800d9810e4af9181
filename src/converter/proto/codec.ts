/**
 * Binary GraphDef decode/encode through protobufjs, from the prebuilt JSON descriptor (no .proto
 * parsing and no file system at run time).
 */
import protobuf from 'protobufjs/light.js';
import { FacenetDnnError } from '../errors.js';
import { descriptor } from './descriptor.js';
import type { GraphDef, Int64, LongLike, TensorShapeProto, TensorProto, AttrValue, NodeDef } from './types.js';

type PbType = protobuf.Type;

let types: { graph: PbType; node: PbType; functionName: PbType } | undefined;

function pb() {
  if (!types) {
    const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
    types = {
      graph: root.lookupType('tensorflow.GraphDef'),
      node: root.lookupType('tensorflow.NodeDef'),
      functionName: root.lookupType('tensorflow.FunctionDefName'),
    };
  }
  return types;
}

/** Options of {@link decodeGraph}. */
export interface DecodeOptions {
  /** A file name or URL to name in error messages. Default: `"graph"`. */
  source?: string;
}

const SNIFFS: Array<[number[], string]> = [
  [[0xff, 0xd8, 0xff], 'a JPEG image'],
  [[0x89, 0x50, 0x4e, 0x47], 'a PNG image'],
  [[0x47, 0x49, 0x46, 0x38], 'a GIF image'],
  [[0x1f, 0x8b], 'gzip data (decompress it first)'],
  [[0x50, 0x4b, 0x03, 0x04], 'a ZIP archive'],
  [[0x08, 0x01, 0x12], 'an ONNX model'],
];

/**
 * Says what the bytes look like when they are clearly not a binary GraphDef, or `undefined` when
 * they may be one. Cheap: looks at the first bytes only.
 */
export function sniffNotGraphDef(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return 'empty';
  for (const [magic, what] of SNIFFS) {
    if (magic.every((b, i) => bytes[i] === b)) return what;
  }
  const head = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart();
  if (head.startsWith('{') || head.startsWith('[')) return 'JSON text (a TensorFlow.js model.json?)';
  if (/^(node|versions|library)\s*\{/.test(head)) return 'a text GraphDef (.pbtxt); pass the binary .pb';
  // A GraphDef starts with one of its fields: node (1), library (2), version (3), versions (4),
  // debug_info (5), each length-delimited except `version` (varint).
  const tag = bytes[0]!;
  if (![0x0a, 0x12, 0x18, 0x22, 0x2a].includes(tag)) return 'not a protobuf GraphDef';
  return undefined;
}

function isLong(v: unknown): v is LongLike {
  return typeof v === 'object' && v !== null && 'low' in v && 'high' in v;
}

/** An int64 as a JS number; throws a RangeError when it does not fit a double exactly. */
export function int64ToNumber(v: Int64): number {
  if (typeof v === 'number') return v;
  const n = v.toNumber();
  if (!Number.isSafeInteger(n)) throw new RangeError(`Cannot use int64 value ${v.toString()}: beyond 2^53`);
  return n;
}

function normInt(v: Int64): Int64 {
  if (!isLong(v)) return v;
  const n = v.toNumber();
  return Number.isSafeInteger(n) ? n : v;
}

const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

// Only fields present in the message are touched: protobufjs keeps defaults on the prototype, and
// setting one as an own property would make the encoder write it (and break oneofs).
function normShape(s: TensorShapeProto | undefined): void {
  if (!s?.dim) return;
  for (const d of s.dim) if (own(d, 'size')) d.size = normInt(d.size);
}

function normTensor(t: TensorProto | undefined): void {
  if (!t) return;
  normShape(t.tensor_shape);
  if (t.int64_val?.length) t.int64_val = t.int64_val.map(normInt);
  if (t.uint64_val?.length) t.uint64_val = t.uint64_val.map(normInt);
}

function normAttr(a: AttrValue): void {
  if (own(a, 'i')) a.i = normInt(a.i!);
  normShape(a.shape);
  normTensor(a.tensor);
  if (a.list) {
    if (a.list.i?.length) a.list.i = a.list.i.map(normInt);
    a.list.shape?.forEach(normShape);
    a.list.tensor?.forEach(normTensor);
  }
  if (a.func?.attr) Object.values(a.func.attr).forEach(normAttr);
}

/**
 * Decodes a binary TensorFlow GraphDef (a frozen `.pb`).
 *
 * Fields the schema does not know are dropped; the function library and debug info are kept as
 * opaque bytes. int64 values become numbers. `tensor_content` byte arrays are views into `bytes`
 * (no copy): do not mutate `bytes` while the graph is in use.
 *
 * @throws {FacenetDnnError} `ERR_DECODE` naming `options.source` when the bytes are empty,
 *   truncated, another format, or not a well-formed GraphDef.
 * @example
 * ```ts
 * const graph = decodeGraph(new Uint8Array(await (await fetch(url)).arrayBuffer()), { source: url });
 * console.log(graph.node.length);
 * ```
 */
export function decodeGraph(bytes: Uint8Array, options: DecodeOptions = {}): GraphDef {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('Cannot decode graph: expected a Uint8Array');
  const source = options.source ?? 'graph';
  const what = sniffNotGraphDef(bytes);
  if (what === 'empty') throw new FacenetDnnError('ERR_DECODE', `Cannot decode ${source}: the file is empty`);
  if (what) throw new FacenetDnnError('ERR_DECODE', `Cannot decode ${source}: it looks like ${what}, not a binary TensorFlow GraphDef`);
  let msg: protobuf.Message;
  try {
    msg = pb().graph.decode(bytes);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new FacenetDnnError(
      'ERR_DECODE',
      `Cannot decode ${source}: not a well-formed GraphDef, the file may be truncated (${why})`,
      { cause },
    );
  }
  const graph = msg as unknown as GraphDef;
  if (!graph.node) graph.node = [];
  graph.node.forEach((n, i) => {
    if (!n.name || !n.op) {
      throw new FacenetDnnError(
        'ERR_DECODE',
        `Cannot decode ${source}: node #${i} has ${n.name ? `no op (name "${n.name}")` : 'no name'}; the file is not a valid GraphDef`,
      );
    }
    if (!n.input) n.input = [];
    if (!n.attr) n.attr = {};
    for (const a of Object.values(n.attr)) normAttr(a);
  });
  return graph;
}

/**
 * Encodes a GraphDef to binary protobuf. Accepts graphs from {@link decodeGraph} and plain objects
 * built with the {@link GraphDef} shape alike. Fields are written in field-number order and map
 * entries in insertion order, so decode→encode of a TensorFlow-written file gives the same bytes.
 *
 * Memory: one protobufjs writer for a 95 MB graph would grow its buffer by doubling (copying it
 * each time) and copy it once more at the end, about three times the model size at its peak. So the
 * nodes are first encoded one by one into a single reused scratch writer, only to learn their
 * sizes, then encoded again straight into an output buffer allocated once at the exact size.
 */
export function encodeGraph(graph: GraphDef): Uint8Array {
  const { graph: graphType, node: nodeType } = pb();
  const scratch = new protobuf.Writer();
  const sizes = graph.node.map((n) => {
    scratch.reset();
    nodeType.encode(n as unknown as protobuf.Message, scratch);
    return scratch.pos;
  });
  // Everything but `node` (field 1, written first as TF does): library, version, versions, debug_info.
  const rest = { ...graph, node: [] } as unknown as protobuf.Message;
  scratch.reset();
  graphType.encode(rest, scratch);
  let total = scratch.pos;
  for (const len of sizes) total += 1 + varintSize(len) + len;

  // The writer reserves room for the worst case before writing (10 bytes for a varint, 3 bytes per
  // character for a string): slack at the end keeps it from growing (and copying) the output buffer
  // for any name or string up to ~20k characters. Past that it grows, which costs memory, not bytes.
  const SLACK = 1 << 16;
  const out = new protobuf.Writer();
  out.buf = new Uint8Array(total + SLACK);
  out.pos = 0;
  graph.node.forEach((n, i) => {
    out.uint32(0x0a); // field 1 (node), wire type 2 (length-delimited)
    out.uint32(sizes[i]!);
    nodeType.encode(n as unknown as protobuf.Message, out);
  });
  graphType.encode(rest, out);
  if (out.pos !== total) throw new Error(`Internal error: graph encoded to ${out.pos} bytes, expected ${total}`);
  return out.buf.subarray(0, total);
}

function varintSize(n: number): number {
  let size = 1;
  while (n > 0x7f) {
    n >>>= 7;
    size++;
  }
  return size;
}

/** The names of the functions in a graph's (opaque) function library; empty when it has none. */
export function libraryFunctionNames(graph: GraphDef): string[] {
  const fns = graph.library?.function ?? [];
  return fns
    .map((f) => (pb().functionName.decode(f) as unknown as { signature?: { name?: string } }).signature?.name ?? '')
    .filter(Boolean);
}

/** Clones a node shallowly with fresh `input` and `attr` containers, for passes that edit a node. */
export function cloneNode(n: NodeDef, patch: Partial<NodeDef> = {}): NodeDef {
  const out: NodeDef = { name: n.name, op: n.op, input: [...n.input], attr: { ...n.attr } };
  if (n.device) out.device = n.device;
  if (n.experimental_debug_info) out.experimental_debug_info = n.experimental_debug_info;
  if (n.experimental_type?.length) out.experimental_type = n.experimental_type;
  return Object.assign(out, patch);
}
