/**
 * Pass `fold-batch-norms`: folds inference batch norms into the weights of the Conv2D,
 * DepthwiseConv2dNative or MatMul in front of them, plus a BiasAdd, as TF's `fold_batch_norms` /
 * `fold_old_batch_norms` and tfjs-converter's `fold_batch_norms.py` do.
 *
 * y = gamma·(x − mean)/sqrt(var + eps) + beta = x·scale + shift, scale = gamma/sqrt(var + eps),
 * shift = beta − mean·scale. With x = W∗in + b: W' = W·scale per output channel,
 * b' = b·scale + shift. Computed in float64, stored as float32.
 */
import { GraphIndex } from '../graph/graph.js';
import { parseInput, tensorName, UniqueNames } from '../graph/names.js';
import { cloneNode } from '../proto/codec.js';
import { DataType } from '../proto/types.js';
import type { GraphDef, NodeDef } from '../proto/types.js';
import { attr, attrValue, constNode, constValue, hostToTensor, isNumericDtype, numElements, tensorToHost } from '../tensor.js';
import type { HostTensor } from '../tensor.js';
import type { Pass, PassContext } from './types.js';

const LINEAR_OPS = new Set(['Conv2D', 'DepthwiseConv2dNative', 'MatMul']);
const FUSED_BN_OPS = new Set(['FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3']);
const GLOBAL_BN_OP = 'BatchNormWithGlobalNormalization';
/** Constant sub-expressions larger than this are not evaluated (BN parameters are [C]). */
const MAX_EVAL_ELEMENTS = 1 << 20;

/** A float64 tensor computed from constants. */
export interface ConstF64 {
  shape: number[];
  data: Float64Array;
}

/**
 * Evaluates a data input when it is computable from Const nodes through the few element-wise ops
 * a written-out batch norm uses (Identity, Add, AddV2, Sub, Mul, RealDiv, Rsqrt, Sqrt, Reciprocal,
 * Neg, Square), with NumPy broadcasting. This lets the pass match the Keras form of batch norm
 * (`Add(Mul(x, Mul(Rsqrt(Add(var, eps)), gamma)), Sub(beta, Mul(mean, …)))`) before constant folding
 * as well as after it. Float dtypes only; results are memoized per graph index.
 */
export class ConstEvaluator {
  private readonly memo = new Map<string, ConstF64 | null>();
  constructor(private readonly index: GraphIndex) {}

  /** The value of data input `input` (`node` or `node:N`), or undefined when not constant. */
  eval(input: string): ConstF64 | undefined {
    const ref = parseInput(input);
    if (ref.control || ref.port !== 0) return undefined;
    const key = ref.node;
    if (this.memo.has(key)) return this.memo.get(key) ?? undefined;
    this.memo.set(key, null); // guards against cycles
    const v = this.compute(key);
    this.memo.set(key, v ?? null);
    return v;
  }

  private compute(name: string): ConstF64 | undefined {
    const node = this.index.find(name);
    if (!node) return undefined;
    const data = node.input.filter((s) => !s.startsWith('^'));
    switch (node.op) {
      case 'Const': {
        const t = node.attr['value']?.tensor;
        if (!t || (t.dtype !== DataType.DT_FLOAT && t.dtype !== DataType.DT_DOUBLE)) return undefined;
        let h: HostTensor;
        try {
          h = tensorToHost(t, `"${name}"`);
        } catch {
          return undefined;
        }
        if (h.data.length > MAX_EVAL_ELEMENTS) return undefined;
        return { shape: h.shape, data: Float64Array.from(h.data) };
      }
      case 'Identity':
        return data.length === 1 ? this.eval(data[0]!) : undefined;
      case 'Add':
      case 'AddV2':
      case 'Sub':
      case 'Mul':
      case 'RealDiv': {
        if (data.length !== 2) return undefined;
        const a = this.eval(data[0]!);
        if (!a) return undefined;
        const b = this.eval(data[1]!);
        if (!b) return undefined;
        const f =
          node.op === 'Sub' ? (x: number, y: number) => x - y
          : node.op === 'Mul' ? (x: number, y: number) => x * y
          : node.op === 'RealDiv' ? (x: number, y: number) => x / y
          : (x: number, y: number) => x + y;
        return broadcast(a, b, f);
      }
      case 'Rsqrt':
      case 'Sqrt':
      case 'Reciprocal':
      case 'Neg':
      case 'Square': {
        if (data.length !== 1) return undefined;
        const a = this.eval(data[0]!);
        if (!a) return undefined;
        const f =
          node.op === 'Rsqrt' ? (x: number) => 1 / Math.sqrt(x)
          : node.op === 'Sqrt' ? Math.sqrt
          : node.op === 'Reciprocal' ? (x: number) => 1 / x
          : node.op === 'Neg' ? (x: number) => -x
          : (x: number) => x * x;
        return { shape: [...a.shape], data: a.data.map(f) };
      }
      default:
        return undefined;
    }
  }
}

function broadcast(a: ConstF64, b: ConstF64, f: (x: number, y: number) => number): ConstF64 | undefined {
  const r = Math.max(a.shape.length, b.shape.length);
  const sa = [...Array(r - a.shape.length).fill(1), ...a.shape] as number[];
  const sb = [...Array(r - b.shape.length).fill(1), ...b.shape] as number[];
  const shape: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = sa[i]!, y = sb[i]!;
    if (x === y || y === 1) shape.push(x);
    else if (x === 1) shape.push(y);
    else return undefined;
  }
  const n = numElements(shape);
  if (n > MAX_EVAL_ELEMENTS) return undefined;
  const stride = (s: number[]) => {
    const st = new Array<number>(r).fill(0);
    let acc = 1;
    for (let i = r - 1; i >= 0; i--) {
      st[i] = s[i] === 1 ? 0 : acc;
      acc *= s[i]!;
    }
    return st;
  };
  const ta = stride(sa), tb = stride(sb);
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let rem = k, ia = 0, ib = 0;
    for (let i = r - 1; i >= 0; i--) {
      const d = shape[i]!;
      const j = rem % d;
      rem = (rem - j) / d;
      ia += j * ta[i]!;
      ib += j * tb[i]!;
    }
    out[k] = f(a.data[ia]!, b.data[ib]!);
  }
  return { shape, data: out };
}

/**
 * A per-channel vector of length `c` from a constant that broadcasts along the last axis only:
 * a scalar (or any 1-element tensor), or `[…, 1, c]`. `maxRank` keeps the broadcast from raising the
 * rank of the result (a [1,1,1,C] constant on a rank-2 MatMul output would make it rank 4).
 */
function perChannel(v: ConstF64, c: number, maxRank: number): Float64Array | undefined {
  if (v.shape.length > maxRank) return undefined;
  if (v.data.length === 1) return new Float64Array(c).fill(v.data[0]!);
  if (v.data.length === c && v.shape[v.shape.length - 1] === c) return Float64Array.from(v.data);
  return undefined;
}

/** The linear op (with an optional bias after it) that a batch norm can be folded into. */
interface Linear {
  lin: NodeDef;
  /** The Const holding the weights, possibly behind Identity nodes. */
  weights: NodeDef;
  /** Whether `lin.input[1]` names the Const itself. */
  weightsDirect: boolean;
  w: HostTensor;
  /** Number of output channels. */
  c: number;
  /** Output channel of flat weight index `i`. */
  channel: (i: number) => number;
  /** Rank of the linear op's output (4 for convolutions, 2 for MatMul). */
  rank: number;
  /** An existing BiasAdd / Add(const) between the linear op and the batch norm. */
  biasNode?: NodeDef;
  bias?: Float64Array;
}

interface Plan {
  linear: Linear;
  scale: Float64Array;
  shift: Float64Array;
  /** The node whose output :0 is the batch norm's result; it becomes the new BiasAdd, same name. */
  out: NodeDef;
  /** Nodes of the pattern deleted outright (besides `linear.biasNode`). */
  remove: NodeDef[];
}

class Ctx {
  readonly ev: ConstEvaluator;
  constructor(
    readonly ix: GraphIndex,
    readonly protect: ReadonlySet<string>,
  ) {
    this.ev = new ConstEvaluator(ix);
  }

  /** True when every edge reading `name` comes from a node in `allowed` and reads output :0. */
  onlyConsumedBy(name: string, allowed: ReadonlySet<string>): boolean {
    return this.ix.consumers(name).every((c) => allowed.has(c.node.name) && !c.ref.control && c.ref.port === 0);
  }

  isConst(input: string): boolean {
    return this.ev.eval(input) !== undefined;
  }
}

function dataFormat(node: NodeDef): string {
  return attr.string(node, 'data_format', 'NHWC');
}

/** The Const behind `input`, following Identity nodes; undefined when it is not one. */
function constBehind(ix: GraphIndex, input: string): { node: NodeDef; direct: boolean } | undefined {
  let ref = parseInput(input);
  let direct = true;
  for (let hops = 0; hops < 64; hops++) {
    if (ref.control || ref.port !== 0) return undefined;
    const n = ix.find(ref.node);
    if (!n) return undefined;
    if (n.op === 'Const') return { node: n, direct };
    if (n.op !== 'Identity' || !n.input[0]) return undefined;
    ref = parseInput(n.input[0]);
    direct = false;
  }
  return undefined;
}

/**
 * Finds the linear op producing data input `input` (directly or through one BiasAdd / Add of a
 * constant), checking that its output feeds only the nodes in `allowed`. Returns a reason string
 * when it cannot be folded into.
 */
function findLinear(cx: Ctx, input: string, allowed: ReadonlySet<string>): Linear | string {
  const ref = parseInput(input);
  let node = cx.ix.find(ref.node);
  if (!node || ref.control) return `input "${input}" is not in the graph`;
  if (ref.port !== 0) return `its input "${input}" is not the output of a Conv2D, DepthwiseConv2dNative or MatMul`;
  let biasNode: NodeDef | undefined;
  let bias: ConstF64 | undefined;
  if (node.op === 'BiasAdd' || node.op === 'Add' || node.op === 'AddV2') {
    const data = node.input.filter((s) => !s.startsWith('^'));
    if (data.length !== 2) return `"${node.name}" (${node.op}) does not have 2 inputs`;
    let zIn: string | undefined;
    if (node.op === 'BiasAdd') {
      if (dataFormat(node) !== 'NHWC') return `"${node.name}" (BiasAdd) is not NHWC`;
      bias = cx.ev.eval(data[1]!);
      zIn = data[0];
    } else {
      for (const [zi, bi] of [[0, 1], [1, 0]] as const) {
        const b = cx.ev.eval(data[bi]!);
        if (b && !cx.isConst(data[zi]!)) {
          bias = b;
          zIn = data[zi];
          break;
        }
      }
    }
    if (!bias || !zIn) return `"${node.name}" (${node.op}) does not add a constant`;
    if (cx.protect.has(node.name)) return `"${node.name}" is a graph input or output`;
    if (!cx.onlyConsumedBy(node.name, allowed)) return `"${node.name}" (${node.op}) has other consumers`;
    biasNode = node;
    allowed = new Set([node.name]);
    const zRef = parseInput(zIn);
    const z = cx.ix.find(zRef.node);
    if (!z || zRef.port !== 0) return `"${node.name}" does not add a bias to a Conv2D, DepthwiseConv2dNative or MatMul`;
    node = z;
  }
  if (!LINEAR_OPS.has(node.op)) {
    return `its input "${node.name}" (${node.op}) is not a Conv2D, DepthwiseConv2dNative or MatMul`;
  }
  const lin = node;
  if (cx.protect.has(lin.name)) return `"${lin.name}" is a graph input or output`;
  if (!cx.onlyConsumedBy(lin.name, allowed)) return `the output of "${lin.name}" (${lin.op}) has other consumers`;
  const linData = lin.input.filter((s) => !s.startsWith('^'));
  if (linData.length !== 2) return `"${lin.name}" (${lin.op}) does not have 2 inputs`;
  if (cx.isConst(linData[0]!)) return `both inputs of "${lin.name}" are constant (fold constants first)`;
  const wc = constBehind(cx.ix, linData[1]!);
  if (!wc) return `the weights of "${lin.name}" are not a Const`;
  const w = constValue(wc.node);
  if (!w || w.dtype !== DataType.DT_FLOAT) return `the weights of "${lin.name}" are not float32`;
  let c: number;
  let channel: (i: number) => number;
  let rank: number;
  if (lin.op === 'MatMul') {
    if (w.shape.length !== 2) return `the weights of "${lin.name}" are not a matrix`;
    if (attr.bool(lin, 'transpose_b', false)) {
      const inner = w.shape[1]!;
      c = w.shape[0]!;
      channel = (i) => Math.floor(i / inner);
    } else {
      const cc = (c = w.shape[1]!);
      channel = (i) => i % cc;
    }
    rank = 2;
  } else {
    if (dataFormat(lin) !== 'NHWC') return `"${lin.name}" (${lin.op}) is not NHWC`;
    if (w.shape.length !== 4) return `the weights of "${lin.name}" are not 4-D`;
    // Conv2D weights are HWIO: output channel = o, the last axis. Depthwise weights are
    // [H, W, I, M]: output channel i·M + m, which is again the flat index modulo I·M.
    const cc = (c = lin.op === 'Conv2D' ? w.shape[3]! : w.shape[2]! * w.shape[3]!);
    channel = (i) => i % cc;
    rank = 4;
  }
  const out: Linear = { lin, weights: wc.node, weightsDirect: wc.direct, w, c, channel, rank };
  if (biasNode && bias) {
    const b = perChannel(bias, c, rank);
    if (!b) return `the bias of "${biasNode.name}" is not a per-channel vector of ${c}`;
    out.biasNode = biasNode;
    out.bias = b;
  }
  return out;
}

/** Data consumers of `name` reading an output other than :0. */
function readsOtherOutputs(ix: GraphIndex, name: string): boolean {
  return ix.consumers(name).some((c) => !c.ref.control && c.ref.port !== 0);
}

/**
 * FaceNet's rank-2 slim batch norm: `MatMul → Reshape([-1,1,1,C]) → FusedBatchNorm →
 * Reshape_1(·, Shape(MatMul))`. Returns the pieces when `bn` sits in that pattern.
 */
function bottleneck(cx: Ctx, bn: NodeDef, c: number): { y: string; reshape: NodeDef; reshape1: NodeDef; shape?: NodeDef } | undefined {
  const xRef = parseInput(bn.input[0] ?? '');
  const reshape = cx.ix.find(xRef.node);
  if (!reshape || reshape.op !== 'Reshape' || xRef.port !== 0) return undefined;
  const [y, shapeIn] = reshape.input;
  if (!y || !shapeIn) return undefined;
  const target = cx.ev.eval(shapeIn) ?? intConst(cx.ix, shapeIn);
  if (!target || target.data.length !== 4) return undefined;
  const t = target.data;
  if (t[1] !== 1 || t[2] !== 1 || t[3] !== c) return undefined;
  const consumers = cx.ix.consumers(bn.name);
  if (consumers.length !== 1) return undefined;
  const reshape1 = consumers[0]!.node;
  if (reshape1.op !== 'Reshape' || consumers[0]!.index !== 0 || consumers[0]!.ref.port !== 0) return undefined;
  const back = reshape1.input[1];
  if (!back) return undefined;
  const backRef = parseInput(back);
  const backNode = cx.ix.find(backRef.node);
  const yRef = parseInput(y);
  let shape: NodeDef | undefined;
  if (backNode?.op === 'Shape' && backRef.port === 0) {
    const sRef = parseInput(backNode.input[0] ?? '');
    // Valid only because Reshape_1 restores the shape of the very tensor Reshape flattened.
    if (sRef.node !== yRef.node || sRef.port !== yRef.port) return undefined;
    if (!cx.onlyConsumedBy(backNode.name, new Set([reshape1.name])) || cx.protect.has(backNode.name)) return undefined;
    shape = backNode;
  } else {
    const v = intConst(cx.ix, back);
    if (!v || v.data.length !== 2 || v.data[1] !== c) return undefined;
  }
  if (cx.protect.has(reshape.name) || cx.protect.has(bn.name)) return undefined;
  if (!cx.onlyConsumedBy(reshape.name, new Set([bn.name]))) return undefined;
  const r: { y: string; reshape: NodeDef; reshape1: NodeDef; shape?: NodeDef } = { y, reshape, reshape1 };
  if (shape) r.shape = shape;
  return r;
}

/** An int32/int64 Const (shape vectors), as float64. */
function intConst(ix: GraphIndex, input: string): ConstF64 | undefined {
  const c = constBehind(ix, input);
  if (!c) return undefined;
  const t = c.node.attr['value']?.tensor;
  if (!t || (t.dtype !== DataType.DT_INT32 && t.dtype !== DataType.DT_INT64)) return undefined;
  const h = tensorToHost(t, `"${c.node.name}"`);
  return { shape: h.shape, data: Float64Array.from(h.data) };
}

/** Plans the fold of a FusedBatchNorm{,V2,V3} or BatchNormWithGlobalNormalization. */
function matchBatchNorm(cx: Ctx, bn: NodeDef): Plan | string {
  const data = bn.input.filter((s) => !s.startsWith('^'));
  if (data.length !== 5) return `it has ${data.length} inputs, not 5`;
  let gammaIn: string, betaIn: string, meanIn: string, varIn: string, eps: number;
  let useGamma = true;
  if (bn.op === GLOBAL_BN_OP) {
    [, meanIn, varIn, betaIn, gammaIn] = data as [string, string, string, string, string];
    eps = attr.float(bn, 'variance_epsilon');
    useGamma = attr.bool(bn, 'scale_after_normalization');
  } else {
    // TensorFlow's default for is_training is true: then the op normalizes with the batch's own
    // statistics and the mean/variance inputs are ignored (often empty), so nothing can be folded.
    if (attr.bool(bn, 'is_training', true)) {
      return 'is_training is true (or absent, which TensorFlow reads as true): it uses batch statistics';
    }
    if (dataFormat(bn) !== 'NHWC') return `data_format is ${dataFormat(bn)}, not NHWC`;
    [, gammaIn, betaIn, meanIn, varIn] = data as [string, string, string, string, string];
    eps = attr.float(bn, 'epsilon', 1e-4);
  }
  if (readsOtherOutputs(cx.ix, bn.name)) return 'outputs other than :0 are used';
  const params: ConstF64[] = [];
  for (const p of [gammaIn, betaIn, meanIn, varIn]) {
    const v = cx.ev.eval(p);
    if (!v) return `parameter "${p}" is not constant`;
    params.push(v);
  }
  const [gammaV, betaV, meanV, varV] = params as [ConstF64, ConstF64, ConstF64, ConstF64];
  const paramC = Math.max(...params.map((p) => p.data.length));
  const bneck = bottleneck(cx, bn, paramC);
  const linear = bneck
    ? findLinear(cx, bneck.y, new Set(bneck.shape ? [bneck.reshape.name, bneck.shape.name] : [bneck.reshape.name]))
    : findLinear(cx, data[0]!, new Set([bn.name]));
  if (typeof linear === 'string') return linear;
  const c = linear.c;
  // A Reshape to [-1,1,1,C] keeps the channel axis last, so the MatMul's columns are the BN's channels.
  const vecs = [gammaV, betaV, meanV, varV].map((v) => perChannel(v, c, 1));
  if (vecs.some((v) => !v)) return `its parameters are not vectors of ${c} (the channels of "${linear.lin.name}")`;
  const [gamma, beta, mean, variance] = vecs as [Float64Array, Float64Array, Float64Array, Float64Array];
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  for (let i = 0; i < c; i++) {
    scale[i] = (useGamma ? gamma[i]! : 1) / Math.sqrt(variance[i]! + eps);
    shift[i] = beta[i]! - mean[i]! * scale[i]!;
  }
  if (bneck) {
    const remove = [bn, bneck.reshape];
    if (bneck.shape) remove.push(bneck.shape);
    return { linear, scale, shift, out: bneck.reshape1, remove };
  }
  return { linear, scale, shift, out: bn, remove: [] };
}

/**
 * Plans the fold of `Add(Mul(x, S), T)` (either operand order; `Sub(Mul(x, S), T)` too) with S, T
 * constant per-channel: the written-out batch norm of Keras and `tf.nn.batch_normalization`.
 * Returns undefined when `add` is not such a pattern at all (nothing to report).
 */
function matchMulAdd(cx: Ctx, add: NodeDef): Plan | string | undefined {
  const data = add.input.filter((s) => !s.startsWith('^'));
  if (data.length !== 2) return undefined;
  const orders: ReadonlyArray<readonly [number, number]> = add.op === 'Sub' ? [[0, 1]] : [[0, 1], [1, 0]];
  for (const [mi, ti] of orders) {
    const mRef = parseInput(data[mi]!);
    const mul = cx.ix.find(mRef.node);
    if (!mul || mul.op !== 'Mul' || mRef.port !== 0) continue;
    const t = cx.ev.eval(data[ti]!);
    if (!t) continue;
    const mData = mul.input.filter((s) => !s.startsWith('^'));
    if (mData.length !== 2) continue;
    for (const [xi, si] of [[0, 1], [1, 0]] as const) {
      const s = cx.ev.eval(mData[si]!);
      if (!s || cx.isConst(mData[xi]!)) continue;
      if (cx.protect.has(mul.name)) return `"${mul.name}" is a graph input or output`;
      if (!cx.onlyConsumedBy(mul.name, new Set([add.name]))) return undefined;
      const linear = findLinear(cx, mData[xi]!, new Set([mul.name]));
      // Only a per-channel scale is worth a warning: x·s + t with scalars is plain arithmetic
      // (e.g. input standardization), not a batch norm.
      if (typeof linear === 'string') return s.data.length > 1 ? linear : undefined;
      const scale = perChannel(s, linear.c, linear.rank);
      const shift = perChannel(t, linear.c, linear.rank);
      if (!scale || !shift) return undefined;
      if (add.op === 'Sub') for (let i = 0; i < shift.length; i++) shift[i] = -shift[i]!;
      return { linear, scale, shift, out: add, remove: [mul] };
    }
  }
  return undefined;
}

/** Removes nodes left without any consumer, starting from `roots` and walking up their inputs. */
function pruneDead(nodes: NodeDef[], roots: Iterable<string>, protect: ReadonlySet<string>): NodeDef[] {
  const byName = new Map(nodes.map((n) => [n.name, n] as const));
  const uses = new Map<string, number>();
  for (const n of nodes) for (const s of n.input) {
    const d = parseInput(s).node;
    uses.set(d, (uses.get(d) ?? 0) + 1);
  }
  const removed = new Set<string>();
  const stack = [...roots];
  while (stack.length) {
    const name = stack.pop()!;
    if (removed.has(name) || protect.has(name)) continue;
    const node = byName.get(name);
    if (!node || node.op === 'Placeholder' || (uses.get(name) ?? 0) > 0) continue;
    removed.add(name);
    for (const s of node.input) {
      const d = parseInput(s).node;
      uses.set(d, (uses.get(d) ?? 0) - 1);
      stack.push(d);
    }
  }
  return removed.size ? nodes.filter((n) => !removed.has(n.name)) : nodes;
}

function floatConst(name: string, shape: number[], data: ArrayLike<number>, device?: string): NodeDef {
  return constNode(name, { dtype: DataType.DT_FLOAT, shape, data: Float32Array.from(data) }, device);
}

function applyPlan(graph: GraphDef, cx: Ctx, plan: Plan): GraphDef {
  const { linear: L, scale, shift, out } = plan;
  const names = new UniqueNames(graph.node);
  const w = new Float32Array(L.w.data.length);
  for (let i = 0; i < w.length; i++) w[i] = L.w.data[i]! * scale[L.channel(i)]!;
  const b = new Float64Array(L.c);
  for (let i = 0; i < L.c; i++) b[i] = (L.bias ? L.bias[i]! : 0) * scale[i]! + shift[i]!;
  const wHost: HostTensor = { dtype: DataType.DT_FLOAT, shape: [...L.w.shape], data: w };

  let replacedWeights: NodeDef | undefined;
  let newWeights: NodeDef | undefined;
  let lin = L.lin;
  if (L.weightsDirect && cx.ix.consumers(L.weights.name).length === 1 && !cx.protect.has(L.weights.name)) {
    replacedWeights = cloneNode(L.weights, { attr: { ...L.weights.attr, value: { tensor: hostToTensor(wHost) } } });
  } else {
    // Shared (or Identity-wrapped) weights: give this op its own copy, the others keep theirs.
    newWeights = constNode(names.unique(`${L.lin.name}/folded_weights`), wHost, L.lin.device);
    const input = [...L.lin.input];
    const wIdx = input.findIndex((s, i) => i > 0 && !s.startsWith('^'));
    input[wIdx] = newWeights.name;
    lin = cloneNode(L.lin, { input });
  }
  const biasConst = floatConst(names.unique(`${out.name}/folded_bias`), [L.c], b, out.device);
  const biasAdd: NodeDef = {
    name: out.name,
    op: 'BiasAdd',
    input: [tensorName(L.lin.name), biasConst.name],
    attr: { T: attrValue.type(DataType.DT_FLOAT), data_format: attrValue.s('NHWC') },
  };
  if (out.device) biasAdd.device = out.device;

  const drop = new Set(plan.remove.map((n) => n.name));
  if (L.biasNode) drop.add(L.biasNode.name);
  const nodes: NodeDef[] = [];
  for (const n of graph.node) {
    if (n.name === L.weights.name && replacedWeights) nodes.push(replacedWeights);
    else if (n.name === L.lin.name) {
      if (newWeights) nodes.push(newWeights);
      nodes.push(lin);
    } else if (n.name === out.name) nodes.push(biasConst, biasAdd);
    else if (!drop.has(n.name)) nodes.push(n);
  }
  const roots = [...plan.remove, out, ...(L.biasNode ? [L.biasNode] : [])].flatMap((n) => n.input.map((s) => parseInput(s).node));
  if (newWeights) roots.push(...L.lin.input.map((s) => parseInput(s).node));
  return { ...graph, node: pruneDead(nodes, roots, cx.protect) };
}

/**
 * FusedBatchNorm parameters stored as a splat (one value for a [C] shape) are misread by OpenCV:
 * it treats a gamma/beta without tensor_content as absent (docs/opencv-js.md). Rewrite them with
 * tensor_content; the values do not change, so shared Consts are rewritten in place.
 */
function rewriteSplatParams(graph: GraphDef, ix: GraphIndex, bn: NodeDef): GraphDef {
  const targets = new Map<string, NodeDef>();
  for (const s of bn.input.slice(1)) {
    if (s.startsWith('^')) continue;
    const c = constBehind(ix, s);
    const t = c?.node.attr['value']?.tensor;
    if (!c || !t || !isNumericDtype(t.dtype) || t.dtype === DataType.DT_HALF) continue;
    if (t.tensor_content && t.tensor_content.length > 0) continue;
    const h = tensorToHost(t, `"${c.node.name}"`);
    if (h.data.length <= 1) continue;
    targets.set(c.node.name, cloneNode(c.node, { attr: { ...c.node.attr, value: { tensor: hostToTensor(h) } } }));
  }
  if (!targets.size) return graph;
  return { ...graph, node: graph.node.map((n) => targets.get(n.name) ?? n) };
}

/** Merges `BiasAdd(BiasAdd(x, b1), b2)` into `BiasAdd(x, b1 + b2)`, keeping the outer name. */
function mergeBiasChains(graph: GraphDef, protect: ReadonlySet<string>): GraphDef {
  let g = graph;
  for (let guard = 0; guard <= graph.node.length; guard++) {
    const cx = new Ctx(new GraphIndex(g), protect);
    let changed = false;
    for (const outer of g.node) {
      if (outer.op !== 'BiasAdd' || dataFormat(outer) !== 'NHWC' || outer.input.length !== 2) continue;
      const iRef = parseInput(outer.input[0]!);
      const inner = cx.ix.find(iRef.node);
      if (!inner || inner.op !== 'BiasAdd' || iRef.port !== 0 || dataFormat(inner) !== 'NHWC' || inner.input.length !== 2) continue;
      if (protect.has(inner.name) || !cx.onlyConsumedBy(inner.name, new Set([outer.name]))) continue;
      const b1 = cx.ev.eval(inner.input[1]!);
      const b2 = cx.ev.eval(outer.input[1]!);
      if (!b1 || !b2 || b1.shape.length !== 1 || b2.shape.length !== 1 || b1.data.length !== b2.data.length) continue;
      const names = new UniqueNames(g.node);
      const sum = floatConst(names.unique(`${outer.name}/merged_bias`), [...b1.shape], b1.data.map((v, i) => v + b2.data[i]!), outer.device);
      const merged = cloneNode(outer, { input: [inner.input[0]!, sum.name] });
      const nodes: NodeDef[] = [];
      for (const n of g.node) {
        if (n.name === inner.name) continue;
        if (n.name === outer.name) nodes.push(sum, merged);
        else nodes.push(n);
      }
      const roots = [inner.input[1]!, outer.input[1]!].map((s) => parseInput(s).node);
      g = { ...g, node: pruneDead(nodes, roots, protect) };
      changed = true;
      break;
    }
    if (!changed) break;
  }
  return g;
}

function label(n: NodeDef): string {
  return `"${n.name}" (${n.op})`;
}

/**
 * Folds inference batch norms into the preceding Conv2D / DepthwiseConv2dNative / MatMul:
 * - `FusedBatchNorm`, `FusedBatchNormV2`, `FusedBatchNormV3` with `is_training=false`, NHWC;
 * - `BatchNormWithGlobalNormalization` (honours `scale_after_normalization`);
 * - the written-out form `Add(Mul(x, S), T)` with constant per-channel S and T (Keras, and
 *   `tf.nn.batch_normalization`), before or after constant folding;
 * - FaceNet's rank-2 slim batch norm `MatMul → Reshape[-1,1,1,C] → FusedBatchNorm → Reshape(·, Shape(MatMul))`,
 *   which becomes `MatMul → BiasAdd` with the batch dimension left dynamic.
 * An existing BiasAdd (or Add of a constant vector) between the linear op and the batch norm is
 * folded into the new bias. The new BiasAdd takes the name of the node whose output the batch norm
 * produced, so consumers and `ctx.outputs` keep working; pattern nodes left unused are removed.
 * A linear op's weights are rewritten in place when the op is their only consumer, copied otherwise.
 * Finally `BiasAdd(BiasAdd(x, b1), b2)` chains are merged.
 *
 * A batch norm that cannot be folded (non-constant parameters, not fed by a linear op, outputs
 * 1..5 used, training mode) is left alone with a `ctx.warn`; a Fused one left alone gets its splat
 * parameters rewritten as tensor_content, because OpenCV ignores a splat gamma/beta.
 */
export function foldBatchNorms(): Pass {
  return {
    name: 'fold-batch-norms',
    run(graph: GraphDef, ctx: PassContext): GraphDef {
      const protect = new Set([...ctx.inputs, ...ctx.outputs].map((s) => parseInput(s).node));
      const warned = new Set<string>();
      let g = graph;
      // Rounds until nothing changes: a fold can make another pattern foldable (a Mul/Add after a
      // batch norm that has just become Conv2D + BiasAdd).
      for (let round = 0; round <= graph.node.length; round++) {
        const quiet = new Set<string>();
        let changedInRound = false;
        for (;;) {
          const cx = new Ctx(new GraphIndex(g), protect);
          let changed = false;
          for (const n of g.node) {
            if (warned.has(n.name) || quiet.has(n.name)) continue;
            const isBn = FUSED_BN_OPS.has(n.op) || n.op === GLOBAL_BN_OP;
            const isAdd = n.op === 'Add' || n.op === 'AddV2' || n.op === 'Sub';
            if (!isBn && !isAdd) continue;
            const plan = isBn ? matchBatchNorm(cx, n) : matchMulAdd(cx, n);
            if (plan === undefined) {
              quiet.add(n.name);
              continue;
            }
            if (typeof plan === 'string') {
              warned.add(n.name);
              const what = isBn ? 'batch norm' : 'batch norm (Mul + Add)';
              ctx.warn(`Cannot fold ${what} ${label(n)}: ${plan}`);
              if (FUSED_BN_OPS.has(n.op)) {
                const next = rewriteSplatParams(g, cx.ix, n);
                if (next !== g) {
                  g = next;
                  changed = true;
                  break;
                }
              }
              continue;
            }
            g = applyPlan(g, cx, plan);
            changed = true;
            break;
          }
          if (!changed) break;
          changedInRound = true;
        }
        if (!changedInRound) break;
      }
      return mergeBiasChains(g, protect);
    },
  };
}
