/**
 * TensorFlow text format (`.pbtxt`) reader for GraphDefs: everything {@link graphToText} writes, and
 * the forms other protobuf text printers and hand-written configs use (OpenCV's own .pbtxt files):
 * `#` comments, `field: value` and `field { ... }` / `field < ... >` / `field: { ... }`, list
 * syntax `int_val: [1, 2]`, optional `,` / `;` separators, adjacent string literals concatenated,
 * single- or double-quoted strings with C escapes (octal, `\x` hex, `\u`), hex and octal integers,
 * `inf` / `nan` / a trailing `f` on floats, enum values by name or number.
 */
import { FacenetDnnError } from '../errors.js';
import type { GraphDef } from '../proto/types.js';
import { enumValues, messageInfo } from './schema.js';
import type { FieldInfo, MessageInfo } from './schema.js';

type TokKind = 'ident' | 'number' | 'string' | 'punct' | 'eof';

interface Token {
  kind: TokKind;
  /** The source text of the token (for strings: the raw literal, quotes included). */
  text: string;
  line: number;
  col: number;
  /** Decoded bytes of a string literal. */
  bytes?: Uint8Array;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

const isIdentStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isIdentPart = (c: number) => isIdentStart(c) || (c >= 48 && c <= 57);
const isDigit = (c: number) => c >= 48 && c <= 57;

class Lexer {
  private pos = 0;
  private line = 1;
  private lineStart = 0;
  private peeked: Token | undefined;

  constructor(private readonly text: string, private readonly source: string) {}

  error(why: string, at?: { line: number; col: number }): FacenetDnnError {
    const line = at?.line ?? this.line;
    const col = at?.col ?? this.pos - this.lineStart + 1;
    return new FacenetDnnError('ERR_DECODE', `Cannot parse ${this.source} at ${line}:${col}: ${why}`);
  }

  peek(): Token {
    if (!this.peeked) this.peeked = this.lex();
    return this.peeked;
  }

  next(): Token {
    const t = this.peek();
    this.peeked = undefined;
    return t;
  }

  private skipSpace(): void {
    const s = this.text;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c === 10) {
        this.pos++;
        this.line++;
        this.lineStart = this.pos;
      } else if (c === 32 || c === 9 || c === 13 || c === 11 || c === 12) {
        this.pos++;
      } else if (c === 35) {
        // '#' comment to the end of the line
        while (this.pos < s.length && s.charCodeAt(this.pos) !== 10) this.pos++;
      } else break;
    }
  }

  private lex(): Token {
    this.skipSpace();
    const s = this.text;
    const start = this.pos;
    const at = { line: this.line, col: start - this.lineStart + 1 };
    if (start >= s.length) return { kind: 'eof', text: 'end of input', ...at };
    const c = s.charCodeAt(start);
    if (c === 34 || c === 39) return { kind: 'string', ...at, ...this.lexString(c, at) };
    if (isIdentStart(c)) {
      let p = start + 1;
      while (p < s.length && isIdentPart(s.charCodeAt(p))) p++;
      this.pos = p;
      return { kind: 'ident', text: s.slice(start, p), ...at };
    }
    if (isDigit(c) || c === 45 || c === 46 || c === 43) {
      let p = start + (c === 45 || c === 43 ? 1 : 0);
      // `-inf`, `-nan`: a sign followed by an identifier.
      if (c === 45 && p < s.length && isIdentStart(s.charCodeAt(p))) {
        while (p < s.length && isIdentPart(s.charCodeAt(p))) p++;
        this.pos = p;
        return { kind: 'ident', text: s.slice(start, p), ...at };
      }
      // Digits, '.', exponent, hex letters, a trailing 'f': validated when the value is converted.
      while (p < s.length) {
        const d = s.charCodeAt(p);
        if (isIdentPart(d) || d === 46) p++;
        else if ((d === 45 || d === 43) && /[eE]/.test(s[p - 1]!) && !/^[-+]?0[xX]/.test(s.slice(start, p))) p++;
        else break;
      }
      if (p === start + 1 && !isDigit(c)) throw this.error(`unexpected "${s[start]}"`, at);
      this.pos = p;
      return { kind: 'number', text: s.slice(start, p), ...at };
    }
    if ('{}<>:[],;'.includes(s[start]!)) {
      this.pos++;
      return { kind: 'punct', text: s[start]!, ...at };
    }
    throw this.error(`unexpected character ${JSON.stringify(s[start])}`, at);
  }

  private lexString(quote: number, at: { line: number; col: number }): { text: string; bytes: Uint8Array } {
    const s = this.text;
    const start = this.pos;
    let p = start + 1;
    // Upper bound of the byte length: each char is at most 3 UTF-8 bytes (surrogate pairs: 4 for 2).
    let out = new Uint8Array(64);
    let n = 0;
    const push = (b: number) => {
      if (n === out.length) {
        const bigger = new Uint8Array(out.length * 2);
        bigger.set(out);
        out = bigger;
      }
      out[n++] = b;
    };
    for (;;) {
      if (p >= s.length || s.charCodeAt(p) === 10) throw this.error('string literal is not terminated', at);
      const c = s.charCodeAt(p);
      if (c === quote) {
        p++;
        break;
      }
      if (c !== 92) {
        if (c < 128) {
          push(c);
          p++;
        } else {
          const cp = s.codePointAt(p)!;
          const ch = String.fromCodePoint(cp);
          for (const b of utf8Encoder.encode(ch)) push(b);
          p += ch.length;
        }
        continue;
      }
      // Backslash escape.
      const e = s[p + 1];
      if (e === undefined) throw this.error('string literal is not terminated', at);
      const simple: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, '\\': 92, "'": 39, '"': 34, '?': 63 };
      if (simple[e] !== undefined) {
        push(simple[e]!);
        p += 2;
      } else if (e >= '0' && e <= '7') {
        let q = p + 1;
        let v = 0;
        while (q < p + 4 && q < s.length && s[q]! >= '0' && s[q]! <= '7') v = v * 8 + (s.charCodeAt(q++) - 48);
        if (v > 255) throw this.error(`octal escape \\${s.slice(p + 1, q)} is out of range`, { line: at.line, col: at.col + (p - start) });
        push(v);
        p = q;
      } else if (e === 'x' || e === 'X') {
        let q = p + 2;
        while (q < p + 4 && q < s.length && /[0-9a-fA-F]/.test(s[q]!)) q++;
        if (q === p + 2) throw this.error('\\x escape has no hex digits', { line: at.line, col: at.col + (p - start) });
        push(parseInt(s.slice(p + 2, q), 16));
        p = q;
      } else if (e === 'u' || e === 'U') {
        const len = e === 'u' ? 4 : 8;
        const hex = s.slice(p + 2, p + 2 + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) throw this.error(`\\${e} escape needs ${len} hex digits`, { line: at.line, col: at.col + (p - start) });
        const cp = parseInt(hex, 16);
        if (cp > 0x10ffff) throw this.error(`\\${e}${hex} is not a Unicode code point`, { line: at.line, col: at.col + (p - start) });
        for (const b of utf8Encoder.encode(String.fromCodePoint(cp))) push(b);
        p += 2 + len;
      } else {
        throw this.error(`invalid escape "\\${e}"`, { line: at.line, col: at.col + (p - start) });
      }
    }
    this.pos = p;
    return { text: s.slice(start, p), bytes: out.slice(0, n) };
  }
}

const INT_RANGES: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

function parseIntText(text: string): bigint | undefined {
  const m = /^([-+]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (!m) return undefined;
  const body = m[2]!;
  const v = /^0[xX]/.test(body) ? BigInt(body) : body.length > 1 && body[0] === '0' ? BigInt(`0o${body.slice(1)}`) : BigInt(body);
  return m[1] === '-' ? -v : v;
}

/** An int64 beyond 2^53 in the `{low, high}` shape protobufjs encodes. */
function longFrom(v: bigint, unsigned: boolean) {
  return {
    low: Number(BigInt.asIntN(32, v)),
    high: Number(BigInt.asIntN(32, v >> 32n)),
    unsigned,
    toNumber: () => Number(v),
    toString: () => v.toString(),
  };
}

class Parser {
  readonly lex: Lexer;

  constructor(text: string, source: string) {
    this.lex = new Lexer(text, source);
  }

  private describe(t: Token): string {
    return t.kind === 'eof' ? 'end of input' : `"${t.text.length > 40 ? `${t.text.slice(0, 40)}...` : t.text}"`;
  }

  private expect(text: string): Token {
    const t = this.lex.next();
    if (t.kind !== 'punct' || t.text !== text) throw this.lex.error(`expected "${text}", got ${this.describe(t)}`, t);
    return t;
  }

  private tryPunct(text: string): boolean {
    const t = this.lex.peek();
    if (t.kind === 'punct' && t.text === text) {
      this.lex.next();
      return true;
    }
    return false;
  }

  /** Fields of a message until `close` (`}` / `>`), or the end of input for the top level. */
  parseMessage(info: MessageInfo, close: string | undefined): Record<string, unknown> {
    const msg: Record<string, unknown> = {};
    let oneofSet: string | undefined;
    for (;;) {
      const t = this.lex.peek();
      if (close === undefined ? t.kind === 'eof' : t.kind === 'punct' && t.text === close) {
        this.lex.next();
        return msg;
      }
      if (t.kind === 'eof') throw this.lex.error(`expected "${close}" before the end of input`, t);
      const nameTok = this.lex.next();
      if (nameTok.kind !== 'ident') throw this.lex.error(`expected a field name in ${info.name}, got ${this.describe(nameTok)}`, nameTok);
      const f = info.byName.get(nameTok.text);
      if (!f) throw this.lex.error(`unknown field "${nameTok.text}" in tensorflow.${info.name}`, nameTok);
      if (!f.repeated) {
        if (Object.prototype.hasOwnProperty.call(msg, f.name)) {
          throw this.lex.error(`non-repeated field "${f.name}" is given more than once`, nameTok);
        }
        if (f.oneof) {
          if (oneofSet !== undefined) throw this.lex.error(`field "${f.name}" and field "${oneofSet}" are members of the same oneof`, nameTok);
          oneofSet = f.name;
        }
      }
      this.parseField(msg, f);
      if (!this.tryPunct(',')) this.tryPunct(';');
    }
  }

  private parseField(msg: Record<string, unknown>, f: FieldInfo): void {
    const isMsg = f.kind === 'message';
    const colon = this.tryPunct(':');
    if (!isMsg && !colon) {
      const t = this.lex.peek();
      throw this.lex.error(`expected ":" after field "${f.name}", got ${this.describe(t)}`, t);
    }
    if (f.repeated && this.tryPunct('[')) {
      if (this.tryPunct(']')) return;
      do this.parseOne(msg, f);
      while (this.tryPunct(','));
      this.expect(']');
      return;
    }
    this.parseOne(msg, f);
  }

  private parseOne(msg: Record<string, unknown>, f: FieldInfo): void {
    if (f.map) {
      const [key, value] = this.parseMapEntry(f);
      const map = (msg[f.name] ??= {}) as Record<string, unknown>;
      map[key] = value;
      return;
    }
    const value = f.kind === 'message' ? this.parseSubmessage(messageInfo(f.typeName!)) : this.parseScalar(f);
    if (f.repeated) ((msg[f.name] ??= []) as unknown[]).push(value);
    else msg[f.name] = value;
  }

  private open(): string {
    const t = this.lex.next();
    if (t.kind === 'punct' && (t.text === '{' || t.text === '<')) return t.text === '{' ? '}' : '>';
    throw this.lex.error(`expected "{", got ${this.describe(t)}`, t);
  }

  private parseSubmessage(info: MessageInfo): Record<string, unknown> {
    return this.parseMessage(info, this.open());
  }

  private parseMapEntry(f: FieldInfo): [string, unknown] {
    const close = this.open();
    const valueInfo = messageInfo(f.typeName!);
    let key: string | undefined;
    let value: unknown;
    for (;;) {
      const t = this.lex.next();
      if (t.kind === 'punct' && t.text === close) break;
      if (t.kind === 'ident' && t.text === 'key' && key === undefined) {
        this.expect(':');
        key = utf8Decoder.decode(this.parseStringBytes());
      } else if (t.kind === 'ident' && t.text === 'value' && value === undefined) {
        this.tryPunct(':');
        value = this.parseSubmessage(valueInfo);
      } else {
        throw this.lex.error(`expected "key" or "value" in the "${f.name}" map entry, got ${this.describe(t)}`, t);
      }
      if (!this.tryPunct(',')) this.tryPunct(';');
    }
    return [key ?? '', value ?? {}];
  }

  private parseStringBytes(): Uint8Array {
    const first = this.lex.next();
    if (first.kind !== 'string') throw this.lex.error(`expected a string, got ${this.describe(first)}`, first);
    const parts = [first.bytes!];
    while (this.lex.peek().kind === 'string') parts.push(this.lex.next().bytes!);
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  private parseScalar(f: FieldInfo): unknown {
    switch (f.kind) {
      case 'string': return utf8Decoder.decode(this.parseStringBytes());
      case 'bytes': return this.parseStringBytes();
      case 'bool': {
        const t = this.lex.next();
        if (t.kind === 'ident' && /^(true|True|t)$/.test(t.text)) return true;
        if (t.kind === 'ident' && /^(false|False|f)$/.test(t.text)) return false;
        if (t.kind === 'number' && (t.text === '0' || t.text === '1')) return t.text === '1';
        throw this.lex.error(`expected true or false for "${f.name}", got ${this.describe(t)}`, t);
      }
      case 'float':
      case 'double': {
        const t = this.lex.next();
        let v: number | undefined;
        if (t.kind === 'ident') {
          const m = /^(-?)(inf|infinity|nan)$/i.exec(t.text);
          if (m) v = m[2]!.toLowerCase() === 'nan' ? NaN : m[1] ? -Infinity : Infinity;
        } else if (t.kind === 'number') {
          const body = t.text.replace(/[fF]$/, '');
          if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(body)) v = Number(body);
          else {
            const i = parseIntText(t.text);
            if (i !== undefined) v = Number(i);
          }
        }
        if (v === undefined) throw this.lex.error(`expected a number for "${f.name}", got ${this.describe(t)}`, t);
        return f.kind === 'float' ? Math.fround(v) : v;
      }
      case 'enum': {
        const t = this.lex.next();
        if (t.kind === 'ident') {
          const v = enumValues(f.typeName!)[t.text];
          if (v === undefined) throw this.lex.error(`unknown ${f.typeName} value "${t.text}" for "${f.name}"`, t);
          return v;
        }
        const i = t.kind === 'number' ? parseIntText(t.text) : undefined;
        if (i === undefined || i < INT_RANGES['int32']![0] || i > INT_RANGES['int32']![1]) {
          throw this.lex.error(`expected a ${f.typeName} name for "${f.name}", got ${this.describe(t)}`, t);
        }
        return Number(i);
      }
      case 'message':
        throw new Error('unreachable');
      default: {
        const t = this.lex.next();
        const i = t.kind === 'number' ? parseIntText(t.text) : undefined;
        if (i === undefined) throw this.lex.error(`expected an integer for "${f.name}", got ${this.describe(t)}`, t);
        const [lo, hi] = INT_RANGES[f.kind]!;
        if (i < lo || i > hi) throw this.lex.error(`${t.text} is out of range for ${f.kind} field "${f.name}"`, t);
        if (i >= -(2n ** 53n) + 1n && i <= 2n ** 53n - 1n) return Number(i);
        return longFrom(i, f.kind === 'uint64');
      }
    }
  }
}

/**
 * Parses a GraphDef from TensorFlow text format (a `.pbtxt`): the inverse of {@link graphToText},
 * and the reader for hand-written configs such as OpenCV's `opencv_face_detector.pbtxt`. The result
 * has the shape {@link decodeGraph} gives (snake_case fields, int64 as numbers, bytes as
 * Uint8Array), so `encodeGraph(textToGraph(graphToText(g)))` equals `encodeGraph(g)`.
 *
 * @param source a file name or URL to name in error messages. Default: `"graph.pbtxt"`.
 * @throws {FacenetDnnError} `ERR_DECODE` naming `source` and the line:column of the fault (unknown
 *   field, bad value, unterminated string, a node with no name or op).
 * @example
 * ```ts
 * const graph = textToGraph(await (await fetch(url)).text(), url);
 * ```
 */
export function textToGraph(text: string, source = 'graph.pbtxt'): GraphDef {
  if (typeof text !== 'string') throw new TypeError('Cannot parse graph text: expected a string');
  const parser = new Parser(text, source);
  const graph = parser.parseMessage(messageInfo('GraphDef'), undefined) as unknown as GraphDef;
  graph.node ??= [];
  graph.node.forEach((n, i) => {
    if (!n.name || !n.op) {
      throw new FacenetDnnError(
        'ERR_DECODE',
        `Cannot parse ${source}: node #${i} has ${n.name ? `no op (name "${n.name}")` : 'no name'}`,
      );
    }
    n.input ??= [];
    n.attr ??= {};
  });
  return graph;
}
