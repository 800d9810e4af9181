/**
 * Shape and data-movement kernels for constant folding: they copy values without arithmetic, so
 * they are exact for every dtype. Shape inference also runs them on index tensors to move partially
 * known values (see `MOVEMENT_OPS`).
 */
import { DataType } from '../proto/types.js';
import type { NodeDef } from '../proto/types.js';
import { attr, numElements, type HostTensor } from '../tensor.js';
import { stridedSliceSpec } from './strided-slice.js';
import { alloc, badInput, ints, isFloat, normAxis, scalar, stridesOf, tensorOf, type Kernel } from './util.js';

function need(node: NodeDef, inputs: readonly HostTensor[], n: number): void {
  if (inputs.length < n) throw badInput(node, `expected ${n} inputs, got ${inputs.length}`);
}

const identity: Kernel = ([x], node) => {
  if (!x) throw badInput(node, 'missing input');
  return [x];
};

function shapeDtype(node: NodeDef): DataType {
  return attr.type(node, 'out_type', DataType.DT_INT32);
}

const shapeK: Kernel = ([x], node) => {
  if (!x) throw badInput(node, 'missing input');
  const dtype = shapeDtype(node);
  const out = tensorOf(dtype, [x.shape.length]);
  out.data.set(x.shape);
  return [out];
};

const sizeK: Kernel = ([x], node) => {
  if (!x) throw badInput(node, 'missing input');
  const out = tensorOf(shapeDtype(node), []);
  out.data[0] = numElements(x.shape);
  return [out];
};

const rankK: Kernel = ([x], node) => {
  if (!x) throw badInput(node, 'missing input');
  return [{ dtype: DataType.DT_INT32, shape: [], data: Int32Array.of(x.shape.length) }];
};

/** Reshape with TF's single `-1` wildcard. */
export function resolveReshape(node: NodeDef, count: number, target: readonly number[]): number[] {
  const shape = [...target];
  const wild = shape.flatMap((d, i) => (d === -1 ? [i] : []));
  if (wild.length > 1) throw badInput(node, `shape [${target}] has more than one -1`);
  const known = shape.reduce((p, d) => (d === -1 ? p : p * d), 1);
  if (shape.some((d) => d < -1)) throw badInput(node, `shape [${target}] has a negative dim`);
  if (wild.length === 1) {
    if (known === 0 || count % known !== 0) throw badInput(node, `cannot reshape ${count} values into [${target}]`);
    shape[wild[0]!] = count / known;
  } else if (known !== count) throw badInput(node, `cannot reshape ${count} values into [${target}]`);
  return shape;
}

const reshape: Kernel = (inputs, node) => {
  need(node, inputs, 2);
  const [x, s] = inputs as [HostTensor, HostTensor];
  return [{ dtype: x.dtype, shape: resolveReshape(node, x.data.length, ints(s)), data: x.data }];
};

const expandDims: Kernel = (inputs, node) => {
  need(node, inputs, 2);
  const [x, d] = inputs as [HostTensor, HostTensor];
  const rank = x.shape.length;
  const axis = normAxis(node, scalar(node, d, 'dim'), rank + 1);
  const shape = [...x.shape];
  shape.splice(axis, 0, 1);
  return [{ dtype: x.dtype, shape, data: x.data }];
};

/** The `squeeze_dims` attribute (TF's name; `axis` in newer Python APIs but not in the NodeDef). */
export function squeezeShape(node: NodeDef, shape: readonly number[]): number[] {
  const dims = attr.ints(node, 'squeeze_dims', []).map((a) => normAxis(node, a, shape.length));
  if (dims.length === 0) return shape.filter((d) => d !== 1);
  for (const a of dims) if (shape[a] !== 1 && shape[a]! >= 0) throw badInput(node, `cannot squeeze dim ${a} of size ${shape[a]}`);
  return shape.filter((_, i) => !dims.includes(i));
}

const squeeze: Kernel = ([x], node) => {
  if (!x) throw badInput(node, 'missing input');
  return [{ dtype: x.dtype, shape: squeezeShape(node, x.shape), data: x.data }];
};

/** Copies the sub-block described per input dim by (begin, stride, size) into a new tensor. */
function gatherBlock(x: HostTensor, begin: readonly number[], stride: readonly number[], size: readonly number[], outShape: number[]): HostTensor {
  const rank = x.shape.length;
  const out = tensorOf(x.dtype, outShape);
  const n = numElements(size);
  if (n === 0) return out;
  const st = stridesOf(x.shape);
  const counter = new Array<number>(rank).fill(0);
  let off = 0;
  for (let d = 0; d < rank; d++) off += begin[d]! * st[d]!;
  const step = st.map((s, d) => s * stride[d]!);
  const src = x.data;
  const dst = out.data;
  for (let e = 0; e < n; e++) {
    dst[e] = src[off]!;
    for (let d = rank - 1; d >= 0; d--) {
      counter[d]!++;
      off += step[d]!;
      if (counter[d]! < size[d]!) break;
      off -= step[d]! * counter[d]!;
      counter[d] = 0;
    }
  }
  return out;
}

const stridedSlice: Kernel = (inputs, node) => {
  need(node, inputs, 4);
  const [x, b, e, s] = inputs as [HostTensor, HostTensor, HostTensor, HostTensor];
  let spec;
  try {
    spec = stridedSliceSpec(x.shape, ints(b), ints(e), ints(s), {
      begin: attr.int(node, 'begin_mask', 0),
      end: attr.int(node, 'end_mask', 0),
      ellipsis: attr.int(node, 'ellipsis_mask', 0),
      newAxis: attr.int(node, 'new_axis_mask', 0),
      shrinkAxis: attr.int(node, 'shrink_axis_mask', 0),
    });
  } catch (err) {
    throw badInput(node, (err as Error).message);
  }
  const d = spec.dims;
  return [gatherBlock(x, d.map((q) => q.begin), d.map((q) => q.stride), d.map((q) => q.size), spec.shape)];
};

const slice: Kernel = (inputs, node) => {
  need(node, inputs, 3);
  const [x, b, s] = inputs as [HostTensor, HostTensor, HostTensor];
  const begin = ints(b);
  const size = ints(s).map((sz, i) => (sz === -1 ? x.shape[i]! - begin[i]! : sz));
  if (begin.length !== x.shape.length || size.length !== x.shape.length) throw badInput(node, 'begin and size must have one entry per dim');
  x.shape.forEach((dim, i) => {
    if (begin[i]! < 0 || size[i]! < 0 || begin[i]! + size[i]! > dim) throw badInput(node, `slice [${begin}] + [${size}] exceeds [${x.shape}]`);
  });
  return [gatherBlock(x, begin, begin.map(() => 1), size, size)];
};

/** Concatenates same-rank tensors along `axis`. */
export function concat(node: NodeDef, parts: readonly HostTensor[], axisIn: number): HostTensor {
  const first = parts[0];
  if (!first) throw badInput(node, 'nothing to concatenate');
  const rank = first.shape.length;
  const axis = normAxis(node, axisIn, rank);
  const shape = [...first.shape];
  shape[axis] = 0;
  for (const p of parts) {
    if (p.shape.length !== rank || p.shape.some((d, i) => i !== axis && d !== first.shape[i])) {
      throw badInput(node, `shapes [${first.shape}] and [${p.shape}] do not concatenate on axis ${axis}`);
    }
    shape[axis] += p.shape[axis]!;
  }
  const out = tensorOf(first.dtype, shape);
  const outer = numElements(shape.slice(0, axis));
  let col = 0;
  const rowOut = numElements(shape.slice(axis));
  for (const p of parts) {
    const row = numElements(p.shape.slice(axis));
    for (let o = 0; o < outer; o++) out.data.set(p.data.subarray(o * row, (o + 1) * row), o * rowOut + col);
    col += row;
  }
  return out;
}

const concatV2: Kernel = (inputs, node) => {
  need(node, inputs, 2);
  const axis = inputs[inputs.length - 1]!;
  return [concat(node, inputs.slice(0, -1), scalar(node, axis, 'axis'))];
};

const concatV1: Kernel = (inputs, node) => {
  need(node, inputs, 2);
  return [concat(node, inputs.slice(1), scalar(node, inputs[0]!, 'axis'))];
};

const pack: Kernel = (inputs, node) => {
  need(node, inputs, 1);
  const first = inputs[0]!;
  const axis = normAxis(node, attr.int(node, 'axis', 0), first.shape.length + 1);
  const parts = inputs.map((t) => {
    const shape = [...t.shape];
    shape.splice(axis, 0, 1);
    return { ...t, shape };
  });
  return [concat(node, parts, axis)];
};

const unpack: Kernel = ([x], node) => {
  if (!x) throw badInput(node, 'missing input');
  const axis = normAxis(node, attr.int(node, 'axis', 0), x.shape.length);
  const num = x.shape[axis]!;
  const shape = x.shape.filter((_, i) => i !== axis);
  const out: HostTensor[] = [];
  for (let k = 0; k < num; k++) {
    const begin = x.shape.map((_, i) => (i === axis ? k : 0));
    const size = x.shape.map((d, i) => (i === axis ? 1 : d));
    out.push(gatherBlock(x, begin, begin.map(() => 1), size, shape));
  }
  return out;
};

const split: Kernel = (inputs, node) => {
  need(node, inputs, 2);
  const [a, x] = inputs as [HostTensor, HostTensor];
  const axis = normAxis(node, scalar(node, a, 'axis'), x.shape.length);
  const num = attr.int(node, 'num_split');
  const dim = x.shape[axis]!;
  if (num <= 0 || dim % num !== 0) throw badInput(node, `dim ${dim} does not split into ${num}`);
  const part = dim / num;
  const size = x.shape.map((d, i) => (i === axis ? part : d));
  const out: HostTensor[] = [];
  for (let k = 0; k < num; k++) {
    const begin = x.shape.map((_, i) => (i === axis ? k * part : 0));
    out.push(gatherBlock(x, begin, begin.map(() => 1), size, size));
  }
  return out;
};

const transpose: Kernel = (inputs, node) => {
  need(node, inputs, 2);
  const [x, p] = inputs as [HostTensor, HostTensor];
  const perm = ints(p);
  const rank = x.shape.length;
  if (perm.length !== rank || new Set(perm).size !== rank || perm.some((q) => q < 0 || q >= rank)) {
    throw badInput(node, `perm [${perm}] is not a permutation of ${rank} dims`);
  }
  const shape = perm.map((q) => x.shape[q]!);
  const st = stridesOf(x.shape);
  return [permute(x, perm, shape, st)];
};

/** Reading the input with permuted strides walks it in output order. */
function permute(x: HostTensor, perm: readonly number[], shape: number[], st: readonly number[]): HostTensor {
  const out = tensorOf(x.dtype, shape);
  const rank = shape.length;
  const step = perm.map((q) => st[q]!);
  const counter = new Array<number>(rank).fill(0);
  let off = 0;
  const n = out.data.length;
  for (let e = 0; e < n; e++) {
    out.data[e] = x.data[off]!;
    for (let d = rank - 1; d >= 0; d--) {
      counter[d]!++;
      off += step[d]!;
      if (counter[d]! < shape[d]!) break;
      off -= step[d]! * counter[d]!;
      counter[d] = 0;
    }
  }
  return out;
}

const tile: Kernel = (inputs, node) => {
  need(node, inputs, 2);
  const [x, m] = inputs as [HostTensor, HostTensor];
  const mult = ints(m);
  const rank = x.shape.length;
  if (mult.length !== rank || mult.some((v) => v < 0)) throw badInput(node, `multiples [${mult}] do not fit rank ${rank}`);
  const shape = x.shape.map((d, i) => d * mult[i]!);
  const out = tensorOf(x.dtype, shape);
  const n = out.data.length;
  const st = stridesOf(x.shape);
  const counter = new Array<number>(rank).fill(0);
  for (let e = 0; e < n; e++) {
    let off = 0;
    for (let d = 0; d < rank; d++) off += (counter[d]! % x.shape[d]!) * st[d]!;
    out.data[e] = x.data[off]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (++counter[d]! < shape[d]!) break;
      counter[d] = 0;
    }
  }
  return [out];
};

const fill: Kernel = (inputs, node) => {
  need(node, inputs, 2);
  const [dims, v] = inputs as [HostTensor, HostTensor];
  const shape = ints(dims);
  if (shape.some((d) => d < 0)) throw badInput(node, `dims [${shape}] must be non-negative`);
  const out = tensorOf(v.dtype, shape);
  out.data.fill(scalar(node, v, 'value'));
  return [out];
};

/** Range: values accumulate `delta` in the output dtype, as TF's RangeOp does. */
const range: Kernel = (inputs, node) => {
  need(node, inputs, 3);
  const [s, l, d] = inputs as [HostTensor, HostTensor, HostTensor];
  const start = scalar(node, s, 'start');
  const limit = scalar(node, l, 'limit');
  const delta = scalar(node, d, 'delta');
  if (delta === 0) throw badInput(node, 'delta must not be 0');
  if ((delta > 0 && start > limit) || (delta < 0 && start < limit)) throw badInput(node, `start ${start} and limit ${limit} disagree with delta ${delta}`);
  const n = isFloat(s.dtype) ? Math.ceil(Math.abs((limit - start) / delta)) : Math.ceil(Math.abs(limit - start) / Math.abs(delta));
  const out = tensorOf(s.dtype, [n]);
  const one = alloc(s.dtype, 1);
  one[0] = start;
  for (let i = 0; i < n; i++) {
    out.data[i] = one[0]!;
    one[0] = one[0]! + delta;
  }
  return [out];
};

const likeK = (value: number): Kernel => ([x], node) => {
  if (!x) throw badInput(node, 'missing input');
  const out = tensorOf(x.dtype, x.shape);
  out.data.fill(value);
  return [out];
};

/**
 * GatherV2 (axis input) and Gather (axis 0): index tensors pick slices along `axis`.
 * Indices out of range are rejected as TF's CPU kernel does.
 */
const gather: Kernel = (inputs, node) => {
  need(node, inputs, 2);
  const [x, idx] = inputs as [HostTensor, HostTensor];
  const axis = normAxis(node, node.op === 'GatherV2' && inputs[2] ? scalar(node, inputs[2], 'axis') : 0, x.shape.length);
  if (attr.int(node, 'batch_dims', 0) !== 0) throw badInput(node, 'batch_dims is not supported');
  const outer = numElements(x.shape.slice(0, axis));
  const dim = x.shape[axis]!;
  const inner = numElements(x.shape.slice(axis + 1));
  const shape = [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)];
  const out = tensorOf(x.dtype, shape);
  const k = idx.data.length;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < k; j++) {
      const i = idx.data[j]!;
      if (i < 0 || i >= dim) throw badInput(node, `index ${i} is out of range [0, ${dim})`);
      out.data.set(x.data.subarray((o * dim + i) * inner, (o * dim + i + 1) * inner), (o * k + j) * inner);
    }
  }
  return [out];
};

/** The array kernels by op. */
export const ARRAY_KERNELS: ReadonlyMap<string, Kernel> = new Map<string, Kernel>([
  ['Identity', identity],
  ['Snapshot', identity],
  ['StopGradient', identity],
  ['PreventGradient', identity],
  ['Shape', shapeK],
  ['Size', sizeK],
  ['Rank', rankK],
  ['Reshape', reshape],
  ['ExpandDims', expandDims],
  ['Squeeze', squeeze],
  ['StridedSlice', stridedSlice],
  ['Slice', slice],
  ['ConcatV2', concatV2],
  ['Concat', concatV1],
  ['Pack', pack],
  ['Unpack', unpack],
  ['Split', split],
  ['Transpose', transpose],
  ['Tile', tile],
  ['Fill', fill],
  ['Range', range],
  ['ZerosLike', likeK(0)],
  ['OnesLike', likeK(1)],
  ['Gather', gather],
  ['GatherV2', gather],
]);

/**
 * Ops that only move values, with the indices of the inputs they move (the others are parameters
 * such as begin/end/axis). Shape inference runs these kernels on index tensors to carry partially
 * known values (e.g. a `Shape` with an unknown batch dim through StridedSlice and Pack).
 */
export const MOVEMENT_OPS: Readonly<Record<string, (inputCount: number) => number[]>> = {
  Identity: () => [0],
  Snapshot: () => [0],
  StopGradient: () => [0],
  PreventGradient: () => [0],
  Reshape: () => [0],
  ExpandDims: () => [0],
  Squeeze: () => [0],
  StridedSlice: () => [0],
  Slice: () => [0],
  ConcatV2: (n) => Array.from({ length: n - 1 }, (_, i) => i),
  Concat: (n) => Array.from({ length: n - 1 }, (_, i) => i + 1),
  Pack: (n) => Array.from({ length: n }, (_, i) => i),
  Unpack: () => [0],
  Split: () => [1],
  Transpose: () => [0],
  Tile: () => [0],
  Fill: () => [1],
  Gather: () => [0],
  GatherV2: () => [0],
};
