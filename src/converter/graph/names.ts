/** Parsing and formatting of GraphDef input strings: `node`, `node:1`, `^node` (control). */

export interface InputRef {
  /** The producing node's name. */
  node: string;
  /** The output port (0 for `node` and for control inputs). */
  port: number;
  /** True for a control input (`^node`). */
  control: boolean;
}

/** Parses one entry of `NodeDef.input`. */
export function parseInput(input: string): InputRef {
  if (input.startsWith('^')) return { node: input.slice(1), port: 0, control: true };
  const colon = input.lastIndexOf(':');
  if (colon > 0) {
    const tail = input.slice(colon + 1);
    if (/^\d+$/.test(tail)) return { node: input.slice(0, colon), port: Number(tail), control: false };
  }
  return { node: input, port: 0, control: false };
}

/** Formats a data input: `node` for port 0, `node:N` otherwise. */
export function tensorName(node: string, port = 0): string {
  return port === 0 ? node : `${node}:${port}`;
}

/** Formats an input reference back to its string form. */
export function formatInput(ref: InputRef): string {
  return ref.control ? `^${ref.node}` : tensorName(ref.node, ref.port);
}

/** The node name of an input string (without `^` and `:N`). */
export function inputNode(input: string): string {
  return parseInput(input).node;
}

/** A canonical `node:port` key for a tensor, for maps keyed by tensor. */
export function tensorKey(node: string, port: number): string {
  return `${node}:${port}`;
}

/** Hands out node names not yet used in a graph: `base`, else `base_1`, `base_2`, … */
export class UniqueNames {
  private readonly used: Set<string>;

  constructor(nodes: ReadonlyArray<{ name: string }>) {
    this.used = new Set(nodes.map((n) => n.name));
  }

  /** A name not used so far (and now reserved), derived from `base`. */
  unique(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }
}
