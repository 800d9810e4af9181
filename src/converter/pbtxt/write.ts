/**
 * Deterministic TensorFlow text format (`.pbtxt`) writer for GraphDefs.
 *
 * The output is what Python protobuf's `text_format.MessageToString(graph_def)` prints (the way
 * `tf.io.write_graph(..., as_text=True)` writes a graph): fields in field-number order, map entries
 * sorted by key, enums by name, 2-space indentation, proto3 scalars left out when they hold their
 * default value (oneof members, such as an AttrValue's `b: false`, are always written).
 */
import { FacenetDnnError } from '../errors.js';
import type { AttrValue, GraphDef, NodeDef } from '../proto/types.js';
import { enumNames, messageInfo } from './schema.js';
import type { FieldInfo, MessageInfo } from './schema.js';

/** Options of {@link graphToText}. */
export interface TextOptions {
  /**
   * Write the variant OpenCV's `readNetFromTensorflow(model, config)` takes as its `config`: the
   * graph's structure without weights. Default: `false`.
   *
   * OpenCV reads the binary model and the text config into two GraphDefs; when a config is given its
   * nodes drive the network and every Const is looked up by name in both (`addConstNodes` over the
   * model, then over the config, asserting each name is inserted once), so a Const carrying a
   * `value` in both files fails the import. The config therefore drops Const nodes (their values come
   * from the model), attributes holding a tensor, TensorFlow-internal `_`-prefixed attributes
   * (`_output_shapes`, `_class`, ...) and the fields OpenCV's copy of graph.proto does not know
   * (`experimental_*`, the function library, debug info). Identity nodes stay: OpenCV removes them
   * from both graphs itself, and their consumers name them.
   */
  opencvConfig?: boolean;
}

const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/**
 * Python's `repr` of a double: the shortest digits that read back as the same double, in fixed
 * notation when the decimal exponent is in [-4, 16) (with `.0` for integral values), else
 * `1.5e-05` / `1e+16` style. `inf`, `-inf` and `nan` as Python spells them.
 */
export function formatDouble(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() with no argument gives the shortest round-tripping digits (ECMA-262 Number::toString).
  const [mant = '', expPart = '0'] = x.toExponential().split('e');
  const exp = Number(expPart);
  const sign = mant.startsWith('-') ? '-' : '';
  const digits = mant.replace('-', '').replace('.', '');
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const int = digits.length > exp + 1 ? digits.slice(0, exp + 1) : digits.padEnd(exp + 1, '0');
  return `${sign}${int}.${digits.slice(exp + 1) || '0'}`;
}

/**
 * A float32 as protobuf's Python text printer writes it (`type_checkers.ToShortestFloat`): the value
 * rounded to 6, 7, 8 or 9 significant digits, the first that reads back as the same float32, then
 * printed as a Python float. `0.9` stays `0.9`, not `0.899999976`.
 */
export function formatFloat(x: number): string {
  if (!Number.isFinite(x) || x === 0) return formatDouble(x);
  const target = Math.fround(x);
  for (let p = 6; p <= 9; p++) {
    const r = Number(target.toPrecision(p));
    if (Math.fround(r) === target) return formatDouble(r);
  }
  return formatDouble(target);
}

// C escaping as protobuf's CEscape (text_encoding.CEscape with as_utf8=False): \t \n \r \" \' \\
// by name, every other byte outside printable ASCII as a 3-digit octal escape.
const ESCAPE: readonly string[] = Array.from({ length: 256 }, (_, b) => {
  switch (b) {
    case 9: return '\\t';
    case 10: return '\\n';
    case 13: return '\\r';
    case 34: return '\\"';
    case 39: return "\\'";
    case 92: return '\\\\';
    default: return b < 32 || b >= 127 ? `\\${b.toString(8).padStart(3, '0')}` : String.fromCharCode(b);
  }
});

/** Bytes C-escaped for a double-quoted text format string (without the quotes). */
export function cEscape(bytes: Uint8Array): string {
  const parts: string[] = [];
  const CHUNK = 8192;
  for (let start = 0; start < bytes.length; start += CHUNK) {
    let s = '';
    const end = Math.min(bytes.length, start + CHUNK);
    for (let i = start; i < end; i++) s += ESCAPE[bytes[i]!];
    parts.push(s);
  }
  return parts.join('');
}

const utf8 = new TextEncoder();

function isLongLike(v: unknown): v is { low: number; high: number; toString(): string } {
  return typeof v === 'object' && v !== null && 'low' in v && 'high' in v;
}

function isDefault(f: FieldInfo, v: unknown): boolean {
  switch (f.kind) {
    case 'string': return v === '';
    case 'bytes': return (v as Uint8Array).length === 0;
    case 'bool': return v === false;
    case 'message': return false;
    default:
      if (isLongLike(v)) return v.low === 0 && v.high === 0;
      // -0.0 is not the default in proto3 (presence is decided on the bit pattern).
      return Object.is(v, 0);
  }
}

function scalarText(f: FieldInfo, v: unknown, where: string): string {
  switch (f.kind) {
    case 'string': return `"${cEscape(utf8.encode(String(v)))}"`;
    case 'bytes': return `"${cEscape(v as Uint8Array)}"`;
    case 'bool': return v ? 'true' : 'false';
    case 'float': return formatFloat(v as number);
    case 'double': return formatDouble(v as number);
    case 'enum': return enumNames(f.typeName!).get(v as number) ?? String(v);
    default:
      if (isLongLike(v)) return v.toString();
      if (typeof v !== 'number' || !Number.isInteger(v)) {
        throw new TypeError(`Cannot write ${where}.${f.name} as text: ${String(v)} is not an integer`);
      }
      return String(v);
  }
}

function opaqueError(where: string, f: FieldInfo): FacenetDnnError {
  return new FacenetDnnError(
    'ERR_GRAPH',
    `Cannot write ${where} as text: its "${f.name}" holds a serialized TensorFlow message this writer keeps opaque`,
  );
}

function writeMessage(out: string[], msg: Record<string, unknown>, info: MessageInfo, indent: string, where: string): void {
  for (const f of info.fields) {
    const v = msg[f.name];
    if (v === undefined || v === null) continue;
    if (f.map) {
      const entries = v as Record<string, unknown>;
      const valueInfo = messageInfo(f.typeName!);
      // Python's text_format prints map entries sorted by key.
      for (const key of Object.keys(entries).sort()) {
        out.push(`${indent}${f.name} {\n${indent}  key: "${cEscape(utf8.encode(key))}"\n${indent}  value {\n`);
        writeMessage(out, (entries[key] ?? {}) as Record<string, unknown>, valueInfo, `${indent}    `, `${where}.${f.name}["${key}"]`);
        out.push(`${indent}  }\n${indent}}\n`);
      }
      continue;
    }
    if (f.repeated) {
      const items = v as ArrayLike<unknown>;
      if (items.length === 0) continue;
      if (f.opaque) throw opaqueError(where, f);
      for (let i = 0; i < items.length; i++) writeField(out, f, items[i], indent, where);
      continue;
    }
    // protobufjs keeps defaults of absent fields on the prototype: a oneof member is set only when
    // it is an own property (AttrValue `i: 0` must still be written).
    if (f.oneof && !own(msg, f.name)) continue;
    if (!f.oneof && f.kind !== 'message' && isDefault(f, v)) continue;
    if (f.opaque) {
      if ((v as Uint8Array).length === 0) continue;
      throw opaqueError(where, f);
    }
    writeField(out, f, v, indent, where);
  }
}

function writeField(out: string[], f: FieldInfo, v: unknown, indent: string, where: string): void {
  if (f.kind === 'message') {
    const m = v as Record<string, unknown>;
    const at = f.name === 'node' && typeof m['name'] === 'string' ? `node "${m['name']}"` : `${where}.${f.name}`;
    out.push(`${indent}${f.name} {\n`);
    writeMessage(out, m, messageInfo(f.typeName!), `${indent}  `, at);
    out.push(`${indent}}\n`);
  } else {
    out.push(`${indent}${f.name}: ${scalarText(f, v, where)}\n`);
  }
}

function toOpenCVConfig(graph: GraphDef): GraphDef {
  const node: NodeDef[] = [];
  for (const n of graph.node) {
    if (n.op === 'Const') continue;
    const attr: Record<string, AttrValue> = {};
    for (const [k, a] of Object.entries(n.attr)) {
      if (k.startsWith('_') || (a && own(a, 'tensor') && a.tensor)) continue;
      attr[k] = a;
    }
    const out: NodeDef = { name: n.name, op: n.op, input: n.input, attr };
    if (n.device) out.device = n.device;
    node.push(out);
  }
  const out: GraphDef = { node };
  if (graph.versions) out.versions = graph.versions;
  return out;
}

/**
 * Writes a GraphDef as TensorFlow text format, byte for byte as Python protobuf's
 * `text_format.MessageToString` prints it (floats as their shortest float32 digits, strings and
 * bytes C-escaped with octal escapes, `tensor_content` as an escaped string). The same graph
 * always gives the same text.
 *
 * @throws {FacenetDnnError} `ERR_GRAPH` when the graph holds a part this schema keeps opaque
 *   (a non-empty function library, debug info, a node's `experimental_type`); with
 *   `opencvConfig` those parts are dropped instead.
 * @example
 * ```ts
 * const text = graphToText(graph);                          // a .pbtxt of the whole graph
 * const config = graphToText(graph, { opencvConfig: true }); // for cv.readNetFromTensorflow(pb, config)
 * ```
 */
export function graphToText(graph: GraphDef, options: TextOptions = {}): string {
  const g = options.opencvConfig ? toOpenCVConfig(graph) : graph;
  const out: string[] = [];
  writeMessage(out, g as unknown as Record<string, unknown>, messageInfo('GraphDef'), '', 'graph');
  return out.join('');
}
