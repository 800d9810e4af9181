/**
 * A gallery of labelled face embeddings for 1:N identification: exact k-nearest-neighbour search
 * under one of facenet's distances, kept in one contiguous float32 block, saved to and loaded from a
 * small versioned binary format. Web-standard APIs only.
 */
import { FacenetDnnError } from '../../converter/errors.js';
import { checkMetric, type Metric } from './distance.js';

/** Options of {@link createGallery}. */
export interface GalleryOptions {
  /** Length of every embedding. Default: 512 (facenet's 20180402-114759 and 20180408-102900 models). */
  dim?: number;
  /**
   * Distance that {@link Gallery.search} ranks by and returns (see {@link Metric}).
   * Default: `'euclidean'` (squared, facenet's metric 0).
   */
  metric?: Metric;
  /** Rows to reserve up front; the storage doubles whenever it is full. Default: 64. */
  capacity?: number;
}

/** Options of {@link Gallery.add}. */
export interface AddOptions {
  /**
   * What to do when `id` is already in the gallery: `false` throws a `RangeError` (a repeated id is
   * usually a bug: two people or two enrolments under one name), `true` overwrites its embedding.
   * Default: false.
   */
  replace?: boolean;
}

/** One hit of {@link Gallery.search}. */
export interface Match {
  /** The id the embedding was added under. */
  id: string;
  /** Its distance to the query under the gallery's metric. */
  distance: number;
}

/** Magic bytes of a saved gallery: ASCII "FNDG" (FaceNet-DNN Gallery). */
const MAGIC = [0x46, 0x4e, 0x44, 0x47] as const;
/** Format version that {@link Gallery.toBytes} writes and {@link Gallery.fromBytes} reads. */
export const GALLERY_FORMAT_VERSION = 1;
const HEADER_BYTES = 20;
/** Metric codes in the saved format: facenet's numbers where it has them (0, 1), then cosine. */
const METRIC_CODES: readonly Metric[] = ['euclidean', 'angular', 'cosine'];

// Rows are copied as raw bytes on little-endian hosts (all mainstream ones); a DataView fallback
// keeps the saved format little-endian elsewhere.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function checkDim(dim: unknown, what: string): asserts dim is number {
  if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 1 || dim > 1 << 20) {
    throw new RangeError(`Cannot ${what}: dim must be an integer in [1, 1048576], got ${String(dim)}`);
  }
}

function decodeError(why: string): FacenetDnnError {
  return new FacenetDnnError('ERR_DECODE', `Cannot load gallery: ${why}`);
}

/**
 * An in-memory gallery of face embeddings under string ids, for 1:N search. Make one with
 * {@link createGallery} or {@link Gallery.fromBytes}.
 *
 * Layout: the embeddings are rows of one growable `Float32Array` (the same precision as OpenCV's
 * output), ids live in a parallel array plus a `Map` from id to row; removing swaps the last row
 * into the hole, so rows are in no particular order. Squared norms of the rows are kept in float64
 * next to them, so that every metric is computed from a single dot product per row, exactly for
 * vectors of any length: `d² = |q|² + |r|² − 2·q·r`, `cos = q·r / (|q|·|r|)`. Embeddings need not
 * be unit vectors (e.g. after subtracting a mean embedding); for facenet's L2-normalized outputs the
 * formulas reduce to `d² = 2 − 2·q·r`.
 *
 * Search is exact (brute force over all rows, O(N·dim)) with a k-element heap (O(N log k)); results
 * come sorted by ascending distance, ties broken by ascending id (UTF-16 code unit order, as
 * `<` on strings), so the order does not depend on insertion or removal history.
 */
export class Gallery {
  /** Length of every embedding. */
  readonly dim: number;
  /** The metric that {@link search} ranks by and returns. */
  readonly metric: Metric;
  #data: Float32Array;
  #sqNorms: Float64Array;
  #ids: string[] = [];
  #rows = new Map<string, number>();

  /** Same as {@link createGallery}, which is the documented way to make one. */
  constructor(options: GalleryOptions = {}) {
    const dim = options.dim ?? 512;
    checkDim(dim, 'create gallery');
    const metric = options.metric ?? 'euclidean';
    checkMetric(metric, 'create gallery');
    const capacity = options.capacity ?? 64;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`Cannot create gallery: capacity must be a positive integer, got ${String(capacity)}`);
    }
    this.dim = dim;
    this.metric = metric;
    this.#data = new Float32Array(capacity * dim);
    this.#sqNorms = new Float64Array(capacity);
  }

  /** Number of embeddings in the gallery. */
  get size(): number {
    return this.#ids.length;
  }

  /** Whether `id` is in the gallery. */
  has(id: string): boolean {
    return this.#rows.has(id);
  }

  /** The ids in storage order (a copy; the order changes on removal). */
  ids(): string[] {
    return this.#ids.slice();
  }

  /** A copy of the stored (float32) embedding of `id`, or undefined when it is not in the gallery. */
  get(id: string): Float32Array | undefined {
    const row = this.#rows.get(id);
    if (row === undefined) return undefined;
    return this.#data.slice(row * this.dim, (row + 1) * this.dim);
  }

  /**
   * Adds `embedding` under `id`. The values are stored as float32.
   *
   * @throws {TypeError} `id` is not a string.
   * @throws {RangeError} `id` is already there (unless `options.replace`), the length is not
   *   {@link dim}, a value is NaN, infinite or beyond float32 range, or the vector is all zeros
   *   under the cosine or angular metric (no direction to compare).
   */
  add(id: string, embedding: ArrayLike<number>, options: AddOptions = {}): void {
    if (typeof id !== 'string') throw new TypeError(`Cannot add to gallery: id must be a string, got ${typeof id}`);
    const existing = this.#rows.get(id);
    if (existing !== undefined && !options.replace) {
      throw new RangeError(`Cannot add to gallery: id '${id}' is already there (pass { replace: true } to overwrite it)`);
    }
    const sq = this.#check(`add '${id}' to gallery`, embedding);
    let row = existing;
    if (row === undefined) {
      row = this.#ids.length;
      this.#reserve(row + 1);
      this.#ids.push(id);
      this.#rows.set(id, row);
    }
    this.#data.set(embedding, row * this.dim);
    this.#sqNorms[row] = sq;
  }

  /** Removes `id`; returns whether it was there. The last row moves into its place. */
  remove(id: string): boolean {
    const row = this.#rows.get(id);
    if (row === undefined) return false;
    const last = this.#ids.length - 1;
    if (row !== last) {
      const dim = this.dim;
      this.#data.copyWithin(row * dim, last * dim, (last + 1) * dim);
      this.#sqNorms[row] = this.#sqNorms[last]!;
      const moved = this.#ids[last]!;
      this.#ids[row] = moved;
      this.#rows.set(moved, row);
    }
    this.#ids.pop();
    this.#rows.delete(id);
    return true;
  }

  /**
   * The `k` embeddings nearest to `query` under the gallery's metric, by ascending distance, ties by
   * ascending id; fewer when the gallery holds fewer. Exact: every row is compared. The query is
   * used at full (float64) precision against the float32 rows.
   *
   * @example
   * ```ts
   * const [best] = gallery.search(embedding, 1);
   * if (best && verify(embedding, gallery.get(best.id)!).same) console.log('hello', best.id);
   * ```
   * @throws {RangeError} `k` is not a non-negative integer, the query's length is not {@link dim},
   *   a value is not finite, or the query is all zeros under the cosine or angular metric.
   */
  search(query: ArrayLike<number>, k = 5): Match[] {
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`Cannot search gallery: k must be a non-negative integer, got ${String(k)}`);
    const qq = this.#check('search gallery', query, false);
    const n = this.#ids.length;
    const kk = Math.min(k, n);
    if (kk === 0) return [];
    const dim = this.dim;
    const data = this.#data;
    const sqNorms = this.#sqNorms;
    const ids = this.#ids;
    const metric = this.metric;
    const q = Float64Array.from(query);
    const qNorm = Math.sqrt(qq);

    // Max-heap of the kk best so far (worst on top): row indices and their distances.
    const hRow = new Int32Array(kk);
    const hDist = new Float64Array(kk);
    let hLen = 0;
    // a is worse than b: farther, or as far with a larger id (the deterministic tie-break).
    const worse = (da: number, ra: number, db: number, rb: number) => da > db || (da === db && ids[ra]! > ids[rb]!);

    for (let r = 0; r < n; r++) {
      const off = r * dim;
      // Four accumulators shorten the add dependency chain (~10% faster in V8 than one sum); the scan
      // is otherwise bound by memory bandwidth (100k rows of 512 float32 = 205 MB read per search).
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let j = 0;
      for (; j + 3 < dim; j += 4) {
        s0 += q[j]! * data[off + j]!;
        s1 += q[j + 1]! * data[off + j + 1]!;
        s2 += q[j + 2]! * data[off + j + 2]!;
        s3 += q[j + 3]! * data[off + j + 3]!;
      }
      for (; j < dim; j++) s0 += q[j]! * data[off + j]!;
      const dot = s0 + s1 + (s2 + s3);
      let d: number;
      if (metric === 'euclidean') {
        d = qq + sqNorms[r]! - 2 * dot;
        if (d < 0) d = 0; // rounding, for (near-)identical vectors
      } else {
        let c = dot / (qNorm * Math.sqrt(sqNorms[r]!));
        c = c > 1 ? 1 : c < -1 ? -1 : c;
        d = metric === 'cosine' ? 1 - c : Math.acos(c) / Math.PI;
      }

      if (hLen < kk) {
        // Sift up.
        let i = hLen++;
        while (i > 0) {
          const p = (i - 1) >> 1;
          if (!worse(d, r, hDist[p]!, hRow[p]!)) break;
          hDist[i] = hDist[p]!;
          hRow[i] = hRow[p]!;
          i = p;
        }
        hDist[i] = d;
        hRow[i] = r;
      } else if (worse(hDist[0]!, hRow[0]!, d, r)) {
        // Replace the worst and sift down.
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          if (l >= kk) break;
          let c = l;
          if (l + 1 < kk && worse(hDist[l + 1]!, hRow[l + 1]!, hDist[l]!, hRow[l]!)) c = l + 1;
          if (!worse(hDist[c]!, hRow[c]!, d, r)) break;
          hDist[i] = hDist[c]!;
          hRow[i] = hRow[c]!;
          i = c;
        }
        hDist[i] = d;
        hRow[i] = r;
      }
    }

    const out: Match[] = [];
    for (let i = 0; i < kk; i++) out.push({ id: ids[hRow[i]!]!, distance: hDist[i]! });
    return out.sort((a, b) => a.distance - b.distance || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * The gallery as bytes, for {@link Gallery.fromBytes}. Format (version 1, little-endian):
   * - bytes 0–3: magic `FNDG`; 4–7: u32 version (1); 8–11: u32 dim; 12–15: u32 metric
   *   (0 euclidean, 1 angular, 2 cosine: facenet's numbers, then cosine); 16–19: u32 count;
   * - `count` ids in storage order, each a u32 byte length then its UTF-8 bytes;
   * - 0–3 zero bytes so that the rows start at a multiple of 4;
   * - `count × dim` float32 values, row after row.
   */
  toBytes(): Uint8Array {
    const n = this.#ids.length;
    const dim = this.dim;
    const enc = new TextEncoder();
    const idBytes = this.#ids.map((id) => enc.encode(id));
    let idsLen = 0;
    for (const b of idBytes) idsLen += 4 + b.length;
    const rowsOff = (HEADER_BYTES + idsLen + 3) & ~3;
    const out = new Uint8Array(rowsOff + n * dim * 4);
    const view = new DataView(out.buffer);
    out.set(MAGIC, 0);
    view.setUint32(4, GALLERY_FORMAT_VERSION, true);
    view.setUint32(8, dim, true);
    view.setUint32(12, METRIC_CODES.indexOf(this.metric), true);
    view.setUint32(16, n, true);
    let off = HEADER_BYTES;
    for (const b of idBytes) {
      view.setUint32(off, b.length, true);
      out.set(b, off + 4);
      off += 4 + b.length;
    }
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(this.#data.buffer, this.#data.byteOffset, n * dim * 4), rowsOff);
    } else {
      for (let i = 0; i < n * dim; i++) view.setFloat32(rowsOff + 4 * i, this.#data[i]!, true);
    }
    return out;
  }

  /**
   * A gallery from the bytes of {@link Gallery.toBytes}; searches give exactly the results the
   * saved gallery gave. The bytes are copied, not kept.
   *
   * @throws {TypeError} `bytes` is not a Uint8Array.
   * @throws {FacenetDnnError} code `'ERR_DECODE'`: wrong magic bytes, an unsupported version, an
   *   unknown metric or bad dim, truncated data, trailing bytes, an id that is not UTF-8 or repeated,
   *   or a row that is not finite (or all zeros under the cosine or angular metric).
   */
  static fromBytes(bytes: Uint8Array): Gallery {
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`Cannot load gallery: expected a Uint8Array, got ${Object.prototype.toString.call(bytes)}`);
    if (bytes.length < HEADER_BYTES) throw decodeError(`truncated: ${bytes.length} bytes, the header alone needs ${HEADER_BYTES}`);
    if (MAGIC.some((m, i) => bytes[i] !== m)) {
      const got = Array.from(bytes.subarray(0, 4), (x) => x.toString(16).padStart(2, '0')).join(' ');
      throw decodeError(`not a facenet-dnn gallery (magic bytes '${got}', expected '46 4e 44 47' = "FNDG")`);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const version = view.getUint32(4, true);
    if (version !== GALLERY_FORMAT_VERSION) throw decodeError(`unsupported format version ${version}, this build reads version ${GALLERY_FORMAT_VERSION}`);
    const dim = view.getUint32(8, true);
    if (dim < 1 || dim > 1 << 20) throw decodeError(`dim ${dim} is outside [1, 1048576]`);
    const metricCode = view.getUint32(12, true);
    const metric = METRIC_CODES[metricCode];
    if (metric === undefined) throw decodeError(`unknown metric code ${metricCode}, expected 0 (euclidean), 1 (angular) or 2 (cosine)`);
    const n = view.getUint32(16, true);
    // Check the least size the count implies before allocating anything for it.
    const least = HEADER_BYTES + n * 4 + n * dim * 4;
    if (bytes.length < least) throw decodeError(`truncated: ${n} embeddings of dim ${dim} need at least ${least} bytes, got ${bytes.length}`);

    const g = new Gallery({ dim, metric, capacity: Math.max(1, n) });
    const dec = new TextDecoder('utf-8', { fatal: true });
    let off = HEADER_BYTES;
    for (let i = 0; i < n; i++) {
      if (off + 4 > bytes.length) throw decodeError(`truncated in the length of id #${i} at byte ${off}`);
      const len = view.getUint32(off, true);
      off += 4;
      if (off + len > bytes.length) throw decodeError(`truncated in id #${i}: ${len} bytes at byte ${off}, the data ends at ${bytes.length}`);
      let id: string;
      try {
        id = dec.decode(bytes.subarray(off, off + len));
      } catch (cause) {
        throw new FacenetDnnError('ERR_DECODE', `Cannot load gallery: id #${i} at byte ${off} is not valid UTF-8`, { cause });
      }
      if (g.#rows.has(id)) throw decodeError(`id '${id}' appears twice (#${g.#rows.get(id)} and #${i})`);
      g.#rows.set(id, i);
      g.#ids.push(id);
      off += len;
    }
    const rowsOff = (off + 3) & ~3;
    const end = rowsOff + n * dim * 4;
    if (end > bytes.length) throw decodeError(`truncated: the embeddings need bytes ${rowsOff}–${end}, the data ends at ${bytes.length}`);
    if (end < bytes.length) throw decodeError(`${bytes.length - end} unexpected bytes after the last embedding`);
    const data = g.#data;
    if (LITTLE_ENDIAN) {
      new Uint8Array(data.buffer, data.byteOffset, n * dim * 4).set(bytes.subarray(rowsOff, end));
    } else {
      for (let i = 0; i < n * dim; i++) data[i] = view.getFloat32(rowsOff + 4 * i, true);
    }
    for (let r = 0; r < n; r++) {
      let sq = 0;
      for (let j = r * dim, e = j + dim; j < e; j++) sq += data[j]! * data[j]!;
      if (!Number.isFinite(sq)) throw decodeError(`the embedding of '${g.#ids[r]}' has a value that is not finite`);
      if (sq === 0 && metric !== 'euclidean') throw decodeError(`the embedding of '${g.#ids[r]}' is all zeros, which the ${metric} metric cannot compare`);
      g.#sqNorms[r] = sq;
    }
    return g;
  }

  /** Grows the storage (doubling) to hold at least `rows` rows. */
  #reserve(rows: number): void {
    const cap = this.#sqNorms.length;
    if (rows <= cap) return;
    const next = Math.max(rows, cap * 2);
    const data = new Float32Array(next * this.dim);
    data.set(this.#data);
    this.#data = data;
    const sq = new Float64Array(next);
    sq.set(this.#sqNorms);
    this.#sqNorms = sq;
  }

  /**
   * Checks an embedding (length, finite after rounding to float32 when `asFloat32`) and returns its
   * squared norm, computed from the values as they will be used.
   */
  #check(what: string, v: ArrayLike<number>, asFloat32 = true): number {
    if (v === null || typeof v !== 'object' || typeof v.length !== 'number') {
      throw new TypeError(`Cannot ${what}: the embedding must be an array or typed array of numbers`);
    }
    if (v.length !== this.dim) throw new RangeError(`Cannot ${what}: the embedding has length ${v.length}, the gallery's dim is ${this.dim}`);
    let sq = 0;
    for (let i = 0; i < v.length; i++) {
      const x = asFloat32 ? Math.fround(v[i]!) : v[i]!;
      if (!Number.isFinite(x)) {
        const why = Number.isFinite(v[i]) ? `${v[i]} is beyond float32 range` : `is ${v[i]}`;
        throw new RangeError(`Cannot ${what}: element [${i}] ${why}, expected a finite number`);
      }
      sq += x * x;
    }
    if (!Number.isFinite(sq)) throw new RangeError(`Cannot ${what}: its squared norm overflows float64`);
    if (sq === 0 && this.metric !== 'euclidean') {
      throw new RangeError(`Cannot ${what}: the embedding is all zeros, which the ${this.metric} metric cannot compare`);
    }
    return sq;
  }
}

/**
 * An empty {@link Gallery} for 1:N search. Synchronous: it has no async setup and nothing to
 * dispose.
 *
 * @example
 * ```ts
 * const gallery = createGallery(); // dim 512, squared Euclidean
 * gallery.add('ada', adaEmbedding);
 * gallery.add('alan', alanEmbedding);
 * const top = gallery.search(queryEmbedding, 1); // [{ id: 'ada', distance: 0.42 }]
 * const restored = Gallery.fromBytes(gallery.toBytes());
 * ```
 * @throws {RangeError} `dim` is not an integer in [1, 1048576], `metric` is unknown, or
 *   `capacity` is not a positive integer.
 */
export function createGallery(options: GalleryOptions = {}): Gallery {
  return new Gallery(options);
}
