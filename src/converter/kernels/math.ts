/**
 * Element-wise and reduction kernels for constant folding.
 *
 * Float32 results are rounded once per TF op: operands are float32, the op is computed in double
 * and stored into a Float32Array. For +, −, ×, ÷ and √ that single rounding gives the correctly
 * rounded float32 result (double has more than 2·24+2 bits), i.e. bit-for-bit what TF's CPU kernels
 * produce. Ops TF computes with approximations (exp, tanh, sigmoid…) match to about 1 ulp.
 * int32 arithmetic wraps like C++ (Int32Array stores, `Math.imul`); int64 is held as doubles and is
 * exact up to 2^53.
 */
import { DataType } from '../proto/types.js';
import type { NodeDef } from '../proto/types.js';
import { attr, numElements, type HostTensor } from '../tensor.js';
import {
  alloc,
  at,
  badInput,
  broadcastIndex,
  broadcastShape,
  ints,
  isFloat,
  normAxis,
  stridesOf,
  tensorOf,
  type Kernel,
} from './util.js';

type Unary = (x: number) => number;

/** Rounds half to even, as TF's Round (and numpy's) do; `Math.round` rounds half up. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

/**
 * Unary ops as data: `f` on doubles (float results are rounded by the output array), `int` when
 * the integer version differs (overflowing products must wrap like int32).
 */
export const UNARY_OPS: Readonly<Record<string, { f: Unary; int?: Unary }>> = {
  Neg: { f: (x) => -x },
  Abs: { f: Math.abs },
  Sqrt: { f: Math.sqrt },
  // TF's CPU Rsqrt is 1/sqrt(x); tfjs-backend-cpu computes the same expression.
  Rsqrt: { f: (x) => 1 / Math.sqrt(x) },
  Square: { f: (x) => x * x, int: (x) => Math.imul(x, x) },
  Exp: { f: Math.exp },
  Log: { f: Math.log },
  Log1p: { f: Math.log1p },
  Floor: { f: Math.floor, int: (x) => x },
  Ceil: { f: Math.ceil, int: (x) => x },
  Round: { f: roundHalfEven, int: (x) => x },
  Sign: { f: (x) => (x > 0 ? 1 : x < 0 ? -1 : x) },
  Reciprocal: { f: (x) => 1 / x },
  Relu: { f: (x) => (x < 0 ? 0 : x) },
  Relu6: { f: (x) => (x < 0 ? 0 : x > 6 ? 6 : x) },
  Sigmoid: { f: (x) => 1 / (1 + Math.exp(-x)) },
  Tanh: { f: Math.tanh },
  Sin: { f: Math.sin },
  Cos: { f: Math.cos },
  LogicalNot: { f: (x) => (x ? 0 : 1) },
};

function unaryKernel(op: string): Kernel {
  const spec = UNARY_OPS[op]!;
  return ([x], node) => {
    if (!x) throw badInput(node, 'missing input');
    const f = !isFloat(x.dtype) && spec.int ? spec.int : spec.f;
    const out = alloc(x.dtype, x.data.length);
    const src = x.data;
    for (let i = 0; i < src.length; i++) out[i] = f(src[i]!);
    return [{ dtype: x.dtype, shape: [...x.shape], data: out }];
  };
}

type Binary = (a: number, b: number) => number;

function intDivCheck(b: number): void {
  if (b === 0) throw new RangeError('Integer division by zero');
}

/** C/TF truncated modulo turned into floor modulo (result takes the divisor's sign). */
function floorMod(a: number, b: number): number {
  const m = a % b;
  return m !== 0 && m < 0 !== b < 0 ? m + b : m;
}

/**
 * Binary ops as data. `f` works on doubles; `f32` (when given) is used for float32 so that an
 * intermediate is rounded where TF rounds it; `int` for integer dtypes; `bool` means the result
 * is DT_BOOL.
 */
export const BINARY_OPS: Readonly<Record<string, { f: Binary; f32?: Binary; int?: Binary; bool?: boolean }>> = {
  Add: { f: (a, b) => a + b },
  AddV2: { f: (a, b) => a + b },
  Sub: { f: (a, b) => a - b },
  Mul: { f: (a, b) => a * b, int: (a, b) => Math.imul(a, b) },
  RealDiv: { f: (a, b) => a / b, int: (a, b) => (intDivCheck(b), Math.trunc(a / b)) },
  Div: { f: (a, b) => a / b, int: (a, b) => (intDivCheck(b), Math.trunc(a / b)) },
  // TF's float FloorDiv is floor(x / y) with the quotient rounded to the dtype first.
  FloorDiv: { f: (a, b) => Math.floor(a / b), f32: (a, b) => Math.floor(Math.fround(a / b)), int: (a, b) => (intDivCheck(b), Math.floor(a / b)) },
  FloorMod: { f: floorMod, int: (a, b) => (intDivCheck(b), floorMod(a, b)) },
  Maximum: { f: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a > b ? a : b) },
  Minimum: { f: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a < b ? a : b) },
  Pow: { f: Math.pow },
  SquaredDifference: { f: (a, b) => (a - b) * (a - b), f32: (a, b) => Math.fround(a - b) ** 2, int: (a, b) => Math.imul(a - b, a - b) },
  Equal: { f: (a, b) => +(a === b), bool: true },
  NotEqual: { f: (a, b) => +(a !== b), bool: true },
  Greater: { f: (a, b) => +(a > b), bool: true },
  GreaterEqual: { f: (a, b) => +(a >= b), bool: true },
  Less: { f: (a, b) => +(a < b), bool: true },
  LessEqual: { f: (a, b) => +(a <= b), bool: true },
  LogicalAnd: { f: (a, b) => +(!!a && !!b), bool: true },
  LogicalOr: { f: (a, b) => +(!!a || !!b), bool: true },
};

/** Applies `f` over the numpy broadcast of `a` and `b`; the output has `dtype`. */
export function broadcastBinary(node: NodeDef, a: HostTensor, b: HostTensor, dtype: DataType, f: Binary): HostTensor {
  const shape = broadcastShape(a.shape, b.shape);
  if (!shape) throw badInput(node, `shapes [${a.shape}] and [${b.shape}] are not broadcast-compatible`);
  const n = numElements(shape);
  const out = alloc(dtype, n);
  const ma = broadcastIndex(a.shape, shape);
  const mb = broadcastIndex(b.shape, shape);
  const da = a.data;
  const db = b.data;
  if (ma === 'same' && mb === 'same') for (let i = 0; i < n; i++) out[i] = f(da[i]!, db[i]!);
  else if (ma === 'same' && mb === 'scalar') {
    const v = db[0]!;
    for (let i = 0; i < n; i++) out[i] = f(da[i]!, v);
  } else if (ma === 'scalar' && mb === 'same') {
    const v = da[0]!;
    for (let i = 0; i < n; i++) out[i] = f(v, db[i]!);
  } else for (let i = 0; i < n; i++) out[i] = f(at(da, ma, i), at(db, mb, i));
  return { dtype, shape, data: out };
}

function binaryKernel(op: string): Kernel {
  const spec = BINARY_OPS[op]!;
  return ([a, b], node) => {
    if (!a || !b) throw badInput(node, 'expected 2 inputs');
    if (a.dtype !== b.dtype) throw badInput(node, `operand dtypes differ (${a.dtype} vs ${b.dtype})`);
    const f =
      a.dtype === DataType.DT_FLOAT && spec.f32 ? spec.f32
      : !isFloat(a.dtype) && spec.int ? spec.int
      : spec.f;
    const wrapped: Binary =
      spec.int && !isFloat(a.dtype) && f === spec.int
        ? (x, y) => {
            try {
              return f(x, y);
            } catch (e) {
              throw badInput(node, (e as Error).message);
            }
          }
        : f;
    return [broadcastBinary(node, a, b, spec.bool ? DataType.DT_BOOL : a.dtype, wrapped)];
  };
}

/** Cast: TF's static_cast semantics (float → int truncates toward zero, → bool is `!= 0`). */
const cast: Kernel = ([x], node) => {
  if (!x) throw badInput(node, 'missing input');
  const dst = attr.type(node, 'DstT');
  const out = alloc(dst, x.data.length);
  const src = x.data;
  if (dst === DataType.DT_BOOL) for (let i = 0; i < src.length; i++) out[i] = src[i] !== 0 ? 1 : 0;
  else if (!isFloat(dst) && isFloat(x.dtype)) for (let i = 0; i < src.length; i++) out[i] = Math.trunc(src[i]!);
  else out.set(src);
  return [{ dtype: dst, shape: [...x.shape], data: out }];
};

/** Select (v1: cond is a scalar, the same shape as x, or a vector over x's first dim) and SelectV2 (broadcast). */
const select: Kernel = ([c, x, y], node) => {
  if (!c || !x || !y) throw badInput(node, 'expected 3 inputs');
  if (node.op === 'SelectV2' || c.data.length === 1 || c.shape.length === x.shape.length) {
    const xy = broadcastShape(x.shape, y.shape);
    const shape = xy && broadcastShape(c.shape, xy);
    if (!shape) throw badInput(node, `shapes [${c.shape}], [${x.shape}], [${y.shape}] are not broadcast-compatible`);
    if (node.op === 'Select' && !(x.shape.length === y.shape.length && x.shape.every((d, i) => d === y.shape[i]))) {
      throw badInput(node, 'x and y must have the same shape');
    }
    const n = numElements(shape);
    const out = alloc(x.dtype, n);
    const mc = broadcastIndex(c.shape, shape);
    const mx = broadcastIndex(x.shape, shape);
    const my = broadcastIndex(y.shape, shape);
    for (let i = 0; i < n; i++) out[i] = at(c.data, mc, i) ? at(x.data, mx, i) : at(y.data, my, i);
    return [{ dtype: x.dtype, shape, data: out }];
  }
  // v1 with a vector condition: picks whole rows.
  if (c.shape.length !== 1 || c.shape[0] !== x.shape[0]) throw badInput(node, `condition shape [${c.shape}] does not fit [${x.shape}]`);
  const row = x.data.length / Math.max(1, x.shape[0]!);
  const out = alloc(x.dtype, x.data.length);
  for (let r = 0; r < c.data.length; r++) {
    const src = c.data[r] ? x.data : y.data;
    for (let k = 0; k < row; k++) out[r * row + k] = src[r * row + k]!;
  }
  return [{ dtype: x.dtype, shape: [...x.shape], data: out }];
};

interface Reducer {
  init: number;
  step: (acc: number, v: number, int: boolean) => number;
  /** Optional finishing step with the count of reduced elements. */
  done?: (acc: number, count: number, int: boolean) => number;
  bool?: boolean;
}

/** Reductions as data: accumulation in double (the most accurate order-independent choice). */
export const REDUCERS: Readonly<Record<string, Reducer>> = {
  Sum: { init: 0, step: (a, v) => a + v },
  // TF's integer Mean is an integer division of the sum.
  Mean: { init: 0, step: (a, v) => a + v, done: (a, n, int) => (int ? Math.trunc(a / n) : a / n) },
  Prod: { init: 1, step: (a, v, int) => (int ? Math.imul(a, v) : a * v) },
  Max: { init: -Infinity, step: (a, v) => (Number.isNaN(a) ? a : v > a || Number.isNaN(v) ? v : a) },
  Min: { init: Infinity, step: (a, v) => (Number.isNaN(a) ? a : v < a || Number.isNaN(v) ? v : a) },
  All: { init: 1, step: (a, v) => (a && v ? 1 : 0), bool: true },
  Any: { init: 0, step: (a, v) => (a || v ? 1 : 0), bool: true },
};

/** Normalised, sorted, de-duplicated reduction axes. */
export function reductionAxes(node: NodeDef, axes: readonly number[], rank: number): number[] {
  return [...new Set(axes.map((a) => normAxis(node, a, Math.max(rank, 1))))].sort((a, b) => a - b);
}

/** The output shape of a reduction. */
export function reducedShape(shape: readonly number[], axes: readonly number[], keepDims: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepDims) out.push(1);
  });
  return out;
}

function reduceKernel(op: string): Kernel {
  const r = REDUCERS[op]!;
  return ([x, axesT], node) => {
    if (!x || !axesT) throw badInput(node, 'expected 2 inputs');
    const keep = attr.bool(node, 'keep_dims', false);
    const rank = x.shape.length;
    const axes = rank === 0 ? [] : reductionAxes(node, ints(axesT), rank);
    const outShape = reducedShape(x.shape, axes, keep);
    const outN = numElements(outShape);
    const int = !isFloat(x.dtype) && !r.bool;
    const acc = new Float64Array(outN).fill(r.init);
    // Output stride of each input dim (0 on reduced dims), to walk the input once in order.
    const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const ks = stridesOf(kept);
    const eff = x.shape.map((_, i) => (axes.includes(i) ? 0 : ks[i]!));
    const n = x.data.length;
    const counter = new Array<number>(rank).fill(0);
    let o = 0;
    const src = x.data;
    for (let e = 0; e < n; e++) {
      acc[o] = r.step(acc[o]!, src[e]!, int);
      for (let d = rank - 1; d >= 0; d--) {
        counter[d]!++;
        o += eff[d]!;
        if (counter[d]! < x.shape[d]!) break;
        o -= eff[d]! * counter[d]!;
        counter[d] = 0;
      }
    }
    const count = outN === 0 ? 0 : n / outN;
    const dtype = r.bool ? DataType.DT_BOOL : x.dtype;
    const out = tensorOf(dtype, outShape);
    for (let i = 0; i < outN; i++) {
      let v = r.done ? r.done(acc[i]!, count, int) : acc[i]!;
      // An empty integer Max/Min gives the dtype's lowest/highest value in TF.
      if (int && !Number.isFinite(v)) v = v > 0 ? 2147483647 : -2147483648;
      out.data[i] = v;
    }
    return [out];
  };
}

/** The math kernels by op. */
export const MATH_KERNELS: ReadonlyMap<string, Kernel> = new Map<string, Kernel>([
  ...Object.keys(UNARY_OPS).map((op): [string, Kernel] => [op, unaryKernel(op)]),
  ...Object.keys(BINARY_OPS).map((op): [string, Kernel] => [op, binaryKernel(op)]),
  ...Object.keys(REDUCERS).map((op): [string, Kernel] => [op, reduceKernel(op)]),
  ['Cast', cast],
  ['Select', select],
  ['SelectV2', select],
]);
