/**
 * Pass `opencv-compat`: rewrites what OpenCV's TensorFlow importer computes wrongly or rejects into
 * equivalent ops it takes, and {@link rejectedOps}, the report of what it would still refuse.
 * The op knowledge lives in `../opencv-ops.ts` (read from OpenCV's tf_importer.cpp).
 */
import { GraphIndex } from '../graph/graph.js';
import { parseInput, UniqueNames } from '../graph/names.js';
import { cloneNode } from '../proto/codec.js';
import { DataType } from '../proto/types.js';
import type { GraphDef, NodeDef } from '../proto/types.js';
import { attr, attrValue, constNode, hostToTensor, isNumericDtype, numElements, shapeDims, tensorToHost } from '../tensor.js';
import type { HostTensor } from '../tensor.js';
import { ACCEPTED_OPS, PATTERN_ONLY_OPS } from '../opencv-ops.js';
import type { Pass, PassContext } from './types.js';

/** Largest finite float32: the open end of a one-sided ClipByValue. */
const FLT_MAX = 3.4028234663852886e38;

/** The Const behind data input `input`, looking through Identity (OpenCV removes Identity first). */
function constBehind(ix: GraphIndex, input: string | undefined): NodeDef | undefined {
  if (!input) return undefined;
  let ref = parseInput(input);
  for (let hops = 0; hops < 64; hops++) {
    if (ref.control || ref.port !== 0) return undefined;
    const n = ix.find(ref.node);
    if (!n) return undefined;
    if (n.op === 'Const') return n;
    if (n.op !== 'Identity' || !n.input[0]) return undefined;
    ref = parseInput(n.input[0]);
  }
  return undefined;
}

function constHost(ix: GraphIndex, input: string | undefined): HostTensor | undefined {
  const n = constBehind(ix, input);
  const t = n?.attr['value']?.tensor;
  if (!n || !t || !isNumericDtype(t.dtype)) return undefined;
  try {
    return tensorToHost(t, `"${n.name}"`);
  } catch {
    return undefined;
  }
}

function producer(ix: GraphIndex, input: string | undefined): NodeDef | undefined {
  if (!input) return undefined;
  const ref = parseInput(input);
  return ref.control ? undefined : ix.find(ref.node);
}

const dataInputs = (n: NodeDef) => n.input.filter((s) => !s.startsWith('^'));
const controlInputs = (n: NodeDef) => n.input.filter((s) => s.startsWith('^'));
const sameTensor = (a: string | undefined, b: string | undefined) => {
  if (a === undefined || b === undefined) return false;
  const x = parseInput(a), y = parseInput(b);
  return x.node === y.node && x.port === y.port && !x.control && !y.control;
};

// ---------------------------------------------------------------------------------------------
// Subgraphs OpenCV fuses (tf_graph_simplifier.cpp, parseMul): ops inside them are accepted.
// ---------------------------------------------------------------------------------------------

/** `Maximum(Sum(Square(x), axes), y)` → `Rsqrt` → `Mul(x, rsqrt)`: tf.nn.l2_normalize. */
function isL2NormalizeMaximum(ix: GraphIndex, max: NodeDef): boolean {
  if (max.op !== 'Maximum') return false;
  const [a, b] = dataInputs(max);
  const sum = producer(ix, a);
  if (!sum || sum.op !== 'Sum' || !constBehind(ix, b)) return false;
  const [sq, axes] = dataInputs(sum);
  const square = producer(ix, sq);
  if (!square || square.op !== 'Square' || !constBehind(ix, axes)) return false;
  const x = dataInputs(square)[0];
  const rsqrts = ix.consumers(max.name).map((c) => c.node);
  return rsqrts.length > 0 && rsqrts.every((r) =>
    r.op === 'Rsqrt' && ix.consumers(r.name).some((c) => c.node.op === 'Mul' && dataInputs(c.node).some((s) => sameTensor(s, x))));
}

/** `Rsqrt(Add(variance, epsilon))` → Mul: the batch norm OpenCV's BatchNormSubgraph fuses. */
function isBatchNormRsqrt(ix: GraphIndex, rsqrt: NodeDef): boolean {
  const add = producer(ix, dataInputs(rsqrt)[0]);
  if (!add || add.op !== 'Add') return false;
  const [v, e] = dataInputs(add);
  if (!constBehind(ix, v) || !constBehind(ix, e)) return false;
  const cons = ix.consumers(rsqrt.name);
  return cons.length > 0 && cons.every((c) => c.node.op === 'Mul');
}

/** `Maximum(Mul(alpha, x), x)` (either order): parseMul turns it into a LeakyRelu. */
function isLeakyReluMaximum(ix: GraphIndex, max: NodeDef): boolean {
  const [a, b] = dataInputs(max);
  for (const [m, x] of [[a, b], [b, a]] as const) {
    const mul = producer(ix, m);
    if (!mul || mul.op !== 'Mul') continue;
    const [p, q] = dataInputs(mul);
    const alpha = constHost(ix, p) ?? constHost(ix, q);
    const other = constHost(ix, p) ? q : p;
    if (alpha && alpha.data.length === 1 && sameTensor(other, x)) return true;
  }
  return false;
}

/** `Relu → Minimum(·, 6) → Maximum(·, c)`: Keras ReLU6, fused into Relu6. */
function isKerasRelu6Minimum(ix: GraphIndex, min: NodeDef): boolean {
  if (min.op !== 'Minimum') return false;
  const [r, six] = dataInputs(min);
  const relu = producer(ix, r);
  const v = constHost(ix, six);
  if (!relu || relu.op !== 'Relu' || !v || v.data.length !== 1 || v.data[0] !== 6) return false;
  const cons = ix.consumers(min.name);
  return cons.length > 0 && cons.every((c) => c.node.op === 'Maximum' && dataInputs(c.node)[0] === min.name && !!constBehind(ix, dataInputs(c.node)[1]));
}

/**
 * `Shape(x)` only feeding shape arithmetic (StridedSlice, Pack, Prod, Mul, Add) that ends in
 * `Reshape(x, ·)` or `Conv2DBackpropInput(·, ·, x)`: the flatten / Keras reshape / Keras deconv
 * subgraphs OpenCV fuses.
 */
function isFusedShape(ix: GraphIndex, shape: NodeDef): boolean {
  const x = dataInputs(shape)[0];
  const seen = new Set<string>();
  let terminals = 0;
  const walk = (name: string, depth: number): boolean => {
    if (seen.has(name)) return true;
    seen.add(name);
    const cons = ix.consumers(name);
    if (cons.length === 0 || depth > 6) return false;
    for (const c of cons) {
      const n = c.node;
      if (n.op === 'Reshape' && c.index === 1 && sameTensor(dataInputs(n)[0], x)) terminals++;
      else if (n.op === 'Conv2DBackpropInput' && c.index === 0 && sameTensor(dataInputs(n)[2], x)) terminals++;
      else if (['StridedSlice', 'Pack', 'Prod', 'Mul', 'Add', 'AddV2'].includes(n.op)) {
        if (!walk(n.name, depth + 1)) return false;
      } else return false;
    }
    return true;
  };
  return walk(shape.name, 0) && terminals > 0;
}

/** Whether OpenCV's importer fuses `node` into a subgraph it knows (l2_normalize, ReLU6, …). */
function isInFusedPattern(ix: GraphIndex, node: NodeDef): boolean {
  switch (node.op) {
    case 'Maximum': {
      if (isL2NormalizeMaximum(ix, node) || isLeakyReluMaximum(ix, node)) return true;
      const m = producer(ix, dataInputs(node)[0]);
      return !!m && isKerasRelu6Minimum(ix, m);
    }
    case 'Minimum':
      return isKerasRelu6Minimum(ix, node);
    case 'Rsqrt': {
      const m = producer(ix, dataInputs(node)[0]);
      return (!!m && isL2NormalizeMaximum(ix, m)) || isBatchNormRsqrt(ix, node);
    }
    case 'Shape':
      return isFusedShape(ix, node);
    case 'Prod': {
      const ss = producer(ix, dataInputs(node)[0]);
      const sh = ss?.op === 'StridedSlice' ? producer(ix, dataInputs(ss)[0]) : undefined;
      return !!sh && sh.op === 'Shape' && isFusedShape(ix, sh);
    }
    case 'BatchToSpaceND': {
      // parseConvolution, starting from a SpaceToBatchND, takes the conv after it and drops the
      // BatchToSpaceND after the conv (a dilated convolution).
      const conv = producer(ix, dataInputs(node)[0]);
      if (!conv || (conv.op !== 'Conv2D' && conv.op !== 'DepthwiseConv2dNative')) return false;
      return producer(ix, dataInputs(conv)[0])?.op === 'SpaceToBatchND';
    }
    default:
      return false;
  }
}

/** A Mul by a constant with more than one element (OpenCV's Scale layer path in parseMul). */
function isVectorScale(ix: GraphIndex, mul: NodeDef | undefined): boolean {
  if (!mul || mul.op !== 'Mul') return false;
  return dataInputs(mul).some((s) => {
    const h = constHost(ix, s);
    return !!h && h.data.length > 1;
  });
}

/**
 * An Add/AddV2 with no constant input: what parseMul wrongly takes as the bias of a preceding
 * Scale. (The tf_importer.cpp copy read only looks for "Add"; OpenCV.js 4.12 was measured to do the
 * same with AddV2.)
 */
function isVariableAdd(ix: GraphIndex, add: NodeDef): boolean {
  return (add.op === 'Add' || add.op === 'AddV2') && !dataInputs(add).some((s) => constBehind(ix, s));
}

function isAccepted(ix: GraphIndex, node: NodeDef): boolean {
  if (Object.prototype.hasOwnProperty.call(PATTERN_ONLY_OPS, node.op)) return isInFusedPattern(ix, node);
  if (!ACCEPTED_OPS.has(node.op)) return false;
  // parseMul: "Division of constant over variable" is not implemented.
  if (node.op === 'RealDiv') return !constBehind(ix, dataInputs(node)[0]);
  // parseMul, for a Mul by a constant vector, fuses a following "Add" as the Scale's bias and
  // throws "Const input blob for weights not found" when that Add has no constant input
  // (MTCNN's PReLU: Add(Relu(x), Mul(alpha, …)); checked in OpenCV.js 4.12).
  if (isVectorScale(ix, node)) return !ix.consumers(node.name).some((c) => isVariableAdd(ix, c.node));
  return true;
}

/**
 * The ops OpenCV 4.12's TensorFlow importer will not create, with the nodes that use them, in order
 * of first appearance. An op accepted only inside a subgraph OpenCV fuses (Maximum and Rsqrt in
 * l2_normalize, Shape in slim.flatten, …) is reported only where it is outside such a subgraph;
 * RealDiv is reported where its numerator is a constant. Importing a graph with a non-empty
 * result fails at the first `forward()` ("Can't create layer … of type …").
 */
export function rejectedOps(graph: GraphDef): Array<{ op: string; nodes: string[] }> {
  const ix = new GraphIndex(graph);
  const byOp = new Map<string, string[]>();
  for (const n of graph.node) {
    if (isAccepted(ix, n)) continue;
    let list = byOp.get(n.op);
    if (!list) byOp.set(n.op, (list = []));
    list.push(n.name);
  }
  return [...byOp].map(([op, nodes]) => ({ op, nodes }));
}

// ---------------------------------------------------------------------------------------------
// Rewrites
// ---------------------------------------------------------------------------------------------

function scalar(name: string, value: number, device?: string): NodeDef {
  return constNode(name, { dtype: DataType.DT_FLOAT, shape: [], data: Float32Array.of(value) }, device);
}

/** Ops OpenCV's TensorFlow importer merges a following BiasAdd into (tf_importer.cpp). */
const BIAS_FUSING_OPS = new Set(['Conv2D', 'DepthwiseConv2dNative', 'MatMul', 'Conv2DBackpropInput']);
const BIAS_OPS = new Set(['BiasAdd', 'Add', 'AddV2']);

function opNode(base: NodeDef, name: string, op: string, input: string[], extra: NodeDef['attr'] = {}): NodeDef {
  const n: NodeDef = { name, op, input, attr: { T: attrValue.type(DataType.DT_FLOAT), ...extra } };
  if (base.device) n.device = base.device;
  return n;
}

function isFloat(node: NodeDef): boolean {
  return attr.type(node, 'T', DataType.DT_FLOAT) === DataType.DT_FLOAT;
}

/** A non-scalar Const stored as a short value list (TF's splat form) or as no values at all. */
function isSplat(node: NodeDef): boolean {
  if (node.op !== 'Const') return false;
  const t = node.attr['value']?.tensor;
  if (!t || !isNumericDtype(t.dtype) || t.dtype === DataType.DT_HALF) return false;
  if (t.tensor_content && t.tensor_content.length > 0) return false;
  const dims = shapeDims(t.tensor_shape);
  if (!dims || dims.some((d) => d < 0)) return false;
  const n = numElements(dims);
  if (n <= 1) return false; // scalars stay as value lists: OpenCV reads some (Concat axis) from int_val
  const listLen = Math.max(
    t.float_val?.length ?? 0, t.double_val?.length ?? 0, t.int_val?.length ?? 0,
    t.int64_val?.length ?? 0, t.bool_val?.length ?? 0, t.half_val?.length ?? 0,
    t.uint32_val?.length ?? 0, t.uint64_val?.length ?? 0,
  );
  return listLen < n;
}

/**
 * Dtypes whose value list OpenCV's `getTensorContent` can read in place of `tensor_content`
 * (float_val, double_val, int_val). For DT_QUINT8 it asserts `!content.empty()`: the one-element
 * `*_quantized_const` of a Dequantize (opencv_face_detector_uint8.pb) must keep its bytes.
 */
const VALUE_LIST_DTYPES: ReadonlySet<DataType> = new Set([DataType.DT_FLOAT, DataType.DT_DOUBLE, DataType.DT_INT32]);

/**
 * A one-element float, double or int32 Const stored in `tensor_content`: TensorFlow writes those
 * as a value list, and OpenCV reads some of them (the ConcatV2 axis) from `int_val` only, getting
 * garbage otherwise. Other dtypes are left as they are (see {@link VALUE_LIST_DTYPES}).
 */
function isScalarContent(node: NodeDef): boolean {
  const t = node.attr['value']?.tensor;
  if (!t || !t.tensor_content?.length || !VALUE_LIST_DTYPES.has(t.dtype)) return false;
  const dims = shapeDims(t.tensor_shape);
  return !!dims && numElements(dims) === 1;
}

/**
 * Rewrites, each keeping the rewritten node's name (so consumers and `ctx.outputs` keep working):
 * - non-scalar Consts stored as a splat → `tensor_content` (OpenCV reads the short list as the
 *   whole tensor, and ignores a FusedBatchNorm gamma/beta stored that way), and one-element Consts
 *   stored as `tensor_content` → a value list (see {@link isScalarContent});
 * - `Sub(c, x)` → `Add(Mul(x, -1), c)` (OpenCV computes `x − c` for a constant first operand);
 * - `Neg(x)` → `Mul(x, -1)`;
 * - `SquaredDifference(a, b)` → `Mul(d, d)` with `d = Sub(a, b)`, the constant side (if any) last;
 * - `Maximum(x, c)` / `Minimum(x, c)` with scalar c → `ClipByValue(x, c, FLT_MAX)` /
 *   `ClipByValue(x, -FLT_MAX, c)` (OpenCV's ReLU6 layer with bounds), except inside the subgraphs
 *   OpenCV fuses itself (l2_normalize, Keras ReLU6, LeakyRelu), which are left untouched;
 * - `Add(y, Mul(x, c))` (or AddV2) with c a constant vector and y not constant → `AddN(y, Mul(x, c))`
 *   (OpenCV would take the Add for the bias of the Scale layer it makes of the Mul, and fail with
 *   "Const input blob for weights not found": MTCNN's PReLU);
 * - a graph output that is a bias (`BiasAdd`, `Add` of a constant) after a conv / MatMul →
 *   `Mul(bias, 1)` (OpenCV would merge the bias into the conv and drop its name, so the output
 *   could not be fetched);
 * - `FusedBatchNormV2` → `FusedBatchNormV3` (same inputs and attributes; OpenCV only dispatches V1 and V3);
 * - `BatchNormWithGlobalNormalization` (left by fold-batch-norms) → `FusedBatchNorm`, inference mode.
 * What has no OpenCV equivalent is left as is with a `ctx.warn`; see {@link rejectedOps}.
 */
export function opencvCompat(): Pass {
  return {
    name: 'opencv-compat',
    run(graph: GraphDef, ctx: PassContext): GraphDef {
      const ix = new GraphIndex(graph);
      const names = new UniqueNames(graph.node);
      const out: NodeDef[] = [];
      const cannot = (n: NodeDef, why: string) => ctx.warn(`Cannot rewrite "${n.name}" (${n.op}) for OpenCV: ${why}`);
      for (const n of graph.node) {
        const rewritten = rewrite(n);
        if (rewritten) out.push(...rewritten);
        else out.push(n);
      }
      return { ...graph, node: out };

      function rewrite(n: NodeDef): NodeDef[] | undefined {
        const data = dataInputs(n);
        const ctrl = controlInputs(n);
        const isConst = (s: string | undefined) => !!constBehind(ix, s);
        // OpenCV merges a bias (BiasAdd, or an Add of a constant after a MatMul) into the Conv2D /
        // MatMul / deconvolution before it and names the fused layer after that op, so a graph
        // output that is such a bias cannot be fetched by its name ("Requested layer not found").
        // The bias moves to `<name>/bias` and the output becomes `Mul(<name>/bias, 1)`: a layer of
        // its own under the output's name, and exactly the same values.
        if (
          BIAS_OPS.has(n.op) && ctx.outputs.includes(n.name) && data.length === 2 && isConst(data[1]) && isFloat(n) &&
          BIAS_FUSING_OPS.has(ix.find(parseInput(data[0]!).node)?.op ?? '')
        ) {
          const bias = cloneNode(n, { name: names.unique(`${n.name}/bias`) });
          const one = scalar(names.unique(`${n.name}/one`), 1, n.device);
          return [bias, one, opNode(n, n.name, 'Mul', [bias.name, one.name])];
        }
        switch (n.op) {
          case 'Const': {
            if (!isSplat(n) && !isScalarContent(n)) return undefined;
            const h = tensorToHost(n.attr['value']!.tensor!, `"${n.name}"`);
            return [cloneNode(n, { attr: { ...n.attr, value: { tensor: hostToTensor(h) } } })];
          }
          case 'Sub': {
            // tf_importer parseBias negates the constant and adds it, whichever side it is on.
            if (data.length !== 2 || !isConst(data[0]) || isConst(data[1])) return undefined;
            if (!isFloat(n)) return cannot(n, 'only float Sub(const, x) can be rewritten'), undefined;
            const y = scalar(names.unique(`${n.name}/neg_y`), -1, n.device);
            const neg = opNode(n, names.unique(`${n.name}/neg`), 'Mul', [data[1]!, y.name]);
            return [y, neg, opNode(n, n.name, 'Add', [neg.name, data[0]!, ...ctrl])];
          }
          case 'Neg': {
            if (data.length !== 1 || isConst(data[0])) return undefined;
            if (!isFloat(n)) return cannot(n, 'only float Neg can be rewritten'), undefined;
            const y = scalar(names.unique(`${n.name}/y`), -1, n.device);
            return [y, opNode(n, n.name, 'Mul', [data[0]!, y.name, ...ctrl])];
          }
          case 'SquaredDifference': {
            if (data.length !== 2) return undefined;
            const [a, b] = data as [string, string];
            if (isConst(a) && isConst(b)) return undefined; // constant folding's job
            if (!isFloat(n)) return cannot(n, 'only float SquaredDifference can be rewritten'), undefined;
            // (a − b)² = (b − a)²: put the constant second, where OpenCV's Sub is right.
            const [p, q] = isConst(a) ? [b, a] : [a, b];
            const d = opNode(n, names.unique(`${n.name}/diff`), 'Sub', [p, q]);
            return [d, opNode(n, n.name, 'Mul', [d.name, d.name, ...ctrl])];
          }
          case 'Maximum':
          case 'Minimum': {
            if (isInFusedPattern(ix, n)) return undefined;
            if (data.length !== 2) return undefined;
            const ci = isConst(data[1]) ? 1 : isConst(data[0]) ? 0 : -1;
            if (ci < 0) return cannot(n, 'neither input is a constant (OpenCV has no element-wise max/min)'), undefined;
            if (isConst(data[1 - ci])) return undefined;
            const c = constHost(ix, data[ci]);
            if (!c || c.data.length !== 1) return cannot(n, 'the constant is not a scalar'), undefined;
            if (!isFloat(n)) return cannot(n, 'only float inputs can be rewritten'), undefined;
            const v = c.data[0]!;
            const lo = scalar(names.unique(`${n.name}/clip_min`), n.op === 'Maximum' ? v : -FLT_MAX, n.device);
            const hi = scalar(names.unique(`${n.name}/clip_max`), n.op === 'Maximum' ? FLT_MAX : v, n.device);
            return [lo, hi, opNode(n, n.name, 'ClipByValue', [data[1 - ci]!, lo.name, hi.name, ...ctrl])];
          }
          case 'Add':
          case 'AddV2': {
            // AddN of two inputs is the same sum; parseMul does not take an AddN for its bias, and
            // parseBias makes it an element-wise sum (checked in OpenCV.js 4.12).
            if (!isVariableAdd(ix, n) || data.length !== 2) return undefined;
            if (!data.some((s) => isVectorScale(ix, producer(ix, s)))) return undefined;
            return [cloneNode(n, { op: 'AddN', attr: { T: n.attr['T'] ?? attrValue.type(DataType.DT_FLOAT), N: attrValue.i(2) } })];
          }
          case 'FusedBatchNormV2':
            return [cloneNode(n, { op: 'FusedBatchNormV3' })];
          case 'BatchNormWithGlobalNormalization': {
            if (data.length !== 5) return undefined;
            const [t, m, v, beta, gamma] = data as [string, string, string, string, string];
            let g = gamma;
            const extra: NodeDef[] = [];
            if (!attr.bool(n, 'scale_after_normalization', true)) {
              const bh = constHost(ix, beta) ?? constHost(ix, m);
              if (!bh || bh.shape.length !== 1) return cannot(n, 'the channel count is unknown (beta and mean are not constant vectors)'), undefined;
              const ones = constNode(names.unique(`${n.name}/ones`), { dtype: DataType.DT_FLOAT, shape: [...bh.shape], data: new Float32Array(bh.data.length).fill(1) }, n.device);
              extra.push(ones);
              g = ones.name;
            }
            const bn = opNode(n, n.name, 'FusedBatchNorm', [t, g, beta, m, v, ...ctrl], {
              epsilon: attrValue.f(attr.float(n, 'variance_epsilon', 1e-3)),
              is_training: attrValue.b(false),
              data_format: attrValue.s('NHWC'),
            });
            return [...extra, bn];
          }
          default:
            return undefined;
        }
      }
    },
  };
}
