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
