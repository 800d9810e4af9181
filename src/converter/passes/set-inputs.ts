/**
 * Pass `set-inputs`: makes each named input node a Placeholder.
 *
 * FaceNet has no float image Placeholder: its image enters through a FIFO queue
 * (`QueueDequeueUpToV2` → `image_batch` → `input`, both Identity). OpenCV cannot create queue
 * layers ("Can't create layer batch_join/fifo_queue of type FIFOQueueV2"), so the node the user
 * feeds is turned into a Placeholder and everything above it becomes unused (see `prune`).
 */
import { FacenetDnnError } from '../errors.js';
import { GraphIndex } from '../graph/graph.js';
import { DataType, dataTypeName } from '../proto/types.js';
import type { AttrValue, NodeDef } from '../proto/types.js';
import { makeShape } from '../tensor.js';
import type { InputSpec, Pass } from './types.js';

function checkSpec(spec: InputSpec): void {
  if (typeof spec?.name !== 'string' || spec.name === '') throw new TypeError('Cannot set input: expected a non-empty node name');
  if (spec.shape !== undefined) {
    if (!Array.isArray(spec.shape) || spec.shape.some((d) => !Number.isInteger(d) || d < -1)) {
      throw new RangeError(`Cannot set input "${spec.name}": shape [${String(spec.shape)}] must hold integers >= -1`);
    }
  }
  if (spec.dtype !== undefined && !Number.isInteger(spec.dtype)) {
    throw new TypeError(`Cannot set input "${spec.name}": dtype must be a DataType value`);
  }
}

function shapeAttr(shape: number[] | undefined): AttrValue {
  return shape ? { shape: makeShape(shape) } : { shape: { unknown_rank: true } };
}

/**
 * Makes each named node a `Placeholder` of the same name.
 *
 * - An existing Placeholder keeps everything but its `shape` attr, which is replaced when a shape
 *   is given (and its `dtype`, when a different one is given, with a warning).
 * - Any other node (an Identity fed by a queue, a PlaceholderWithDefault, ...) is replaced: its
 *   inputs are dropped, its consumers keep reading it. Only output 0 can become a Placeholder, so
 *   a node whose other outputs are read is refused.
 *
 * @throws {FacenetDnnError} `ERR_UNKNOWN_NODE` naming a node not in the graph; `ERR_UNSUPPORTED_OP`
 *   when consumers read an output port other than 0 of a node to replace.
 * @throws {TypeError|RangeError} for a malformed spec.
 * @example
 * ```ts
 * const g = setInputs([{ name: 'input', shape: [-1, 160, 160, 3] }]).run(graph, makeContext());
 * ```
 */
export function setInputs(specs: InputSpec[]): Pass {
  specs.forEach(checkSpec);
  return {
    name: 'set-inputs',
    run(graph, ctx) {
      if (specs.length === 0) return graph;
      const index = new GraphIndex(graph);
      const replaced = new Map<string, NodeDef>();
      for (const spec of specs) {
        const node = replaced.get(spec.name) ?? index.get(spec.name, 'input');
        if (node.op === 'Placeholder') {
          const attr = { ...node.attr };
          if (spec.shape) attr['shape'] = shapeAttr(spec.shape);
          const old = attr['dtype']?.type;
          if (spec.dtype !== undefined && spec.dtype !== old) {
            ctx.warn(`Input "${spec.name}": dtype changed from ${dataTypeName(old ?? 0)} to ${dataTypeName(spec.dtype)}`);
            attr['dtype'] = { type: spec.dtype };
          }
          replaced.set(spec.name, { ...node, input: [...node.input], attr });
          continue;
        }
        const high = index.consumers(spec.name).find((c) => !c.ref.control && c.ref.port > 0);
        if (high) {
          throw new FacenetDnnError(
            'ERR_UNSUPPORTED_OP',
            `Cannot make "${spec.name}" (${node.op}) an input: "${high.node.name}" reads its output ${high.ref.port}, and only output 0 can be fed`,
          );
        }
        // TF stores a Placeholder's shape in `shape`; when it is missing the shape is unknown.
        // For a PlaceholderWithDefault the declared `shape` attr is the best default.
        const declared = node.op === 'PlaceholderWithDefault' ? node.attr['shape'] : undefined;
        const dtype = spec.dtype ?? node.attr['dtype']?.type ?? node.attr['T']?.type ?? DataType.DT_FLOAT;
        const p: NodeDef = {
          name: node.name,
          op: 'Placeholder',
          input: [],
          attr: { dtype: { type: dtype }, shape: spec.shape ? shapeAttr(spec.shape) : declared ?? shapeAttr(undefined) },
        };
        if (node.device) p.device = node.device;
        replaced.set(spec.name, p);
      }
      return { ...graph, node: graph.node.map((n) => replaced.get(n.name) ?? n) };
    },
  };
}
