/**
 * The constant-folding kernel registry: op → {@link Kernel}. Kernels are grouped by category
 * (`math.ts`: element-wise, casts and reductions; `array.ts`: shapes and data movement), as
 * tfjs-converter groups its executors. Every op here is deterministic and free of side effects:
 * random, stateful and feed ops (RandomUniform, Variable, Placeholder…) deliberately have none.
 */
import type { NodeDef } from '../proto/types.js';
import type { HostTensor } from '../tensor.js';
import { ARRAY_KERNELS, MOVEMENT_OPS } from './array.js';
import { MATH_KERNELS } from './math.js';
import type { Kernel } from './util.js';

export type { Kernel } from './util.js';
export { MOVEMENT_OPS } from './array.js';
export { stridedSliceSpec, type SliceMasks, type StridedSliceSpec } from './strided-slice.js';

/** Every kernel by op name. */
export const KERNELS: ReadonlyMap<string, Kernel> = new Map([...MATH_KERNELS, ...ARRAY_KERNELS]);

/** Whether constant folding can evaluate `op`. */
export function hasKernel(op: string): boolean {
  return KERNELS.has(op);
}

/**
 * Evaluates `node` on constant inputs (data inputs only, in order), one host tensor per output.
 * Returns `undefined` when there is no kernel for the op.
 *
 * @throws {FacenetDnnError} `ERR_GRAPH` when the inputs are invalid for the op.
 */
export function runKernel(node: NodeDef, inputs: readonly HostTensor[]): HostTensor[] | undefined {
  return KERNELS.get(node.op)?.(inputs, node);
}

/** Whether shape inference may move partially known values through `op` (see {@link MOVEMENT_OPS}). */
export function isMovementOp(op: string): boolean {
  return Object.prototype.hasOwnProperty.call(MOVEMENT_OPS, op);
}
