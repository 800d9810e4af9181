/**
 * Bench-only exporter: a CONVERTED TensorFlow GraphDef (what `convert(bytes, { preset: 'facenet' })`
 * returns: batch norms folded, Switch/Merge and Identity gone, constants folded) → an ONNX
 * ModelProto, so onnxruntime-web can run the same function as a forward-bench column.
 *
 * Not part of the package. It covers the ops such a graph holds (Conv2D, BiasAdd, Add/AddV2, Mul,
 * Relu, MaxPool, AvgPool, ConcatV2, Reshape, MatMul, the l2-normalize chain Square/Sum/Maximum/Rsqrt)
 * and a few trivial neighbours; any other op throws, naming the node and the op.
 *
 * Layout: the model keeps TF's interface, input `[N, H, W, C]` (N dynamic) and outputs as TF
 * computes them (`embeddings` `[N, 512]`); inside, one Transpose turns the input NCHW (ONNX's conv
 * layout), conv weights are stored OIHW, per-channel constants are laid out for NCHW broadcasting,
 * and a tensor goes back to NHWC (Transpose) only where an op's meaning depends on the layout and is
 * not layout-aware here (Reshape: TF flattens in H, W, C order).
 *
 * The ONNX protobuf is written with protobufjs from the small descriptor below: a subset of
 * ONNX's messages with ONNX's field names and numbers (IR version 8, default-domain opset 17).
 */
import protobuf from 'protobufjs/light.js';
import { FacenetDnnError } from '../../src/converter/errors.js';
import { parseInput } from '../../src/converter/graph/names.js';
import { decodeGraph } from '../../src/converter/proto/codec.js';
import { DataType, dataTypeName } from '../../src/converter/proto/types.js';
import type { GraphDef, NodeDef } from '../../src/converter/proto/types.js';
import { attr, numElements, tensorToHost, type HostTensor } from '../../src/converter/tensor.js';

/** ONNX IR version written (8: ONNX 1.10+, read by every onnxruntime since 1.10). */
export const ONNX_IR_VERSION = 8;
/** Default-domain opset: 17 (ReduceSum takes axes as an input, Reshape has `allowzero`). */
export const ONNX_OPSET = 17;

// --- the ONNX schema subset (field names and numbers are ONNX's) -----------------------------
const repeated = (type: string, id: number) => ({ rule: 'repeated', type, id });
const DESCRIPTOR = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            ir_version: { type: 'int64', id: 1 },
            producer_name: { type: 'string', id: 2 },
            producer_version: { type: 'string', id: 3 },
            doc_string: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            opset_import: repeated('OperatorSetIdProto', 8),
          },
        },
        OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
        GraphProto: {
          fields: {
            node: repeated('NodeProto', 1),
            name: { type: 'string', id: 2 },
            initializer: repeated('TensorProto', 5),
            doc_string: { type: 'string', id: 10 },
            input: repeated('ValueInfoProto', 11),
            output: repeated('ValueInfoProto', 12),
          },
        },
        NodeProto: {
          fields: {
            input: repeated('string', 1),
            output: repeated('string', 2),
            name: { type: 'string', id: 3 },
            op_type: { type: 'string', id: 4 },
            attribute: repeated('AttributeProto', 5),
            domain: { type: 'string', id: 7 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            floats: repeated('float', 7),
            ints: repeated('int64', 8),
            type: { type: 'int32', id: 20 },
          },
        },
        TensorProto: {
          fields: {
            dims: repeated('int64', 1),
            data_type: { type: 'int32', id: 2 },
            name: { type: 'string', id: 8 },
            raw_data: { type: 'bytes', id: 9 },
          },
        },
        ValueInfoProto: { fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 } } },
        TypeProto: {
          fields: { tensor_type: { type: 'TensorTypeProto', id: 1 } },
        },
        // ONNX nests this as TypeProto.Tensor; a top-level name encodes identically.
        TensorTypeProto: { fields: { elem_type: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } },
        TensorShapeProto: { fields: { dim: repeated('DimensionProto', 1) } },
        // ONNX nests this as TensorShapeProto.Dimension (a oneof of dim_value / dim_param).
        DimensionProto: { fields: { dim_value: { type: 'int64', id: 1 }, dim_param: { type: 'string', id: 2 } } },
      },
    },
  },
};

/** ONNX TensorProto.DataType values used here. */
const ONNX_FLOAT = 1;
const ONNX_INT64 = 7;
/** ONNX AttributeProto.AttributeType values used here. */
const ATTR = { FLOAT: 1, INT: 2, INTS: 7 } as const;

let modelType: protobuf.Type | undefined;
function onnxModelType(): protobuf.Type {
  return (modelType ??= protobuf.Root.fromJSON(DESCRIPTOR as protobuf.INamespace).lookupType('onnx.ModelProto'));
}

interface OnnxAttr { name: string; type: number; i?: number; f?: number; ints?: number[] }
interface OnnxNode { input: string[]; output: string[]; name: string; op_type: string; attribute: OnnxAttr[] }
interface OnnxTensor { name: string; dims: number[]; data_type: number; raw_data: Uint8Array }
interface OnnxValueInfo { name: string; type: { tensor_type: { elem_type: number; shape: { dim: Array<{ dim_value?: number; dim_param?: string }> } } } }

/** Decoded ONNX model, as far as the subset above reads it (for tests and reports). */
export interface OnnxModelSummary {
  irVersion: number;
  opset: number;
  inputs: Array<{ name: string; dims: Array<number | string> }>;
  outputs: Array<{ name: string; dims: Array<number | string> }>;
  /** ONNX op type → count. */
  ops: Record<string, number>;
  /** Number of initializers and of float values they hold. */
  initializers: number;
  parameters: number;
}

/** Options of {@link exportOnnx}. */
export interface OnnxExportOptions {
  /** The graph's input Placeholder. Default: the graph's only Placeholder. */
  input?: string;
  /** The output nodes, in order. Default `['embeddings']`. */
  outputs?: string[];
}

/** What {@link exportOnnx} returns. */
export interface OnnxExport {
  /** The serialized ModelProto. */
  bytes: Uint8Array;
  /** ONNX op type → count in the exported graph. */
  ops: Record<string, number>;
  /** The TF output shapes as inferred (`-1` = the dynamic batch), by output name. */
  outputShapes: Record<string, number[]>;
}

/** One TF tensor as the exporter holds it. */
interface Value {
  /** ONNX tensor name holding it (for an activation). */
  name: string;
  /** `nchw`: a rank-4 activation stored NCHW (TF sees it NHWC); `plain`: stored in TF's order. */
  layout: 'nchw' | 'plain';
  /** TF's shape (NHWC for rank 4); -1 for unknown. */
  shape: number[];
  /** Set for a TF Const: its value (no ONNX tensor is written until an op uses it). */
  constant?: HostTensor;
}

// TF NHWC axis → NCHW axis.
const NHWC_TO_NCHW_AXIS = [0, 2, 3, 1];

function unsupported(n: NodeDef, why: string): FacenetDnnError {
  return new FacenetDnnError('ERR_UNSUPPORTED_OP', `Cannot export node "${n.name}" (${n.op}) to ONNX: ${why}`);
}

function floatBytes(a: Float32Array): Uint8Array {
  const copy = a.slice(); // its own aligned buffer (a may be a view into the graph's bytes)
  return new Uint8Array(copy.buffer);
}

function int64Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true));
  return out;
}

/** TF's output size and (begin, end) padding for one spatial axis (padding SAME puts the odd pixel at the end). */
function windowAxis(n: NodeDef, padding: string, size: number, k: number, stride: number, dilation: number): { out: number; begin: number; end: number } {
  const eff = (k - 1) * dilation + 1;
  if (padding === 'VALID') {
    if (size < 0) return { out: -1, begin: 0, end: 0 };
    return { out: Math.floor((size - eff) / stride) + 1, begin: 0, end: 0 };
  }
  if (padding === 'SAME') {
    if (size < 0) throw unsupported(n, 'padding SAME needs the spatial size, and it is unknown here');
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + eff - size, 0);
    const begin = Math.floor(total / 2);
    return { out, begin, end: total - begin };
  }
  throw unsupported(n, `padding "${padding}" is not supported (SAME, VALID)`);
}

function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    out.push(x === 1 ? y : y === 1 ? x : x === -1 ? y : x);
  }
  return out;
}

/**
 * Exports a converted TF GraphDef to ONNX.
 *
 * @param graph the converted graph (binary GraphDef or decoded).
 * @throws {FacenetDnnError} `ERR_UNSUPPORTED_OP` naming the node and op for an op (or attribute value)
 *   not handled; `ERR_UNKNOWN_NODE` for an input or output missing from the graph; `ERR_GRAPH` for a
 *   malformed graph.
 */
export function exportOnnx(graph: Uint8Array | GraphDef, options: OnnxExportOptions = {}): OnnxExport {
  const g = graph instanceof Uint8Array ? decodeGraph(graph) : graph;
  const outputsWanted = options.outputs ?? ['embeddings'];
  const byName = new Map(g.node.map((n) => [n.name, n]));
  const placeholders = g.node.filter((n) => n.op === 'Placeholder');
  const inputName = options.input ?? (placeholders.length === 1 ? placeholders[0]!.name : undefined);
  if (!inputName) throw new FacenetDnnError('ERR_GRAPH', `Cannot export to ONNX: name the input (placeholders: ${placeholders.map((p) => `"${p.name}"`).join(', ') || 'none'})`);
  if (!byName.has(inputName)) throw new FacenetDnnError('ERR_UNKNOWN_NODE', `Cannot export to ONNX: input "${inputName}" is not in the graph`);
  for (const o of outputsWanted) if (!byName.has(parseInput(o).node)) throw new FacenetDnnError('ERR_UNKNOWN_NODE', `Cannot export to ONNX: output "${o}" is not in the graph`);

  // Nodes the outputs need, in dependency order (iterative DFS: the graph may be deep).
  const order: NodeDef[] = [];
  const state = new Map<string, 1 | 2>();
  for (const o of outputsWanted) {
    const stack: Array<{ n: NodeDef; i: number }> = [{ n: byName.get(parseInput(o).node)!, i: 0 }];
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      if (top.i === 0) {
        if (state.get(top.n.name) === 2) { stack.pop(); continue; }
        state.set(top.n.name, 1);
      }
      if (top.i < top.n.input.length) {
        const ref = parseInput(top.n.input[top.i++]!);
        if (ref.control) continue;
        const dep = byName.get(ref.node);
        if (!dep) throw new FacenetDnnError('ERR_GRAPH', `Cannot export node "${top.n.name}" to ONNX: its input "${ref.node}" is not in the graph`);
        const s = state.get(dep.name);
        if (s === 1) throw new FacenetDnnError('ERR_GRAPH', `Cannot export to ONNX: the graph has a cycle through "${dep.name}"`);
        if (s !== 2) stack.push({ n: dep, i: 0 });
        continue;
      }
      state.set(top.n.name, 2);
      order.push(top.n);
      stack.pop();
    }
  }
  const consumers = new Map<string, NodeDef[]>();
  for (const n of order) {
    for (const i of n.input) {
      const ref = parseInput(i);
      if (ref.control) continue;
      const list = consumers.get(ref.node) ?? [];
      list.push(n);
      consumers.set(ref.node, list);
    }
  }

  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  // ONNX tensor names: the names of TF's non-Const nodes are kept for those nodes' tensors; a
  // Const's initializer takes its node's name when still free; derived tensors get fresh names.
  const used = new Set<string>();
  const unique = (base: string): string => {
    let name = base;
    for (let k = 1; used.has(name); k++) name = `${base}_${k}`;
    used.add(name);
    return name;
  };
  for (const n of g.node) if (n.op !== 'Const') used.add(n.name);
  const emit = (op_type: string, input: string[], output: string[], attribute: OnnxAttr[] = [], name = output[0]!): void => {
    nodes.push({ op_type, input, output, attribute, name: unique(`${name}/${op_type}`) });
  };
  const ints = (name: string, v: number[]): OnnxAttr => ({ name, type: ATTR.INTS, ints: v });
  const int = (name: string, v: number): OnnxAttr => ({ name, type: ATTR.INT, i: v });
  const addInit = (base: string, dims: number[], data_type: number, raw: Uint8Array): string => {
    const name = unique(base);
    initializers.push({ name, dims, data_type, raw_data: raw });
    return name;
  };
  const int64Init = (base: string, values: number[], dims: number[] = [values.length]): string => addInit(base, dims, ONNX_INT64, int64Bytes(values));

  const values = new Map<string, Value>();
  const nchwCache = new Map<string, string>();
  const plainCache = new Map<string, string>();
  const constCache = new Map<string, string>();

  const valueOf = (n: NodeDef, input: string): Value => {
    const ref = parseInput(input);
    if (ref.port !== 0) throw unsupported(n, `input "${input}" reads output ${ref.port} of its node; only output 0 is supported`);
    const v = values.get(ref.node);
    if (!v) throw new FacenetDnnError('ERR_GRAPH', `Cannot export node "${n.name}" to ONNX: input "${input}" has no value`);
    return v;
  };
  const floatConst = (n: NodeDef, v: Value): HostTensor => {
    const c = v.constant!;
    if (c.dtype !== DataType.DT_FLOAT) throw unsupported(n, `constant input of dtype ${dataTypeName(c.dtype)}, expected DT_FLOAT`);
    return c;
  };
  const intConst = (n: NodeDef, input: string): number[] => {
    const v = valueOf(n, input);
    if (!v.constant) throw unsupported(n, `input "${input}" must be a constant`);
    if (v.constant.dtype !== DataType.DT_INT32 && v.constant.dtype !== DataType.DT_INT64) throw unsupported(n, `input "${input}" must be an int32/int64 constant`);
    return Array.from(v.constant.data, Number);
  };

  /** The ONNX name of `v` laid out as `layout` (a constant becomes an initializer in that layout). */
  const operand = (n: NodeDef, v: Value, layout: 'nchw' | 'plain'): string => {
    if (v.constant) {
      const key = `${v.name}|${layout}`;
      const hit = constCache.get(key);
      if (hit) return hit;
      const c = floatConst(n, v);
      let dims = c.shape;
      let data = c.data as Float32Array;
      if (layout === 'nchw') {
        if (dims.length > 4) throw unsupported(n, `constant "${v.name}" of rank ${dims.length} against a rank-4 tensor`);
        if (dims.length > 0) {
          // NHWC broadcasting: right-align to rank 4, then move C to axis 1.
          const [nn, h, w, ch] = [...Array(4 - dims.length).fill(1), ...dims] as [number, number, number, number];
          const t = new Float32Array(data.length);
          for (let a = 0; a < nn; a++)
            for (let y = 0; y < h; y++)
              for (let x = 0; x < w; x++)
                for (let k = 0; k < ch; k++) t[((a * ch + k) * h + y) * w + x] = data[((a * h + y) * w + x) * ch + k]!;
          dims = [nn, ch, h, w];
          data = t;
        }
      }
      const name = addInit(layout === 'nchw' && dims.length === 4 ? `${v.name}/nchw` : v.name, dims, ONNX_FLOAT, floatBytes(data));
      constCache.set(key, name);
      return name;
    }
    if (v.layout === layout || v.shape.length !== 4) {
      if (v.layout !== layout && layout === 'nchw') throw unsupported(n, `operand "${v.name}" is not rank 4`);
      return v.name;
    }
    const cache = layout === 'nchw' ? nchwCache : plainCache;
    const hit = cache.get(v.name);
    if (hit) return hit;
    const out = unique(`${v.name}/${layout === 'nchw' ? 'to_nchw' : 'to_nhwc'}`);
    emit('Transpose', [v.name], [out], [ints('perm', layout === 'nchw' ? [0, 3, 1, 2] : [0, 2, 3, 1])]);
    cache.set(v.name, out);
    return out;
  };

  /** A node's only consumer when it is a BiasAdd with a constant bias (to fuse into Conv/Gemm). */
  const fusableBias = (n: NodeDef): { node: NodeDef; bias: HostTensor } | undefined => {
    const cs = consumers.get(n.name) ?? [];
    if (cs.length !== 1 || outputsWanted.some((o) => parseInput(o).node === n.name)) return undefined;
    const c = cs[0]!;
    if (c.op !== 'BiasAdd' || parseInput(c.input[0]!).node !== n.name) return undefined;
    // Read the bias Const from the graph: the walk order may reach it after this node.
    const bRef = parseInput(c.input[1]!);
    const b = byName.get(bRef.node);
    if (!b || b.op !== 'Const' || bRef.port !== 0 || !b.attr['value']?.tensor) return undefined;
    const bias = tensorToHost(b.attr['value'].tensor, `"${b.name}"`);
    if (bias.dtype !== DataType.DT_FLOAT || bias.shape.length !== 1) return undefined;
    if (attr.string(c, 'data_format', 'NHWC') !== 'NHWC') return undefined;
    return { node: c, bias };
  };
  const fused = new Set<string>();

  const checkNhwc = (n: NodeDef): void => {
    const fmt = attr.string(n, 'data_format', 'NHWC');
    if (fmt !== 'NHWC') throw unsupported(n, `data_format "${fmt}" is not supported (NHWC)`);
  };

  for (const n of order) {
    if (fused.has(n.name)) continue;
    const dataInputs = n.input.filter((i) => !i.startsWith('^'));
    switch (n.op) {
      case 'Placeholder': {
        if (n.name !== inputName) throw unsupported(n, `a second placeholder (the input is "${inputName}")`);
        const dtype = attr.type(n, 'dtype', DataType.DT_FLOAT);
        if (dtype !== DataType.DT_FLOAT) throw unsupported(n, `input dtype ${dataTypeName(dtype)}, expected DT_FLOAT`);
        const shape = attr.shape(n, 'shape');
        if (!shape) throw unsupported(n, 'the input shape is unknown');
        values.set(n.name, { name: n.name, layout: 'plain', shape });
        break;
      }
      case 'Const': {
        const t = n.attr['value']?.tensor;
        if (!t) throw new FacenetDnnError('ERR_GRAPH', `Cannot export node "${n.name}" (Const) to ONNX: it has no value`);
        const host = tensorToHost(t, `"${n.name}"`);
        values.set(n.name, { name: n.name, layout: 'plain', shape: host.shape, constant: host });
        break;
      }
      case 'Identity':
      case 'Relu':
      case 'Sigmoid':
      case 'Tanh':
      case 'Sqrt':
      case 'Neg': {
        const x = valueOf(n, dataInputs[0]!);
        if (x.constant) throw unsupported(n, 'a constant input (constants should have been folded)');
        emit(n.op === 'Neg' ? 'Neg' : n.op, [x.name], [n.name]);
        values.set(n.name, { name: n.name, layout: x.layout, shape: x.shape });
        break;
      }
      case 'Relu6': {
        const x = valueOf(n, dataInputs[0]!);
        const lo = addInit(`${n.name}/min`, [], ONNX_FLOAT, floatBytes(new Float32Array([0])));
        const hi = addInit(`${n.name}/max`, [], ONNX_FLOAT, floatBytes(new Float32Array([6])));
        emit('Clip', [x.name, lo, hi], [n.name]);
        values.set(n.name, { name: n.name, layout: x.layout, shape: x.shape });
        break;
      }
      case 'Square': {
        const x = valueOf(n, dataInputs[0]!);
        emit('Mul', [x.name, x.name], [n.name]);
        values.set(n.name, { name: n.name, layout: x.layout, shape: x.shape });
        break;
      }
      case 'Rsqrt': {
        // TF: 1 / sqrt(x).
        const x = valueOf(n, dataInputs[0]!);
        const s = unique(`${n.name}/sqrt`);
        emit('Sqrt', [x.name], [s]);
        emit('Reciprocal', [s], [n.name]);
        values.set(n.name, { name: n.name, layout: x.layout, shape: x.shape });
        break;
      }
      case 'Add':
      case 'AddV2':
      case 'BiasAdd':
      case 'Sub':
      case 'Mul':
      case 'RealDiv':
      case 'Maximum':
      case 'Minimum': {
        if (n.op === 'BiasAdd') checkNhwc(n);
        const ins = dataInputs.slice(0, 2).map((i) => valueOf(n, i));
        const acts = ins.filter((v) => !v.constant);
        if (acts.length === 0) throw unsupported(n, 'only constant inputs (constants should have been folded)');
        const layout = acts.every((v) => v.shape.length === 4) && acts.some((v) => v.layout === 'nchw') ? 'nchw' : 'plain';
        const onnxOp = { Add: 'Add', AddV2: 'Add', BiasAdd: 'Add', Sub: 'Sub', Mul: 'Mul', RealDiv: 'Div', Maximum: 'Max', Minimum: 'Min' }[n.op]!;
        emit(onnxOp, ins.map((v) => operand(n, v, layout)), [n.name]);
        values.set(n.name, { name: n.name, layout, shape: broadcastShapes(ins[0]!.shape, ins[1]!.shape) });
        break;
      }
      case 'Conv2D': {
        checkNhwc(n);
        const x = valueOf(n, dataInputs[0]!);
        const f = valueOf(n, dataInputs[1]!);
        if (x.constant) throw unsupported(n, 'a constant input image');
        if (!f.constant) throw unsupported(n, 'the filter is not a constant');
        const w = floatConst(n, f);
        if (w.shape.length !== 4 || x.shape.length !== 4) throw unsupported(n, 'input and filter must be rank 4');
        const [kh, kw, ci, co] = w.shape as [number, number, number, number];
        const strides = attr.ints(n, 'strides', [1, 1, 1, 1]);
        const dil = attr.ints(n, 'dilations', [1, 1, 1, 1]);
        if (strides[0] !== 1 || strides[3] !== 1 || dil[0] !== 1 || dil[3] !== 1) throw unsupported(n, 'strides/dilations over batch or channels');
        const padding = attr.string(n, 'padding');
        const [nb, h, wd, c] = x.shape as [number, number, number, number];
        if (c > 0 && c % ci !== 0) throw unsupported(n, `input has ${c} channels, filter ${ci}`);
        const group = c > 0 ? c / ci : 1;
        const ay = windowAxis(n, padding, h, kh, strides[1]!, dil[1]!);
        const ax = windowAxis(n, padding, wd, kw, strides[2]!, dil[2]!);
        // HWIO → OIHW.
        const src = w.data as Float32Array;
        const oihw = new Float32Array(src.length);
        for (let y = 0; y < kh; y++)
          for (let xx = 0; xx < kw; xx++)
            for (let i = 0; i < ci; i++)
              for (let o = 0; o < co; o++) oihw[((o * ci + i) * kh + y) * kw + xx] = src[((y * kw + xx) * ci + i) * co + o]!;
        const inputs = [operand(n, x, 'nchw'), addInit(`${f.name}/oihw`, [co, ci, kh, kw], ONNX_FLOAT, floatBytes(oihw))];
        const bias = fusableBias(n);
        let outName = n.name;
        if (bias && bias.bias.shape[0] === co) {
          inputs.push(addInit(parseInput(bias.node.input[1]!).node, [co], ONNX_FLOAT, floatBytes(bias.bias.data as Float32Array)));
          outName = bias.node.name;
          fused.add(bias.node.name);
        }
        emit('Conv', inputs, [outName], [
          ints('kernel_shape', [kh, kw]),
          ints('strides', [strides[1]!, strides[2]!]),
          ints('dilations', [dil[1]!, dil[2]!]),
          ints('pads', [ay.begin, ax.begin, ay.end, ax.end]),
          int('group', group),
        ]);
        const v: Value = { name: outName, layout: 'nchw', shape: [nb, ay.out, ax.out, co] };
        values.set(n.name, v);
        values.set(outName, v);
        break;
      }
      case 'MaxPool':
      case 'AvgPool': {
        checkNhwc(n);
        const x = valueOf(n, dataInputs[0]!);
        const k = attr.ints(n, 'ksize');
        const s = attr.ints(n, 'strides');
        if (k[0] !== 1 || k[3] !== 1 || s[0] !== 1 || s[3] !== 1) throw unsupported(n, 'pooling over batch or channels');
        const padding = attr.string(n, 'padding');
        const [nb, h, wd, c] = x.shape as [number, number, number, number];
        const ay = windowAxis(n, padding, h, k[1]!, s[1]!, 1);
        const ax = windowAxis(n, padding, wd, k[2]!, s[2]!, 1);
        const a = [ints('kernel_shape', [k[1]!, k[2]!]), ints('strides', [s[1]!, s[2]!]), ints('pads', [ay.begin, ax.begin, ay.end, ax.end])];
        // TF's AvgPool divides by the number of real (unpadded) elements under the window.
        if (n.op === 'AvgPool') a.push(int('count_include_pad', 0));
        emit(n.op === 'MaxPool' ? 'MaxPool' : 'AveragePool', [operand(n, x, 'nchw')], [n.name], a);
        values.set(n.name, { name: n.name, layout: 'nchw', shape: [nb, ay.out, ax.out, c] });
        break;
      }
      case 'ConcatV2': {
        const count = attr.int(n, 'N', dataInputs.length - 1);
        const ins = dataInputs.slice(0, count).map((i) => valueOf(n, i));
        const [axisRaw] = intConst(n, dataInputs[count]!);
        const rank = ins[0]!.shape.length;
        const axis = axisRaw! < 0 ? axisRaw! + rank : axisRaw!;
        const acts = ins.filter((v) => !v.constant);
        const layout = rank === 4 && acts.length > 0 && acts.some((v) => v.layout === 'nchw') ? 'nchw' : 'plain';
        emit('Concat', ins.map((v) => operand(n, v, layout)), [n.name], [int('axis', layout === 'nchw' ? NHWC_TO_NCHW_AXIS[axis]! : axis)]);
        const shape = [...ins[0]!.shape];
        shape[axis] = ins.some((v) => v.shape[axis]! < 0) ? -1 : ins.reduce((t, v) => t + v.shape[axis]!, 0);
        values.set(n.name, { name: n.name, layout, shape });
        break;
      }
      case 'Reshape': {
        // TF reshapes in its own (NHWC) element order: go back to it first.
        const x = valueOf(n, dataInputs[0]!);
        const target = intConst(n, dataInputs[1]!);
        const shapeName = int64Init(`${n.name}/shape`, target);
        emit('Reshape', [operand(n, x, 'plain'), shapeName], [n.name], [int('allowzero', 1)]); // TF: 0 is a size, not "copy"
        const known = x.shape.every((d) => d >= 0) ? numElements(x.shape) : -1;
        const rest = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
        const shape = target.map((d) => (d === -1 ? (known >= 0 && rest > 0 ? known / rest : -1) : d));
        values.set(n.name, { name: n.name, layout: 'plain', shape });
        break;
      }
      case 'Squeeze': {
        const x = valueOf(n, dataInputs[0]!);
        const rank = x.shape.length;
        let dims = attr.ints(n, 'squeeze_dims', []).map((d) => (d < 0 ? d + rank : d));
        if (dims.length === 0) {
          if (x.shape.some((d) => d < 0)) throw unsupported(n, 'squeeze of all size-1 dims with an unknown dim');
          dims = x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
        }
        emit('Squeeze', [operand(n, x, 'plain'), int64Init(`${n.name}/axes`, dims)], [n.name]);
        values.set(n.name, { name: n.name, layout: 'plain', shape: x.shape.filter((_, i) => !dims.includes(i)) });
        break;
      }
      case 'MatMul': {
        const a = valueOf(n, dataInputs[0]!);
        const b = valueOf(n, dataInputs[1]!);
        if (a.shape.length !== 2 || b.shape.length !== 2) throw unsupported(n, 'MatMul operands must be rank 2');
        const ta = attr.bool(n, 'transpose_a', false);
        const tb = attr.bool(n, 'transpose_b', false);
        const inputs = [operand(n, a, 'plain'), operand(n, b, 'plain')];
        const cols = tb ? b.shape[0]! : b.shape[1]!;
        const bias = fusableBias(n);
        let outName = n.name;
        if (bias && bias.bias.shape[0] === cols) {
          inputs.push(addInit(parseInput(bias.node.input[1]!).node, [cols], ONNX_FLOAT, floatBytes(bias.bias.data as Float32Array)));
          outName = bias.node.name;
          fused.add(bias.node.name);
        }
        emit('Gemm', inputs, [outName], [int('transA', ta ? 1 : 0), int('transB', tb ? 1 : 0)]);
        const v: Value = { name: outName, layout: 'plain', shape: [ta ? a.shape[1]! : a.shape[0]!, cols] };
        values.set(n.name, v);
        values.set(outName, v);
        break;
      }
      case 'Sum':
      case 'Mean':
      case 'Max': {
        const x = valueOf(n, dataInputs[0]!);
        const rank = x.shape.length;
        const axes = intConst(n, dataInputs[1]!).map((d) => (d < 0 ? d + rank : d));
        const keep = attr.bool(n, 'keep_dims', false);
        const layout = keep && x.layout === 'nchw' ? 'nchw' : 'plain';
        const onnxAxes = layout === 'nchw' ? axes.map((d) => NHWC_TO_NCHW_AXIS[d]!) : axes;
        const xin = operand(n, x, layout);
        if (n.op === 'Sum') {
          emit('ReduceSum', [xin, int64Init(`${n.name}/axes`, onnxAxes)], [n.name], [int('keepdims', keep ? 1 : 0)]);
        } else {
          // Opset 17: ReduceMean / ReduceMax still take axes as an attribute.
          emit(n.op === 'Mean' ? 'ReduceMean' : 'ReduceMax', [xin], [n.name], [ints('axes', onnxAxes), int('keepdims', keep ? 1 : 0)]);
        }
        const shape = keep ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
        values.set(n.name, { name: n.name, layout, shape });
        break;
      }
      default:
        throw unsupported(n, `op ${n.op} is not supported by this exporter`);
    }
  }

  // Outputs in TF's layout, under the TF names.
  const outputInfos: OnnxValueInfo[] = [];
  const outputShapes: Record<string, number[]> = {};
  for (const o of outputsWanted) {
    const node = byName.get(parseInput(o).node)!;
    const v = valueOf(node, o);
    let name = operand(node, v, 'plain');
    // Give the output its TF name when no ONNX tensor has it yet (a fused BiasAdd or a transpose
    // back to NHWC leaves the value under another name).
    if (name !== node.name && !nodes.some((x) => x.output.includes(node.name))) {
      emit('Identity', [name], [node.name]);
      name = node.name;
    }
    outputInfos.push(valueInfo(name, v.shape));
    outputShapes[o] = v.shape;
  }
  const input = values.get(inputName)!;
  const graphProto = {
    name: 'facenet-dnn bench export',
    node: nodes,
    initializer: initializers,
    input: [valueInfo(inputName, input.shape)],
    output: outputInfos,
  };
  const model = {
    ir_version: ONNX_IR_VERSION,
    producer_name: 'facenet-dnn bench/support/onnx.ts',
    producer_version: '0',
    graph: graphProto,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
  };
  const T = onnxModelType();
  // Plain objects of the right shapes: encode() takes them as they are (fromObject would copy 94 MB).
  const bytes = T.encode(model as unknown as protobuf.Message).finish();
  const ops: Record<string, number> = {};
  for (const n of nodes) ops[n.op_type] = (ops[n.op_type] ?? 0) + 1;
  return { bytes, ops, outputShapes };
}

function valueInfo(name: string, shape: readonly number[]): OnnxValueInfo {
  return {
    name,
    type: { tensor_type: { elem_type: ONNX_FLOAT, shape: { dim: shape.map((d, i) => (d >= 0 ? { dim_value: d } : { dim_param: i === 0 ? 'N' : `d${i}` })) } } },
  };
}

/** Reads back what {@link exportOnnx} wrote (the subset's fields only): for tests and reports. */
export function summarizeOnnx(bytes: Uint8Array): OnnxModelSummary {
  const T = onnxModelType();
  const m = T.toObject(T.decode(bytes), { longs: Number, bytes: Array, defaults: false }) as {
    ir_version: number;
    opset_import: Array<{ domain?: string; version: number }>;
    graph: { node: OnnxNode[]; initializer?: Array<{ dims?: number[]; raw_data?: number[] }>; input: OnnxValueInfo[]; output: OnnxValueInfo[] };
  };
  const dims = (v: OnnxValueInfo) => v.type.tensor_type.shape.dim.map((d) => (d.dim_param !== undefined ? d.dim_param : Number(d.dim_value)));
  const ops: Record<string, number> = {};
  for (const n of m.graph.node) ops[n.op_type] = (ops[n.op_type] ?? 0) + 1;
  let parameters = 0;
  for (const t of m.graph.initializer ?? []) parameters += (t.dims ?? []).reduce((a, b) => a * Number(b), 1);
  return {
    irVersion: Number(m.ir_version),
    opset: Number(m.opset_import.find((o) => !o.domain)?.version),
    inputs: m.graph.input.map((v) => ({ name: v.name, dims: dims(v) })),
    outputs: m.graph.output.map((v) => ({ name: v.name, dims: dims(v) })),
    ops,
    initializers: (m.graph.initializer ?? []).length,
    parameters,
  };
}
