/**
 * StridedSlice's index arithmetic, shared by the kernel and by shape inference. It follows TF's
 * `ValidateStridedSliceOp` (tensorflow/core/util/strided_slice_op.cc): the sparse spec (begin, end,
 * strides and the five masks) is expanded into one dense (begin, stride, size) per input dim, with
 * an implicit ellipsis at the end when none is given, then the final shape adds new axes and drops
 * shrunk ones.
 */

/** The five mask attributes of StridedSlice (bit i refers to entry i of begin/end/strides). */
export interface SliceMasks {
  begin: number;
  end: number;
  ellipsis: number;
  newAxis: number;
  shrinkAxis: number;
}

/** How one input dim is read. `size` is -1 when it depends on an unknown dim. */
export interface DenseDim {
  begin: number;
  stride: number;
  size: number;
  shrink: boolean;
}

export interface StridedSliceSpec {
  /** One entry per input dim. */
  dims: DenseDim[];
  /** The output shape: dense sizes in order, 1 for each new axis, shrunk dims removed. */
  shape: number[];
}

const NEW_AXIS = -1;
const SHRINK = -2;

/**
 * Resolves a StridedSlice against an input shape. Unknown input dims are negative: a dim read
 * whole with stride 1 keeps its (negative) value, a shrunk dim is 1, any other slice of it gets
 * size -1 (unknown).
 *
 * @throws {RangeError} for a spec TF rejects (two ellipses, zero stride, shrink index out of bounds,
 *   more indices than dims).
 */
export function stridedSliceSpec(
  inShape: readonly number[],
  begin: readonly number[],
  end: readonly number[],
  strides: readonly number[],
  masks: SliceMasks,
): StridedSliceSpec {
  const n = begin.length;
  if (end.length !== n || strides.length !== n) throw new RangeError('begin, end and strides must have the same length');
  if (masks.ellipsis & (masks.ellipsis - 1)) throw new RangeError('multiple ellipses in slice spec are not allowed');
  const rank = inShape.length;
  // Step 1: count the new axes after the ellipsis; add an implicit ellipsis at the end.
  let ellipsisSeen = false;
  let newAfterEllipsis = 0;
  for (let i = 0; i < n; i++) {
    if (ellipsisSeen && masks.newAxis & (1 << i)) newAfterEllipsis++;
    if (masks.ellipsis & (1 << i)) ellipsisSeen = true;
  }
  let ellipsisMask = masks.ellipsis;
  let sparseDims = n;
  if (!ellipsisSeen) {
    ellipsisMask |= 1 << n;
    sparseDims++;
  }
  // Step 2: build the dense spec.
  const dBegin = new Array<number>(rank).fill(0);
  const dEnd = new Array<number>(rank).fill(0);
  const dStride = new Array<number>(rank).fill(1);
  let dBeginMask = 0;
  let dEndMask = 0;
  let dShrink = 0;
  const gather: number[] = [];
  let full = 0;
  for (let i = 0; i < sparseDims; i++) {
    const bit = 1 << i;
    if (ellipsisMask & bit) {
      const next = Math.min(rank - (sparseDims - i) + 1 + newAfterEllipsis, rank);
      for (; full < next; full++) {
        dBeginMask |= 1 << full;
        dEndMask |= 1 << full;
        gather.push(full);
      }
    } else if (masks.newAxis & bit) {
      gather.push(NEW_AXIS);
    } else {
      if (full >= rank) throw new RangeError(`index ${i} of the slice spec is out of bounds for a rank-${rank} input`);
      dBegin[full] = begin[i]!;
      dEnd[full] = end[i]!;
      dStride[full] = strides[i]!;
      if (masks.begin & bit) dBeginMask |= 1 << full;
      if (masks.end & bit) dEndMask |= 1 << full;
      if (masks.shrinkAxis & bit) {
        dShrink |= 1 << full;
        gather.push(SHRINK);
      } else gather.push(full);
      full++;
    }
  }
  // Step 3: per dense dim, canonical begin/end and size.
  const dims: DenseDim[] = [];
  for (let i = 0; i < rank; i++) {
    const dim = inShape[i]!;
    const stride = dStride[i]!;
    if (stride === 0) throw new RangeError(`stride ${i} is 0`);
    const shrink = (dShrink & (1 << i)) !== 0;
    const bm = (dBeginMask & (1 << i)) !== 0;
    const em = (dEndMask & (1 << i)) !== 0;
    if (shrink) {
      if (stride < 0) throw new RangeError('only stride 1 is allowed on a shrunk axis');
      const b = dBegin[i]!;
      if (dim < 0) {
        // Unknown dim: a non-negative index stays valid as written; a negative one is unresolved.
        dims.push({ begin: b, stride: 1, size: 1, shrink: true });
        continue;
      }
      const fwd = b < 0 ? dim + b : b;
      if (fwd < 0 || fwd >= dim) throw new RangeError(`slice index ${b} of dimension ${i} is out of bounds`);
      dims.push({ begin: fwd, stride: 1, size: 1, shrink: true });
      continue;
    }
    if (dim < 0) {
      const whole = stride === 1 && (bm || dBegin[i] === 0) && em;
      dims.push({ begin: 0, stride, size: whole ? dim : -1, shrink: false });
      continue;
    }
    const canonical = (x: number, c: 0 | 1, masked: boolean): number => {
      if (masked) return stride > 0 ? (c === 0 ? 0 : dim) : c === 0 ? dim - 1 : -1;
      const fwd = x < 0 ? dim + x : x;
      const lo = stride > 0 ? 0 : -1;
      const hi = stride > 0 ? dim : dim - 1;
      return fwd < lo ? lo : fwd > hi ? hi : fwd;
    };
    const b = canonical(dBegin[i]!, 0, bm);
    const e = canonical(dEnd[i]!, 1, em);
    const len = e - b;
    let size: number;
    if (len === 0 || len < 0 !== stride < 0) size = 0;
    else size = Math.trunc(len / stride) + (len % stride !== 0 ? 1 : 0);
    dims.push({ begin: b, stride, size, shrink: false });
  }
  const shape: number[] = [];
  for (const g of gather) {
    if (g === NEW_AXIS) shape.push(1);
    else if (g >= 0) shape.push(dims[g]!.size);
  }
  return { dims, shape };
}
