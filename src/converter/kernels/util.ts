/**
 * Shared helpers of the constant-folding kernels: typed-array allocation per dtype, broadcasting
 * (TensorFlow follows numpy's rules), strides and axis normalisation.
 */
import { FacenetDnnError } from '../errors.js';
import { DataType, dataTypeName } from '../proto/types.js';
import type { NodeDef } from '../proto/types.js';
import { numElements, type HostTensor, type TensorData } from '../tensor.js';

/**
 * A constant-folding kernel: host tensors in (data inputs only, in order), host tensors out (one per
 * output port). Pure: never mutates its inputs (they may be views into the graph's bytes).
 *
 * @throws {FacenetDnnError} `ERR_GRAPH` when the inputs are invalid for the op (TF would fail too).
 */
export type Kernel = (inputs: readonly HostTensor[], node: NodeDef) => HostTensor[];

/** A zeroed typed array able to hold `n` values of `dtype` (int64 as doubles, bool as bytes). */
export function alloc(dtype: DataType, n: number): TensorData {
  switch (dtype) {
    case DataType.DT_FLOAT:
    case DataType.DT_HALF:
    case DataType.DT_BFLOAT16:
      return new Float32Array(n);
    case DataType.DT_DOUBLE:
    case DataType.DT_INT64:
    case DataType.DT_UINT64:
      return new Float64Array(n);
    case DataType.DT_INT32:
    case DataType.DT_QINT32:
      return new Int32Array(n);
    case DataType.DT_UINT32:
      return new Uint32Array(n);
    case DataType.DT_INT16:
    case DataType.DT_QINT16:
      return new Int16Array(n);
    case DataType.DT_UINT16:
    case DataType.DT_QUINT16:
      return new Uint16Array(n);
    case DataType.DT_INT8:
    case DataType.DT_QINT8:
      return new Int8Array(n);
    case DataType.DT_UINT8:
    case DataType.DT_QUINT8:
    case DataType.DT_BOOL:
      return new Uint8Array(n);
    default:
      throw new FacenetDnnError('ERR_UNSUPPORTED_OP', `Cannot fold a tensor of dtype ${dataTypeName(dtype)}`);
  }
}

/** A new host tensor of `dtype` and `shape`, zero-filled. */
export function tensorOf(dtype: DataType, shape: readonly number[]): HostTensor {
  return { dtype, shape: [...shape], data: alloc(dtype, numElements(shape)) };
}

/** Whether values of `dtype` are floating point (float32 results are rounded per op). */
export function isFloat(dtype: DataType): boolean {
  return dtype === DataType.DT_FLOAT || dtype === DataType.DT_DOUBLE || dtype === DataType.DT_HALF || dtype === DataType.DT_BFLOAT16;
}

/** Whether values of `dtype` are integers (held exactly for int8..int32, as doubles for int64). */
export function isInteger(dtype: DataType): boolean {
  return !isFloat(dtype) && dtype !== DataType.DT_BOOL;
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** The error kernels throw for inputs TF would reject. */
export function badInput(node: NodeDef, why: string): FacenetDnnError {
  return new FacenetDnnError('ERR_GRAPH', `Cannot evaluate "${node.name}" (${node.op}): ${why}`);
}

/** Normalises a possibly negative axis into [0, rank). */
export function normAxis(node: NodeDef, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) throw badInput(node, `axis ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

/** The values of a small integer tensor as plain numbers (begin/end/axes/shape operands). */
export function ints(t: HostTensor): number[] {
  return Array.from(t.data as ArrayLike<number>);
}

/** The single value of a scalar or one-element tensor. */
export function scalar(node: NodeDef, t: HostTensor, what: string): number {
  if (t.data.length !== 1) throw badInput(node, `${what} must have one value, got shape [${t.shape}]`);
  return t.data[0]!;
}

/**
 * The numpy/TF broadcast of two shapes, or `undefined` when they are incompatible. Negative dims
 * (unknown) are accepted for shape inference: see `broadcastDims` in graph/shapes.ts for symbols.
 */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else return undefined;
  }
  return out;
}

/**
 * For each element of the broadcast `out` shape, the flat index into an operand of shape `shape`.
 * Returned as a function over a running multi-index to keep big same-shape cases cheap: callers
 * use {@link broadcastIndex} which short-cuts same-shape and scalar operands.
 */
export function broadcastIndex(shape: readonly number[], out: readonly number[]): Int32Array | 'same' | 'scalar' {
  const n = numElements(shape);
  if (n === 1) return 'scalar';
  if (shape.length === out.length && shape.every((d, i) => d === out[i])) return 'same';
  const total = numElements(out);
  const idx = new Int32Array(total);
  const rank = out.length;
  const src = stridesOf(shape);
  // Stride 0 on broadcast dims: the operand's index does not move along them.
  const eff = new Array<number>(rank).fill(0);
  for (let i = 0; i < rank; i++) {
    const k = shape.length - rank + i;
    if (k >= 0 && shape[k] !== 1) eff[i] = src[k]!;
  }
  const counter = new Array<number>(rank).fill(0);
  let off = 0;
  for (let e = 0; e < total; e++) {
    idx[e] = off;
    for (let d = rank - 1; d >= 0; d--) {
      counter[d]!++;
      off += eff[d]!;
      if (counter[d]! < out[d]!) break;
      off -= eff[d]! * counter[d]!;
      counter[d] = 0;
    }
  }
  return idx;
}

/** Reads element `e` of an operand through a {@link broadcastIndex} map. */
export function at(data: ArrayLike<number>, map: Int32Array | 'same' | 'scalar', e: number): number {
  return map === 'same' ? data[e]! : map === 'scalar' ? data[0]! : data[map[e]!]!;
}
