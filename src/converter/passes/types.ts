/** The contract every graph pass follows. */
import type { GraphDef } from '../proto/types.js';

/** What a pass may know about the conversion besides the graph. */
export interface PassContext {
  /** The nodes the caller feeds (Placeholders after the input pass). Never removed or renamed. */
  readonly inputs: readonly string[];
  /** The nodes the caller fetches. Never removed or renamed. */
  readonly outputs: readonly string[];
  /** Reports a pattern the pass skipped, or anything else worth a user's attention. Never fatal. */
  warn(message: string): void;
}

/**
 * A graph rewrite: graph in, graph out. A pass never mutates its input graph or its nodes (it
 * copies a node before changing it, see `cloneNode`) and never does I/O.
 */
export interface Pass {
  /** Kebab-case name used in progress reports and validation errors, e.g. `fold-constants`. */
  readonly name: string;
  run(graph: GraphDef, ctx: PassContext): GraphDef;
}

/** A PassContext for tests and simple callers: warnings are collected into `warnings`. */
export function makeContext(
  inputs: readonly string[] = [],
  outputs: readonly string[] = [],
): PassContext & { warnings: string[] } {
  const warnings: string[] = [];
  return { inputs, outputs, warnings, warn: (m) => void warnings.push(m) };
}

/** A graph input: a node to feed, with the dtype and shape of the Placeholder it becomes. */
export interface InputSpec {
  /** Node name, e.g. `input`. */
  name: string;
  /** NHWC dims with -1 for a dynamic size, e.g. `[-1, 160, 160, 3]`. Default: keep / unknown rank. */
  shape?: number[];
  /** TensorFlow DataType number. Default: the node's own dtype, else DT_FLOAT. */
  dtype?: number;
}
