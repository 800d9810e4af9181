/**
 * The GraphDef schema as the text writer and reader need it: each message's fields in field-number
 * order with their kind, read from the same prebuilt descriptor the binary codec uses, so the text
 * format and the wire format can never disagree on a field name.
 */
import { descriptor } from '../proto/descriptor.js';

/** Scalar kinds of protobuf fields used by the GraphDef schema. */
export type ScalarKind = 'string' | 'bytes' | 'int32' | 'int64' | 'uint32' | 'uint64' | 'float' | 'double' | 'bool';

export interface FieldInfo {
  name: string;
  id: number;
  kind: ScalarKind | 'enum' | 'message';
  /** Full name (dotted, under `tensorflow`) of the message or enum type. */
  typeName?: string;
  repeated: boolean;
  /** A `map<string, V>`: written as repeated `{ key: ... value { ... } }` entries. */
  map: boolean;
  /** Member of a oneof: has presence, so default values are still written. */
  oneof: boolean;
  /**
   * A message TensorFlow defines that our schema keeps as opaque bytes (FunctionDef, FullTypeDef,
   * GraphDebugInfo): it cannot be written as TensorFlow text format.
   */
  opaque: boolean;
}

export interface MessageInfo {
  name: string;
  /** Fields in field-number order (the order protobuf's text printer uses). */
  fields: FieldInfo[];
  byName: Map<string, FieldInfo>;
}

interface DescField { type: string; id: number; rule?: string; keyType?: string }
interface DescType { fields?: Record<string, DescField>; oneofs?: Record<string, { oneof: string[] }>; nested?: Record<string, DescType>; values?: Record<string, number> }

const ROOT = (descriptor as unknown as { nested: { tensorflow: { nested: Record<string, DescType> } } }).nested.tensorflow;

const SCALARS = new Set<string>(['string', 'bytes', 'int32', 'int64', 'uint32', 'uint64', 'float', 'double', 'bool']);

/** Fields that hold a serialized TensorFlow message our schema does not model. */
const OPAQUE = new Set(['NodeDef.experimental_type', 'GraphDef.debug_info', 'FunctionDefLibrary.function', 'FunctionDefLibrary.gradient', 'FunctionDefLibrary.registered_gradients']);

function lookup(path: string): DescType | undefined {
  let t: DescType | undefined = ROOT as DescType;
  for (const part of path.split('.')) t = t?.nested?.[part];
  return t;
}

/** Resolves a type name the way protoc does: innermost enclosing scope first. */
function resolve(scope: string, name: string): string {
  const parts = scope.split('.');
  for (let i = parts.length; i >= 0; i--) {
    const candidate = [...parts.slice(0, i), name].join('.');
    if (lookup(candidate)) return candidate;
  }
  throw new Error(`pbtxt schema: unknown type ${name} in ${scope}`);
}

const cache = new Map<string, MessageInfo>();

/** The schema of a message by its full name under `tensorflow` (e.g. `"NodeDef"`, `"AttrValue.ListValue"`). */
export function messageInfo(name: string): MessageInfo {
  const hit = cache.get(name);
  if (hit) return hit;
  const t = lookup(name);
  if (!t?.fields) throw new Error(`pbtxt schema: no message ${name}`);
  const oneofMembers = new Set(Object.values(t.oneofs ?? {}).flatMap((o) => o.oneof));
  const fields: FieldInfo[] = Object.entries(t.fields).map(([fname, f]) => {
    const info: FieldInfo = {
      name: fname,
      id: f.id,
      kind: 'message',
      repeated: f.rule === 'repeated' || f.keyType !== undefined,
      map: f.keyType !== undefined,
      oneof: oneofMembers.has(fname),
      opaque: OPAQUE.has(`${name}.${fname}`),
    };
    if (SCALARS.has(f.type)) info.kind = f.type as ScalarKind;
    else {
      const full = resolve(name, f.type);
      info.typeName = full;
      info.kind = lookup(full)!.values ? 'enum' : 'message';
    }
    return info;
  });
  fields.sort((a, b) => a.id - b.id);
  const info: MessageInfo = { name, fields, byName: new Map(fields.map((f) => [f.name, f])) };
  cache.set(name, info);
  return info;
}

/** Name → number of an enum (e.g. `"DataType"`). */
export function enumValues(name: string): Readonly<Record<string, number>> {
  const values = lookup(name)?.values;
  if (!values) throw new Error(`pbtxt schema: no enum ${name}`);
  return values;
}

const enumNameCache = new Map<string, Map<number, string>>();

/** Number → name of an enum; the first name declared wins for aliases. */
export function enumNames(name: string): Map<number, string> {
  let m = enumNameCache.get(name);
  if (!m) {
    m = new Map();
    for (const [k, v] of Object.entries(enumValues(name))) if (!m.has(v)) m.set(v, k);
    enumNameCache.set(name, m);
  }
  return m;
}
