/**
 * TypeScript shapes of the decoded TensorFlow messages (see proto/tensorflow.proto). Field names are
 * TensorFlow's own (snake_case). int64 fields are plain numbers after {@link decodeGraph} (values past
 * 2^53 stay as protobufjs `Long`-like objects, see {@link Int64}).
 */

/** tensorflow.DataType enum values used by the converter. */
export const DataType = {
  DT_INVALID: 0,
  DT_FLOAT: 1,
  DT_DOUBLE: 2,
  DT_INT32: 3,
  DT_UINT8: 4,
  DT_INT16: 5,
  DT_INT8: 6,
  DT_STRING: 7,
  DT_COMPLEX64: 8,
  DT_INT64: 9,
  DT_BOOL: 10,
  DT_QINT8: 11,
  DT_QUINT8: 12,
  DT_QINT32: 13,
  DT_BFLOAT16: 14,
  DT_QINT16: 15,
  DT_QUINT16: 16,
  DT_UINT16: 17,
  DT_COMPLEX128: 18,
  DT_HALF: 19,
  DT_RESOURCE: 20,
  DT_VARIANT: 21,
  DT_UINT32: 22,
  DT_UINT64: 23,
} as const;
export type DataType = number;

/** A 64-bit integer as protobufjs may hand it out when it does not fit a double exactly. */
export interface LongLike {
  low: number;
  high: number;
  unsigned: boolean;
  toNumber(): number;
  toString(): string;
}
export type Int64 = number | LongLike;

export interface TensorShapeDim {
  size: Int64;
  name?: string;
}

export interface TensorShapeProto {
  dim?: TensorShapeDim[];
  unknown_rank?: boolean;
}

export interface TensorProto {
  dtype: DataType;
  tensor_shape?: TensorShapeProto;
  version_number?: number;
  tensor_content?: Uint8Array;
  half_val?: number[];
  float_val?: number[];
  double_val?: number[];
  int_val?: number[];
  string_val?: Uint8Array[];
  scomplex_val?: number[];
  int64_val?: Int64[];
  bool_val?: boolean[];
  dcomplex_val?: number[];
  resource_handle_val?: Uint8Array[];
  variant_val?: Uint8Array[];
  uint32_val?: number[];
  uint64_val?: Int64[];
}

export interface ListValue {
  s?: Uint8Array[];
  i?: Int64[];
  f?: number[];
  b?: boolean[];
  type?: DataType[];
  shape?: TensorShapeProto[];
  tensor?: TensorProto[];
  func?: NameAttrList[];
}

export interface NameAttrList {
  name?: string;
  attr?: Record<string, AttrValue>;
}

/** Exactly one field is set (a protobuf oneof). */
export interface AttrValue {
  s?: Uint8Array;
  i?: Int64;
  f?: number;
  b?: boolean;
  type?: DataType;
  shape?: TensorShapeProto;
  tensor?: TensorProto;
  list?: ListValue;
  func?: NameAttrList;
  placeholder?: string;
}

export interface NodeDef {
  name: string;
  op: string;
  input: string[];
  device?: string;
  attr: Record<string, AttrValue>;
  experimental_debug_info?: { original_node_names?: string[]; original_func_names?: string[] };
  /** FullTypeDef, opaque. */
  experimental_type?: Uint8Array;
}

export interface VersionDef {
  producer?: number;
  min_consumer?: number;
  bad_consumers?: number[];
}

export interface FunctionDefLibrary {
  function?: Uint8Array[];
  gradient?: Uint8Array[];
  registered_gradients?: Uint8Array[];
}

export interface GraphDef {
  node: NodeDef[];
  versions?: VersionDef;
  version?: number;
  /** The function library; each function is kept as its opaque serialized FunctionDef. */
  library?: FunctionDefLibrary;
  /** GraphDebugInfo, opaque. */
  debug_info?: Uint8Array;
}

/** The names of DataType values, for messages and text output. */
export const DATA_TYPE_NAMES: Readonly<Record<number, string>> = Object.freeze(
  Object.fromEntries([
    ...Object.entries(DataType).map(([k, v]) => [v, k]),
    ...Object.entries(DataType).map(([k, v]) => [v + 100, `${k}_REF`]),
  ]),
);

/** `DT_FLOAT` for 1, or `DT_<n>` for an unknown value. */
export function dataTypeName(t: DataType): string {
  return DATA_TYPE_NAMES[t] ?? `DT_${t}`;
}
