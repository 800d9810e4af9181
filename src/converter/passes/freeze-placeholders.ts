/**
 * Pass `freeze-placeholders`: turns named Placeholders into scalar constants.
 *
 * FaceNet's frozen graph keeps `phase_train` (a DT_BOOL Placeholder) as the predicate of every
 * batch-norm and dropout `tf.cond`; freezing it to `false` is what lets `switch-merge` pick the
 * inference branches statically.
 */
import { FacenetDnnError } from '../errors.js';
import { GraphIndex } from '../graph/graph.js';
import { DataType, dataTypeName } from '../proto/types.js';
import type { NodeDef } from '../proto/types.js';
import { attr, constNode, type HostTensor } from '../tensor.js';
import type { Pass } from './types.js';

const FREEZABLE = new Set(['Placeholder', 'PlaceholderWithDefault']);

/**
 * Checks that `value` fits `dtype` and returns the host tensor of the scalar constant.
 * Booleans are accepted for DT_BOOL only, and 0/1 too (a CLI may parse `--set x=0`); a boolean for
 * a numeric dtype is refused rather than silently coerced.
 */
function scalarFor(node: NodeDef, dtype: number, value: number | boolean): HostTensor {
  const where = `Cannot freeze "${node.name}" (${dataTypeName(dtype)})`;
  const num = (): number => {
    if (typeof value !== 'number') throw new TypeError(`${where}: expected a number, got ${typeof value} ${String(value)}`);
    return value;
  };
  const int = (min: number, max: number): number => {
    const v = num();
    if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${where}: ${v} is not an integer in [${min}, ${max}]`);
    return v;
  };
  switch (dtype) {
    case DataType.DT_BOOL: {
      if (typeof value === 'boolean') return { dtype, shape: [], data: Uint8Array.of(value ? 1 : 0) };
      if (value === 0 || value === 1) return { dtype, shape: [], data: Uint8Array.of(value) };
      throw new RangeError(`${where}: expected true, false, 0 or 1, got ${String(value)}`);
    }
    case DataType.DT_INT32:
      return { dtype, shape: [], data: Int32Array.of(int(-(2 ** 31), 2 ** 31 - 1)) };
    case DataType.DT_INT64:
      // int64 values are held as doubles (see tensor.ts): only the exactly representable range is allowed.
      return { dtype, shape: [], data: Float64Array.of(int(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)) };
    case DataType.DT_FLOAT: {
      const v = num();
      // A finite double that overflows float32 would silently become Infinity.
      if (Number.isFinite(v) && !Number.isFinite(Math.fround(v))) throw new RangeError(`${where}: ${v} overflows float32`);
      return { dtype, shape: [], data: Float32Array.of(v) };
    }
    case DataType.DT_DOUBLE:
      return { dtype, shape: [], data: Float64Array.of(num()) };
    default:
      throw new FacenetDnnError(
        'ERR_UNSUPPORTED_OP',
        `Cannot freeze "${node.name}": dtype ${dataTypeName(dtype)} is not supported (DT_BOOL, DT_INT32, DT_INT64, DT_FLOAT, DT_DOUBLE are)`,
      );
  }
}

/**
 * Replaces each named `Placeholder` / `PlaceholderWithDefault` with a scalar `Const` of the
 * placeholder's own dtype, keeping its name (consumers keep reading it) and its control inputs
 * (a PlaceholderWithDefault's default input is dropped).
 *
 * @param values node name → value, e.g. `{ phase_train: false }`.
 * @throws {FacenetDnnError} `ERR_UNKNOWN_NODE` for a name not in the graph;
 *   `ERR_UNSUPPORTED_OP` for a node that is not a placeholder, a dtype other than DT_BOOL,
 *   DT_INT32, DT_INT64, DT_FLOAT, DT_DOUBLE, or a declared shape that is not scalar.
 * @throws {TypeError|RangeError} for a value that does not fit the dtype (`1.5` for DT_INT32,
 *   `2` for DT_BOOL, `true` for DT_FLOAT).
 * @example
 * ```ts
 * const g = freezePlaceholders({ phase_train: false }).run(graph, makeContext());
 * ```
 */
export function freezePlaceholders(values: Record<string, number | boolean>): Pass {
  return {
    name: 'freeze-placeholders',
    run(graph) {
      const names = Object.keys(values);
      if (names.length === 0) return graph;
      const index = new GraphIndex(graph);
      const replaced = new Map<string, NodeDef>();
      for (const name of names) {
        const node = index.get(name, 'placeholder to freeze');
        if (!FREEZABLE.has(node.op)) {
          throw new FacenetDnnError('ERR_UNSUPPORTED_OP', `Cannot freeze "${name}": it is a ${node.op}, not a Placeholder`);
        }
        const dtype = attr.type(node, 'dtype');
        // An absent or unknown-rank shape may hold a scalar; a declared non-scalar shape may not.
        const dims = attr.shape(node, 'shape');
        if (dims && dims.length > 0) {
          throw new FacenetDnnError(
            'ERR_UNSUPPORTED_OP',
            `Cannot freeze "${name}": its declared shape [${dims.join(',')}] is not a scalar`,
          );
        }
        const c = constNode(name, scalarFor(node, dtype, values[name]!), node.device);
        c.input = node.input.filter((s) => s.startsWith('^'));
        replaced.set(name, c);
      }
      return { ...graph, node: graph.node.map((n) => replaced.get(n.name) ?? n) };
    },
  };
}
