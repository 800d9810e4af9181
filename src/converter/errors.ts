/**
 * Error codes of {@link FacenetDnnError}. Caller mistakes (wrong argument types, values out of
 * range) are thrown as plain `TypeError` / `RangeError` instead.
 */
export type ErrorCode =
  /** The bytes are not a binary TensorFlow GraphDef (empty, truncated, another format). */
  | 'ERR_DECODE'
  /** The graph is malformed: duplicate or dangling names, a cycle, a node missing an attribute. */
  | 'ERR_GRAPH'
  /** A name the caller gave (input, output, placeholder) is not in the graph. */
  | 'ERR_UNKNOWN_NODE'
  /** A Switch predicate could not be resolved to a constant. */
  | 'ERR_NOT_CONSTANT'
  /** An op the converter or OpenCV cannot handle. */
  | 'ERR_UNSUPPORTED_OP'
  /** Inputs or outputs could not be inferred: the caller must name them. */
  | 'ERR_AMBIGUOUS'
  /** OpenCV.js failed to load or to run a network. */
  | 'ERR_OPENCV'
  /**
   * An image could not be used: the bytes are not a JPEG or PNG or fail to decode, the image is
   * empty, its pixel data does not match its size, or its header announces more pixels than allowed.
   */
  | 'ERR_IMAGE';

/**
 * The one error class for domain failures of facenet-dnn: a bad graph, an unsupported op, an
 * OpenCV failure. `code` tells them apart; the message names the file, node, op or value at fault;
 * `cause` holds the underlying error where there is one.
 */
export class FacenetDnnError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FacenetDnnError';
    this.code = code;
  }
}
