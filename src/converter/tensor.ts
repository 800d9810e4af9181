/**
 * TensorProto <-> typed arrays. Reads every storage form TensorFlow writes (tensor_content, the
 * typed `*_val` lists, and "splat" lists shorter than the shape, whose last value repeats) and
 * always writes `tensor_content`, because OpenCV misreads splat constants (docs/opencv-js.md).
 */
import { FacenetDnnError } from './errors.js';
import { int64ToNumber } from './proto/codec.js';
import { DataType, dataTypeName } from './proto/types.js';
import type { AttrValue, NodeDef, TensorProto, TensorShapeProto } from './proto/types.js';

/** The typed array used for each dtype's values in memory. int64 values are held as doubles. */
export type TensorData =
  | Float32Array
  | Float64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | Uint16Array
  | Uint32Array;

/** A constant tensor decoded to memory. `data` is row-major; `dtype` is TensorFlow's. */
export interface HostTensor {
  dtype: DataType;
  shape: number[];
  data: TensorData;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Dims of a TensorShapeProto (-1 for unknown); `undefined` for unknown rank. */
export function shapeDims(s: TensorShapeProto | undefined): number[] | undefined {
  if (!s) return [];
  if (s.unknown_rank) return undefined;
  return (s.dim ?? []).map((d) => int64ToNumber(d.size ?? 0));
}

/** A TensorShapeProto from dims (-1 for unknown). */
export function makeShape(dims: readonly number[]): TensorShapeProto {
  return { dim: dims.map((size) => ({ size })) };
}

export function numElements(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

interface DtypeInfo {
  bytes: number;
  make: (n: number) => TensorData;
  view: (buf: ArrayBuffer, off: number, n: number) => TensorData;
}

const INFO: Record<number, DtypeInfo> = {
  [DataType.DT_FLOAT]: { bytes: 4, make: (n) => new Float32Array(n), view: (b, o, n) => new Float32Array(b, o, n) },
  [DataType.DT_DOUBLE]: { bytes: 8, make: (n) => new Float64Array(n), view: (b, o, n) => new Float64Array(b, o, n) },
  [DataType.DT_INT32]: { bytes: 4, make: (n) => new Int32Array(n), view: (b, o, n) => new Int32Array(b, o, n) },
  [DataType.DT_QINT32]: { bytes: 4, make: (n) => new Int32Array(n), view: (b, o, n) => new Int32Array(b, o, n) },
  [DataType.DT_INT16]: { bytes: 2, make: (n) => new Int16Array(n), view: (b, o, n) => new Int16Array(b, o, n) },
  [DataType.DT_QINT16]: { bytes: 2, make: (n) => new Int16Array(n), view: (b, o, n) => new Int16Array(b, o, n) },
  [DataType.DT_UINT16]: { bytes: 2, make: (n) => new Uint16Array(n), view: (b, o, n) => new Uint16Array(b, o, n) },
  [DataType.DT_QUINT16]: { bytes: 2, make: (n) => new Uint16Array(n), view: (b, o, n) => new Uint16Array(b, o, n) },
  [DataType.DT_INT8]: { bytes: 1, make: (n) => new Int8Array(n), view: (b, o, n) => new Int8Array(b, o, n) },
  [DataType.DT_QINT8]: { bytes: 1, make: (n) => new Int8Array(n), view: (b, o, n) => new Int8Array(b, o, n) },
  [DataType.DT_UINT8]: { bytes: 1, make: (n) => new Uint8Array(n), view: (b, o, n) => new Uint8Array(b, o, n) },
  [DataType.DT_QUINT8]: { bytes: 1, make: (n) => new Uint8Array(n), view: (b, o, n) => new Uint8Array(b, o, n) },
  [DataType.DT_BOOL]: { bytes: 1, make: (n) => new Uint8Array(n), view: (b, o, n) => new Uint8Array(b, o, n) },
  [DataType.DT_UINT32]: { bytes: 4, make: (n) => new Uint32Array(n), view: (b, o, n) => new Uint32Array(b, o, n) },
  [DataType.DT_INT64]: { bytes: 8, make: (n) => new Float64Array(n), view: () => { throw new Error('unreachable'); } },
  [DataType.DT_UINT64]: { bytes: 8, make: (n) => new Float64Array(n), view: () => { throw new Error('unreachable'); } },
  [DataType.DT_HALF]: { bytes: 2, make: (n) => new Float32Array(n), view: () => { throw new Error('unreachable'); } },
};

/** Whether {@link tensorToHost} can decode tensors of this dtype. */
export function isNumericDtype(dtype: DataType): boolean {
  return INFO[dtype] !== undefined;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function listFor(t: TensorProto): ArrayLike<unknown> | undefined {
  switch (t.dtype) {
    case DataType.DT_FLOAT: return t.float_val;
    case DataType.DT_DOUBLE: return t.double_val;
    case DataType.DT_INT64: return t.int64_val;
    case DataType.DT_UINT64: return t.uint64_val;
    case DataType.DT_UINT32: return t.uint32_val;
    case DataType.DT_BOOL: return t.bool_val;
    case DataType.DT_HALF:
    case DataType.DT_BFLOAT16: return t.half_val;
    default: return t.int_val;
  }
}

/**
 * Decodes a TensorProto. `tensor_content` is read little-endian; a value list shorter than the
 * shape repeats its last value (TensorFlow's splat rule); an empty one means zeros.
 * The result may be a view into the graph's bytes: treat it as read-only.
 *
 * @param where names the node in error messages.
 * @throws {FacenetDnnError} `ERR_GRAPH` for an unsupported dtype or a content size mismatch.
 */
export function tensorToHost(t: TensorProto, where = 'tensor'): HostTensor {
  const shape = shapeDims(t.tensor_shape);
  if (!shape || shape.some((d) => d < 0)) {
    throw new FacenetDnnError('ERR_GRAPH', `Cannot read constant ${where}: its shape is not fully defined`);
  }
  const info = INFO[t.dtype];
  if (!info) throw new FacenetDnnError('ERR_GRAPH', `Cannot read constant ${where}: dtype ${dataTypeName(t.dtype)} is not supported`);
  const n = numElements(shape);
  const content = t.tensor_content;
  if (content && content.length > 0) {
    if (content.length !== n * info.bytes) {
      throw new FacenetDnnError(
        'ERR_GRAPH',
        `Cannot read constant ${where}: tensor_content has ${content.length} bytes, shape [${shape}] of ${dataTypeName(t.dtype)} needs ${n * info.bytes}`,
      );
    }
    if (!LITTLE_ENDIAN) throw new FacenetDnnError('ERR_GRAPH', 'Cannot read tensor_content on a big-endian host');
    if (t.dtype === DataType.DT_INT64 || t.dtype === DataType.DT_UINT64 || t.dtype === DataType.DT_HALF) {
      const dv = new DataView(content.buffer, content.byteOffset, content.byteLength);
      const out = info.make(n);
      for (let i = 0; i < n; i++) {
        if (t.dtype === DataType.DT_HALF) out[i] = halfToFloat(dv.getUint16(i * 2, true));
        else if (t.dtype === DataType.DT_INT64) out[i] = Number(dv.getBigInt64(i * 8, true));
        else out[i] = Number(dv.getBigUint64(i * 8, true));
      }
      return { dtype: t.dtype, shape, data: out };
    }
    if (content.byteOffset % info.bytes === 0) {
      return { dtype: t.dtype, shape, data: info.view(content.buffer as ArrayBuffer, content.byteOffset, n) };
    }
    // new Uint8Array(x) copies; Buffer#slice would return a view of the whole file instead.
    const copy = new Uint8Array(content);
    return { dtype: t.dtype, shape, data: info.view(copy.buffer, 0, n) };
  }
  const list = listFor(t) ?? [];
  const out = info.make(n);
  if (list.length > n) {
    throw new FacenetDnnError('ERR_GRAPH', `Cannot read constant ${where}: ${list.length} values for shape [${shape}]`);
  }
  const conv = (v: unknown): number => {
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (typeof v === 'number') return t.dtype === DataType.DT_HALF ? halfToFloat(v) : v;
    return int64ToNumber(v as never);
  };
  for (let i = 0; i < list.length; i++) out[i] = conv(list[i]);
  if (list.length > 0 && list.length < n) out.fill(conv(list[list.length - 1]), list.length);
  return { dtype: t.dtype, shape, data: out };
}

/**
 * Encodes a host tensor as a TensorProto the way TensorFlow's `make_tensor_proto` does: a tensor of
 * more than one element as `tensor_content` (never a splat list: OpenCV reads a short list as the
 * whole tensor), and a scalar or one-element tensor as its typed value list (`float_val`,
 * `int_val`, …): OpenCV's importer reads some scalars, e.g. the ConcatV2 axis, from `int_val` only.
 * When `data` already has the dtype's array type its memory is shared, not copied (a full FaceNet
 * has 90 MB of weights: a copy per write would break the converter's memory budget), so `data`
 * must not be changed afterwards; graphs are immutable by convention anyway.
 */
export function hostToTensor(h: HostTensor): TensorProto {
  const info = INFO[h.dtype];
  if (!info) throw new FacenetDnnError('ERR_GRAPH', `Cannot write a constant of dtype ${dataTypeName(h.dtype)}`);
  const n = numElements(h.shape);
  if (h.data.length !== n) throw new RangeError(`Cannot write constant: ${h.data.length} values for shape [${h.shape}]`);
  if (h.dtype === DataType.DT_HALF) throw new FacenetDnnError('ERR_GRAPH', 'Cannot write a DT_HALF constant');
  const base: TensorProto = { dtype: h.dtype, tensor_shape: makeShape(h.shape) };
  if (n <= 1) {
    if (n === 0) return base;
    const v = h.data[0]!;
    switch (h.dtype) {
      case DataType.DT_FLOAT: return { ...base, float_val: [v] };
      case DataType.DT_DOUBLE: return { ...base, double_val: [v] };
      case DataType.DT_INT64: return { ...base, int64_val: [v] };
      case DataType.DT_UINT64: return { ...base, uint64_val: [v] };
      case DataType.DT_UINT32: return { ...base, uint32_val: [v] };
      case DataType.DT_BOOL: return { ...base, bool_val: [v !== 0] };
      default: return { ...base, int_val: [v] };
    }
  }
  let content: Uint8Array;
  if (h.dtype === DataType.DT_INT64 || h.dtype === DataType.DT_UINT64) {
    content = new Uint8Array(n * 8);
    const dv = new DataView(content.buffer);
    for (let i = 0; i < n; i++) {
      if (h.dtype === DataType.DT_INT64) dv.setBigInt64(i * 8, BigInt(Math.trunc(h.data[i]!)), true);
      else dv.setBigUint64(i * 8, BigInt(Math.trunc(h.data[i]!)), true);
    }
  } else {
    let typed = h.data;
    if (typed.constructor !== info.make(0).constructor) {
      typed = info.make(n);
      typed.set(h.data);
    }
    content = new Uint8Array(typed.buffer, typed.byteOffset, n * info.bytes);
  }
  return { ...base, tensor_content: content };
}

/** A Const node holding `h`. */
export function constNode(name: string, h: HostTensor, device?: string): NodeDef {
  const node: NodeDef = {
    name,
    op: 'Const',
    input: [],
    attr: { dtype: { type: h.dtype }, value: { tensor: hostToTensor(h) } },
  };
  if (device) node.device = device;
  return node;
}

/** The value of a Const node, or `undefined` when the node is not a readable Const. */
export function constValue(node: NodeDef): HostTensor | undefined {
  if (node.op !== 'Const') return undefined;
  const t = node.attr['value']?.tensor;
  if (!t || !isNumericDtype(t.dtype)) return undefined;
  return tensorToHost(t, `"${node.name}"`);
}

/** Typed accessors for attributes; each throws ERR_GRAPH naming the node when the attr is missing. */
export const attr = {
  int(node: NodeDef, key: string, fallback?: number): number {
    const a: AttrValue | undefined = node.attr[key];
    if (a && a.i !== undefined && a.i !== null) return int64ToNumber(a.i);
    if (fallback !== undefined) return fallback;
    throw missing(node, key);
  },
  float(node: NodeDef, key: string, fallback?: number): number {
    const a = node.attr[key];
    if (a && typeof a.f === 'number' && Object.prototype.hasOwnProperty.call(a, 'f')) return a.f;
    if (fallback !== undefined) return fallback;
    throw missing(node, key);
  },
  bool(node: NodeDef, key: string, fallback?: boolean): boolean {
    const a = node.attr[key];
    if (a && Object.prototype.hasOwnProperty.call(a, 'b')) return !!a.b;
    if (fallback !== undefined) return fallback;
    throw missing(node, key);
  },
  type(node: NodeDef, key: string, fallback?: DataType): DataType {
    const a = node.attr[key];
    if (a && Object.prototype.hasOwnProperty.call(a, 'type')) return a.type!;
    if (fallback !== undefined) return fallback;
    throw missing(node, key);
  },
  string(node: NodeDef, key: string, fallback?: string): string {
    const a = node.attr[key];
    if (a && a.s) return new TextDecoder().decode(a.s);
    if (fallback !== undefined) return fallback;
    throw missing(node, key);
  },
  ints(node: NodeDef, key: string, fallback?: number[]): number[] {
    const a = node.attr[key];
    if (a?.list) return (a.list.i ?? []).map(int64ToNumber);
    if (fallback !== undefined) return fallback;
    throw missing(node, key);
  },
  shape(node: NodeDef, key: string): number[] | undefined {
    return shapeDims(node.attr[key]?.shape ?? { unknown_rank: true });
  },
};

function missing(node: NodeDef, key: string): FacenetDnnError {
  return new FacenetDnnError('ERR_GRAPH', `Cannot read node "${node.name}" (${node.op}): attribute "${key}" is missing`);
}

/** AttrValue constructors. */
export const attrValue = {
  s: (v: string): AttrValue => ({ s: new TextEncoder().encode(v) }),
  i: (v: number): AttrValue => ({ i: v }),
  f: (v: number): AttrValue => ({ f: v }),
  b: (v: boolean): AttrValue => ({ b: v }),
  type: (v: DataType): AttrValue => ({ type: v }),
  shape: (dims: readonly number[]): AttrValue => ({ shape: makeShape(dims) }),
  ints: (v: readonly number[]): AttrValue => ({ list: { i: [...v] } }),
};
