/**
 * Static shape inference over a frozen GraphDef, with TF's notion of *symbolic* unknown dims.
 *
 * TensorFlow's shape functions pass dimension handles around: the unknown batch dim of a
 * Placeholder [-1,160,160,3] is the *same* unknown all the way down to the flatten's
 * `Shape(x)[0]`. This module does the same with negative ids: internally a dim is either a known
 * size (≥ 0) or a symbol (≤ -2), and two equal symbols are the same unknown. Small tensors'
 * values are tracked too, partially: `Shape(x)` of a [batch,1,1,1792] tensor is the value
 * [batch,1,1,1792] with `batch` a symbol, which StridedSlice and Pack carry on (they run their
 * kernels on index tensors, see `MOVEMENT_OPS`). That is what lets `fold-constants` fold the
 * static parts of shape computations while never freezing a dynamic batch dim, and lets `flatten`
 * prove that `Reshape(x, Pack(Shape(x)[0], -1))` equals `Reshape(x, [-1, C])`.
 *
 * Unknown ops give unknown shapes, never an error; a malformed attribute or an inconsistent input
 * only makes the affected shapes unknown.
 */
import { BINARY_OPS, UNARY_OPS, reducedShape, REDUCERS } from '../kernels/math.js';
import { isMovementOp, KERNELS, MOVEMENT_OPS, stridedSliceSpec } from '../kernels/index.js';
import { alloc, broadcastIndex, isFloat } from '../kernels/util.js';
import { DataType } from '../proto/types.js';
import type { GraphDef, NodeDef } from '../proto/types.js';
import { attr, numElements, shapeDims, tensorToHost, type HostTensor } from '../tensor.js';
import { parseInput, tensorKey } from './names.js';
import { topoSort } from './sort.js';

/** A shape: dims (-1 unknown in {@link inferShapes}' results, symbols ≤ -2 in {@link ShapeAnalysis}), or `undefined` for unknown rank. */
export type Shape = number[] | undefined;

/** An unknown scalar in a partially known value; equal ids are equal values (a shape symbol's id). */
export class Sym {
  constructor(readonly id: number) {}
}

/** One element of a partially known value. */
export type Elem = number | Sym;

/** A small tensor whose elements are known numbers or symbols. */
export interface PartialValue {
  dtype: DataType;
  shape: number[];
  elems: Elem[];
}

/** Result of {@link analyzeShapes}. Keys are `tensorKey(node, port)` ("node:port"). */
export interface ShapeAnalysis {
  /** Symbolic shape of a tensor: known dims ≥ 0, unknown dims are symbols ≤ -2 (equal ids are equal dims). */
  shape(key: string): Shape;
  /** The partially known value of a small tensor (≤ {@link VALUE_LIMIT} elements), if any. */
  value(key: string): PartialValue | undefined;
  /** The value of a tensor when every element is known, as a host tensor; otherwise `undefined`. */
  knownValue(key: string): HostTensor | undefined;
  /** Every tensor's symbolic shape. */
  readonly shapes: ReadonlyMap<string, Shape>;
}

/** Largest tensor whose value shape inference tracks (shape vectors, axes, small constants). */
export const VALUE_LIMIT = 256;

/** Ops whose output 0 has the shape of input 0. */
const SAME_SHAPE = new Set([
  ...Object.keys(UNARY_OPS),
  'Identity', 'Snapshot', 'StopGradient', 'PreventGradient', 'CheckNumerics', 'Elu', 'Selu', 'LeakyRelu',
  'Softplus', 'Softsign', 'Softmax', 'LogSoftmax', 'LRN', 'ZerosLike', 'OnesLike', 'Dequantize', 'Erf',
  'FakeQuantWithMinMaxVars', 'FakeQuantWithMinMaxArgs', 'ClipByValue', 'BiasAdd', 'BiasAddV1', 'Cast',
  'Enter', 'Exit', 'NextIteration', 'IsNan', 'IsInf', 'IsFinite', 'Relu6', 'Mish', 'Swish',
]);

/** Ops with numpy broadcasting of their inputs. */
const BROADCAST = new Set([...Object.keys(BINARY_OPS), 'SelectV2', 'Atan2', 'BiasAddGrad']);
BROADCAST.delete('BiasAddGrad');

function isSym(e: Elem): e is Sym {
  return typeof e !== 'number';
}

function dimToElem(d: number): Elem {
  return d >= 0 ? d : new Sym(d);
}

function elemToDim(e: Elem): number {
  return isSym(e) ? e.id : e;
}

class Analyzer {
  readonly shapes = new Map<string, Shape>();
  readonly values = new Map<string, PartialValue>();
  private next = -2;

  fresh(): number {
    return this.next--;
  }

  freshSym(): Sym {
    return new Sym(this.fresh());
  }

  /** Broadcast of two (symbolic) dims. */
  bdim(a: number, b: number): number {
    if (a === b) return a;
    if (a === 1) return b;
    if (b === 1) return a;
    if (a >= 0) return a; // b is unknown: it must be a (or 1), the result is a
    if (b >= 0) return b;
    return this.fresh();
  }

  broadcast(a: Shape, b: Shape): Shape {
    if (!a || !b) return undefined;
    const rank = Math.max(a.length, b.length);
    const out: number[] = [];
    for (let i = 0; i < rank; i++) out.push(this.bdim(a[a.length - rank + i] ?? 1, b[b.length - rank + i] ?? 1));
    return out;
  }

  /** Dims from a TensorShapeProto-like list, with each unknown dim a fresh symbol. */
  declared(dims: number[] | undefined): Shape {
    return dims?.map((d) => (d < 0 ? this.fresh() : d));
  }

  /** Merges shapes that must be equal (Pack's inputs, Merge's inputs); unknown if any is unknown. */
  merge(shapes: Shape[]): Shape {
    if (shapes.length === 0 || shapes.some((s) => s === undefined)) return undefined;
    const known = shapes as number[][];
    const first = known[0]!;
    if (known.some((s) => s.length !== first.length)) return undefined;
    return first.map((d, i) => {
      const col = known.map((s) => s[i]!);
      if (col.every((v) => v === d)) return d;
      return col.find((v) => v >= 0) ?? this.fresh();
    });
  }

  /** Fully known number values of a tensor, or undefined. */
  ints(key: string | undefined): number[] | undefined {
    if (!key) return undefined;
    const v = this.values.get(key);
    if (!v || v.elems.some(isSym)) return undefined;
    return v.elems as number[];
  }

  /** A value's elements as dims (symbols kept), for shape-valued inputs (Reshape, Fill, input_sizes). */
  dimsOf(key: string | undefined): number[] | undefined {
    if (!key) return undefined;
    const v = this.values.get(key);
    if (!v || v.shape.length > 1) return undefined;
    return v.elems.map((e) => {
      const d = elemToDim(e);
      return d === -1 ? -1 : d;
    });
  }

  knownValue(key: string): HostTensor | undefined {
    const v = this.values.get(key);
    if (!v || v.elems.some(isSym)) return undefined;
    const data = alloc(v.dtype, v.elems.length);
    data.set(v.elems as number[]);
    return { dtype: v.dtype, shape: [...v.shape], data };
  }

  run(graph: GraphDef): void {
    for (const node of topoSort(graph.node)) this.visit(node);
  }

  private visit(node: NodeDef): void {
    const keys: string[] = [];
    for (const s of node.input) {
      if (s.charCodeAt(0) === 94 /* ^ */) continue;
      const r = parseInput(s);
      keys.push(r.port === 0 ? `${r.node}:0` : tensorKey(r.node, r.port));
    }
    const name = node.name;
    const shapes = this.shapes;
    const inShape = (i: number): Shape => {
      const k = keys[i];
      return k === undefined ? undefined : shapes.get(k);
    };
    const set = (port: number, s: Shape) => void shapes.set(tensorKey(name, port), s);
    // A malformed node leaves its outputs unknown: shape inference never fails a conversion.
    try {
      const out = this.shapeOf(node, keys, inShape, set);
      if (out !== null) set(0, out);
    } catch {
      set(0, undefined);
    }
    // Most nodes have no small value in and are not a value source: skip them cheaply.
    const op = node.op;
    if (op !== 'Const' && op !== 'Shape' && op !== 'Size' && op !== 'Rank' && !keys.some((k) => this.values.has(k))) return;
    try {
      this.valueOf(node, keys);
    } catch {
      for (let p = 0; p < 8; p++) this.values.delete(tensorKey(name, p));
    }
  }

  /** Returns output 0's shape, or null when `set` was called for every port already. */
  private shapeOf(node: NodeDef, keys: string[], inShape: (i: number) => Shape, set: (port: number, s: Shape) => void): Shape | null {
    const op = node.op;
    const x = inShape(0);
    if (op === 'Const') {
      const t = node.attr['value']?.tensor;
      return t ? shapeDims(t.tensor_shape) : undefined;
    }
    if (op === 'Placeholder') return this.declared(attr.shape(node, 'shape'));
    if (op === 'PlaceholderWithDefault') return node.attr['shape'] ? this.declared(attr.shape(node, 'shape')) : x;
    if (SAME_SHAPE.has(op)) return x;
    if (op === 'Select') return x === undefined ? inShape(1) : this.merge([inShape(1), inShape(2)]);
    if (BROADCAST.has(op)) {
      if (op === 'SelectV2') return this.broadcast(x, this.broadcast(inShape(1), inShape(2)));
      return this.broadcast(x, inShape(1));
    }
    if (op === 'IdentityN') {
      keys.forEach((_, i) => set(i, inShape(i)));
      return null;
    }
    if (op === 'Switch') {
      set(0, x);
      set(1, x);
      return null;
    }
    if (op === 'Merge') {
      set(0, this.merge(keys.map((_, i) => inShape(i)).filter((s, i) => s !== undefined || this.shapes.has(keys[i]!))));
      set(1, []);
      return null;
    }
    switch (op) {
      case 'Conv2D':
      case 'DepthwiseConv2dNative':
      case 'MaxPool':
      case 'AvgPool':
        return this.convLike(node, x, inShape(1));
      case 'Conv2DBackpropInput':
        return this.dimsOf(keys[0]) ?? (inShape(0)?.[0] !== undefined ? Array.from({ length: inShape(0)![0]! }, () => this.fresh()) : undefined);
      case 'MatMul': {
        const b = inShape(1);
        if (!x || !b || x.length !== 2 || b.length !== 2) return undefined;
        const ta = attr.bool(node, 'transpose_a', false);
        const tb = attr.bool(node, 'transpose_b', false);
        return [ta ? x[1]! : x[0]!, tb ? b[0]! : b[1]!];
      }
      case 'BatchMatMul':
      case 'BatchMatMulV2': {
        const b = inShape(1);
        if (!x || !b || x.length < 2 || b.length < 2) return undefined;
        const ax = attr.bool(node, 'adj_x', false);
        const ay = attr.bool(node, 'adj_y', false);
        const batch = op === 'BatchMatMul' ? this.merge([x.slice(0, -2), b.slice(0, -2)]) : this.broadcast(x.slice(0, -2), b.slice(0, -2));
        if (!batch) return undefined;
        return [...batch, ax ? x[x.length - 1]! : x[x.length - 2]!, ay ? b[b.length - 2]! : b[b.length - 1]!];
      }
      case 'Reshape':
        return this.reshape(x, keys[1], inShape(1));
      case 'Shape':
        return [x ? x.length : this.fresh()];
      case 'ShapeN':
        keys.forEach((_, i) => set(i, [inShape(i)?.length ?? this.fresh()]));
        return null;
      case 'Size':
      case 'Rank':
        return [];
      case 'StridedSlice':
        return this.stridedSlice(node, x, keys);
      case 'Slice': {
        const begin = this.ints(keys[1]);
        const size = this.ints(keys[2]);
        if (!x || !begin || !size || begin.length !== x.length || size.length !== x.length) {
          return size && size.every((d) => d >= 0) ? size : undefined;
        }
        return size.map((s, i) => (s !== -1 ? s : x[i]! >= 0 ? x[i]! - begin[i]! : begin[i] === 0 ? x[i]! : this.fresh()));
      }
      case 'Pack': {
        const m = this.merge(keys.map((_, i) => inShape(i)));
        if (!m) return undefined;
        const axis = attr.int(node, 'axis', 0);
        const a = axis < 0 ? axis + m.length + 1 : axis;
        if (a < 0 || a > m.length) return undefined;
        return [...m.slice(0, a), keys.length, ...m.slice(a)];
      }
      case 'Unpack': {
        const num = attr.int(node, 'num');
        let s: Shape;
        if (x) {
          const axis = attr.int(node, 'axis', 0);
          const a = axis < 0 ? axis + x.length : axis;
          s = x.filter((_, i) => i !== a);
        }
        for (let p = 0; p < num; p++) set(p, s);
        return null;
      }
      case 'Split': {
        const num = attr.int(node, 'num_split');
        const axis = this.ints(keys[0])?.[0];
        const v = inShape(1);
        let s: Shape;
        if (v && axis !== undefined) {
          const a = axis < 0 ? axis + v.length : axis;
          s = v.map((d, i) => (i !== a ? d : d >= 0 ? d / num : this.fresh()));
        }
        for (let p = 0; p < num; p++) set(p, s);
        return null;
      }
      case 'ConcatV2':
      case 'Concat': {
        const axisKey = op === 'ConcatV2' ? keys[keys.length - 1] : keys[0];
        const parts = (op === 'ConcatV2' ? keys.slice(0, -1) : keys.slice(1)).map((k) => this.shapes.get(k));
        const axisV = this.ints(axisKey)?.[0];
        const first = parts.find((p) => p !== undefined);
        if (axisV === undefined || !first || parts.some((p) => !p || p.length !== first.length)) return undefined;
        const a = axisV < 0 ? axisV + first.length : axisV;
        const rest = this.merge(parts.map((p) => p!.filter((_, i) => i !== a)));
        if (!rest) return undefined;
        const sizes = parts.map((p) => p![a]!);
        const sum = sizes.every((d) => d >= 0) ? sizes.reduce((s, d) => s + d, 0) : this.fresh();
        return [...rest.slice(0, a), sum, ...rest.slice(a)];
      }
      case 'ExpandDims': {
        const d = this.ints(keys[1])?.[0];
        if (!x || d === undefined) return undefined;
        const a = d < 0 ? d + x.length + 1 : d;
        return [...x.slice(0, a), 1, ...x.slice(a)];
      }
      case 'Squeeze': {
        if (!x) return undefined;
        const dims = attr.ints(node, 'squeeze_dims', []).map((a) => (a < 0 ? a + x.length : a));
        if (dims.length === 0) return x.some((d) => d < 0) ? undefined : x.filter((d) => d !== 1);
        return x.filter((_, i) => !dims.includes(i));
      }
      case 'FusedBatchNorm':
      case 'FusedBatchNormV2':
      case 'FusedBatchNormV3': {
        const nchw = attr.string(node, 'data_format', 'NHWC') === 'NCHW';
        const c = x ? (nchw ? x[1] : x[x.length - 1]) : undefined;
        const cs = c === undefined ? inShape(1) : [c];
        set(0, x);
        for (let p = 1; p <= 4; p++) set(p, cs);
        if (op === 'FusedBatchNormV3') set(5, undefined);
        return null;
      }
      case 'Pad':
      case 'PadV2':
      case 'MirrorPad': {
        const p = this.ints(keys[1]);
        if (!x || !p || p.length !== 2 * x.length) return x && keys[1] ? x.map(() => this.fresh()) : undefined;
        return x.map((d, i) => {
          const extra = p[2 * i]! + p[2 * i + 1]!;
          return extra === 0 ? d : d >= 0 ? d + extra : this.fresh();
        });
      }
      case 'Transpose': {
        const perm = this.ints(keys[1]);
        if (!x || !perm || perm.length !== x.length) return undefined;
        return perm.map((q) => x[q]!);
      }
      case 'Tile': {
        const m = this.ints(keys[1]);
        if (!x || !m || m.length !== x.length) return undefined;
        return x.map((d, i) => (m[i] === 1 ? d : d >= 0 ? d * m[i]! : this.fresh()));
      }
      case 'Fill':
        return this.dimsOf(keys[0]);
      case 'Range': {
        const v = ['start', 'limit', 'delta'].map((_, i) => this.ints(keys[i])?.[0]);
        if (v.some((e) => e === undefined)) return [this.fresh()];
        const [s, l, d] = v as [number, number, number];
        return [Math.ceil(Math.abs((l - s) / d))];
      }
      case 'Gather':
      case 'GatherV2': {
        const idx = inShape(1);
        const axis = op === 'GatherV2' ? this.ints(keys[2])?.[0] : 0;
        if (!x || !idx || axis === undefined) return undefined;
        const a = axis < 0 ? axis + x.length : axis;
        return [...x.slice(0, a), ...idx, ...x.slice(a + 1)];
      }
      case 'ArgMax':
      case 'ArgMin': {
        const axis = this.ints(keys[1])?.[0];
        if (!x || axis === undefined) return undefined;
        const a = axis < 0 ? axis + x.length : axis;
        return x.filter((_, i) => i !== a);
      }
      case 'ResizeBilinear':
      case 'ResizeNearestNeighbor':
      case 'ResizeBicubic': {
        const size = this.dimsOf(keys[1]);
        if (!x || x.length !== 4 || !size || size.length !== 2) return undefined;
        return [x[0]!, size[0]!, size[1]!, x[3]!];
      }
      default:
        if (REDUCERS[op] || op === 'EuclideanNorm') {
          const axes = this.ints(keys[1]);
          const keep = attr.bool(node, 'keep_dims', false);
          if (!x) return undefined;
          if (!axes) return keep ? x.map(() => this.fresh()) : undefined;
          const norm = [...new Set(axes.map((a) => (a < 0 ? a + x.length : a)))];
          return reducedShape(x, norm, keep);
        }
        return undefined;
    }
  }

  private convLike(node: NodeDef, x: Shape, filter: Shape): Shape {
    if (!x || x.length !== 4) return undefined;
    const nchw = attr.string(node, 'data_format', 'NHWC') === 'NCHW';
    const [hI, wI, cI] = nchw ? [2, 3, 1] : [1, 2, 3];
    const strides = attr.ints(node, 'strides', [1, 1, 1, 1]);
    const dil = attr.ints(node, 'dilations', [1, 1, 1, 1]);
    const padding = attr.string(node, 'padding', 'VALID');
    const pool = node.op === 'MaxPool' || node.op === 'AvgPool';
    let kh: number;
    let kw: number;
    let cOut: number;
    if (pool) {
      const k = attr.ints(node, 'ksize');
      [kh, kw, cOut] = [k[hI]!, k[wI]!, x[cI]!];
    } else {
      if (!filter || filter.length !== 4) return undefined;
      kh = filter[0]!;
      kw = filter[1]!;
      if (node.op === 'DepthwiseConv2dNative') {
        const cin = x[cI]! >= 0 ? x[cI]! : filter[2]!;
        cOut = cin >= 0 && filter[3]! >= 0 ? cin * filter[3]! : this.fresh();
      } else cOut = filter[3]!;
    }
    const explicit = padding === 'EXPLICIT' ? attr.ints(node, 'explicit_paddings', []) : [];
    const size = (i: number, k: number, axis: number): number => {
      const s = strides[axis] ?? 1;
      const d = pool ? 1 : dil[axis] ?? 1;
      if (i < 0 || k < 0) return this.fresh();
      const eff = (k - 1) * d + 1;
      if (padding === 'SAME') return Math.ceil(i / s);
      if (padding === 'EXPLICIT') return Math.floor((i + (explicit[2 * axis] ?? 0) + (explicit[2 * axis + 1] ?? 0) - eff) / s) + 1;
      return Math.max(0, Math.ceil((i - eff + 1) / s));
    };
    const out = [...x];
    out[hI] = size(x[hI]!, kh, hI);
    out[wI] = size(x[wI]!, kw, wI);
    out[cI] = cOut;
    return out;
  }

  private reshape(x: Shape, shapeKey: string | undefined, shapeShape: Shape): Shape {
    const target = this.dimsOf(shapeKey);
    if (!target) {
      const r = shapeShape?.[0];
      return r !== undefined && r >= 0 ? Array.from({ length: r }, () => this.fresh()) : undefined;
    }
    const wild = target.indexOf(-1);
    if (wild < 0) return target;
    if (target.indexOf(-1, wild + 1) >= 0 || !x) return target.map((d) => (d === -1 ? this.fresh() : d));
    // Element count as (known product) × (multiset of symbols), on both sides; cancel symbols.
    let knownIn = 1;
    const symsIn: number[] = [];
    for (const d of x) d >= 0 ? (knownIn *= d) : symsIn.push(d);
    let knownOut = 1;
    let solved: number | undefined;
    let ok = true;
    target.forEach((d, i) => {
      if (i === wild) return;
      if (d >= 0) knownOut *= d;
      else {
        const j = symsIn.indexOf(d);
        if (j >= 0) symsIn.splice(j, 1);
        else ok = false;
      }
    });
    if (ok && knownOut > 0) {
      if (symsIn.length === 0 && knownIn % knownOut === 0) solved = knownIn / knownOut;
      else if (symsIn.length === 1 && knownIn === knownOut) solved = symsIn[0];
    }
    return target.map((d, i) => (i === wild ? solved ?? this.fresh() : d));
  }

  private stridedSlice(node: NodeDef, x: Shape, keys: string[]): Shape {
    const b = this.ints(keys[1]);
    const e = this.ints(keys[2]);
    const s = this.ints(keys[3]);
    if (!x || !b || !e || !s) return undefined;
    const spec = stridedSliceSpec(x, b, e, s, {
      begin: attr.int(node, 'begin_mask', 0),
      end: attr.int(node, 'end_mask', 0),
      ellipsis: attr.int(node, 'ellipsis_mask', 0),
      newAxis: attr.int(node, 'new_axis_mask', 0),
      shrinkAxis: attr.int(node, 'shrink_axis_mask', 0),
    });
    return spec.shape.map((d) => (d === -1 ? this.fresh() : d));
  }

  // ---- values ----

  private valueOf(node: NodeDef, keys: string[]): void {
    const op = node.op;
    const key0 = tensorKey(node.name, 0);
    const setV = (port: number, v: PartialValue | undefined) => {
      if (v && v.elems.length <= VALUE_LIMIT) this.values.set(tensorKey(node.name, port), v);
    };
    if (op === 'Const') {
      const t = node.attr['value']?.tensor;
      const dims = t && shapeDims(t.tensor_shape);
      if (!t || !dims || dims.some((d) => d < 0) || numElements(dims) > VALUE_LIMIT) return;
      // Values matter for shape arithmetic (integers) and scalar operands (Fill, Range); decoding
      // every small float vector (biases, batch-norm parameters) would only cost time.
      if (isFloat(t.dtype) && numElements(dims) > 8) return;
      let h: HostTensor;
      try {
        h = tensorToHost(t, `"${node.name}"`);
      } catch {
        return;
      }
      setV(0, { dtype: h.dtype, shape: h.shape, elems: Array.from(h.data as ArrayLike<number>) });
      return;
    }
    if (op === 'Shape' || op === 'Size' || op === 'Rank') {
      const s = this.shapes.get(keys[0] ?? '');
      if (!s) return;
      const dtype = op === 'Rank' ? DataType.DT_INT32 : attr.type(node, 'out_type', DataType.DT_INT32);
      if (op === 'Shape') setV(0, { dtype, shape: [s.length], elems: s.map(dimToElem) });
      else if (op === 'Rank') setV(0, { dtype, shape: [], elems: [s.length] });
      else setV(0, { dtype, shape: [], elems: [s.every((d) => d >= 0) ? numElements(s) : this.freshSym()] });
      return;
    }
    const ins = keys.map((k) => this.values.get(k));
    // Fully known inputs: run the kernel (small outputs only).
    const kernel = KERNELS.get(op);
    if (kernel && ins.length > 0 && ins.every((v) => v && !v.elems.some(isSym))) {
      const s0 = this.shapes.get(key0);
      if (s0 && (s0.some((d) => d < 0) || numElements(s0) > VALUE_LIMIT)) return;
      const hosts = keys.map((k) => this.knownValue(k)!);
      const outs = kernel(hosts, node);
      outs.forEach((h, p) => setV(p, { dtype: h.dtype, shape: h.shape, elems: Array.from(h.data as ArrayLike<number>) }));
      return;
    }
    if (isMovementOp(op)) {
      this.moveValues(node, keys, ins);
      return;
    }
    if (op === 'Cast') {
      const v = ins[0];
      const dst = attr.type(node, 'DstT');
      // Integer → integer casts keep symbols (shape values are small non-negative integers).
      if (v && !isFloat(v.dtype) && !isFloat(dst) && dst !== DataType.DT_BOOL) setV(0, { ...v, dtype: dst });
      return;
    }
    const spec = BINARY_OPS[op];
    if (spec && ins[0] && ins[1]) this.binaryValue(node, spec, ins[0], ins[1], setV);
  }

  private moveValues(node: NodeDef, keys: string[], ins: (PartialValue | undefined)[]): void {
    const moved = MOVEMENT_OPS[node.op]!(keys.length);
    const table: Elem[] = [];
    const hosts: HostTensor[] = [];
    let dtype: DataType | undefined;
    for (let i = 0; i < keys.length; i++) {
      const v = ins[i];
      if (!v) return;
      if (moved.includes(i)) {
        dtype ??= v.dtype;
        const idx = new Int32Array(v.elems.length);
        for (let k = 0; k < idx.length; k++) idx[k] = table.push(v.elems[k]!) - 1;
        hosts.push({ dtype: DataType.DT_INT32, shape: v.shape, data: idx });
      } else {
        if (v.elems.some(isSym)) return;
        const h = this.knownValue(keys[i]!)!;
        hosts.push(h);
      }
    }
    if (dtype === undefined) return;
    const outs = KERNELS.get(node.op)!(hosts, node);
    outs.forEach((h, p) => {
      if (h.data.length > VALUE_LIMIT) return;
      this.values.set(tensorKey(node.name, p), {
        dtype: dtype!,
        shape: h.shape,
        elems: Array.from(h.data as ArrayLike<number>, (i) => table[i]!),
      });
    });
  }

  private binaryValue(
    node: NodeDef,
    spec: (typeof BINARY_OPS)[string],
    a: PartialValue,
    b: PartialValue,
    setV: (port: number, v: PartialValue | undefined) => void,
  ): void {
    const shape = this.broadcast(a.shape, b.shape);
    if (!shape || shape.some((d) => d < 0) || numElements(shape) > VALUE_LIMIT) return;
    const ma = broadcastIndex(a.shape, shape);
    const mb = broadcastIndex(b.shape, shape);
    const get = (v: PartialValue, m: typeof ma, e: number): Elem => (m === 'same' ? v.elems[e]! : m === 'scalar' ? v.elems[0]! : v.elems[m[e]!]!);
    const f = a.dtype === DataType.DT_FLOAT && spec.f32 ? spec.f32 : !isFloat(a.dtype) && spec.int ? spec.int : spec.f;
    const dtype = spec.bool ? DataType.DT_BOOL : a.dtype;
    const cell = alloc(dtype, 1);
    const op = node.op;
    const elems: Elem[] = [];
    for (let e = 0; e < numElements(shape); e++) {
      const x = get(a, ma, e);
      const y = get(b, mb, e);
      if (!isSym(x) && !isSym(y)) {
        cell[0] = f(x, y);
        elems.push(cell[0]!);
      } else if ((op === 'Mul' && y === 1) || ((op === 'Add' || op === 'AddV2' || op === 'Sub') && y === 0) || ((op === 'FloorDiv' || op === 'Div' || op === 'RealDiv') && y === 1)) {
        elems.push(x);
      } else if ((op === 'Mul' && x === 1) || ((op === 'Add' || op === 'AddV2') && x === 0)) {
        elems.push(y);
      } else if ((op === 'Maximum' || op === 'Minimum') && isSym(x) && isSym(y) && x.id === y.id) {
        elems.push(x);
      } else elems.push(this.freshSym());
    }
    setV(0, { dtype, shape, elems });
  }
}

/**
 * Symbolic shape and partial-value analysis of a whole graph, in topological order. See the
 * module comment for the meaning of symbols.
 *
 * @throws {FacenetDnnError} `ERR_GRAPH` only for a graph that cannot be ordered (cycle, dangling input).
 */
export function analyzeShapes(graph: GraphDef): ShapeAnalysis {
  const a = new Analyzer();
  a.run(graph);
  return {
    shapes: a.shapes,
    shape: (key) => a.shapes.get(key),
    value: (key) => a.values.get(key),
    knownValue: (key) => a.knownValue(key),
  };
}

/**
 * Static shapes of every tensor, keyed by `tensorKey(node, port)` ("node:port"): a dims array with
 * -1 for an unknown dim, or `undefined` for an unknown rank (and for every output of an op it does
 * not know). Never throws for an unknown or malformed op.
 *
 * @example
 * ```ts
 * const shapes = inferShapes(graph);
 * shapes.get(tensorKey('InceptionResnetV1/Logits/AvgPool_1a_8x8/AvgPool', 0)); // [-1, 1, 1, 1792]
 * ```
 */
export function inferShapes(graph: GraphDef): Map<string, number[] | undefined> {
  const out = new Map<string, number[] | undefined>();
  for (const [k, s] of analyzeShapes(graph).shapes) out.set(k, s?.map((d) => (d < 0 ? -1 : d)));
  return out;
}
