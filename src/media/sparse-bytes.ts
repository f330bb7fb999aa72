/**
 * The bytes of a file known so far, as separate ranges: header parsers read
 * from it as if it were the whole file and, when a range is missing, say
 * exactly which bytes they need (see {@link NeedBytes}), so a remote object is
 * read in a few small ranged gets instead of from its start to its header.
 */

/** Thrown by {@link SparseBytes.read} when the bytes are not held yet. */
export class NeedBytes extends Error {
  readonly offset: number;
  readonly length: number;

  constructor(offset: number, length: number) {
    super(`need bytes ${offset}..${offset + length - 1}`);
    this.name = 'NeedBytes';
    this.offset = offset;
    this.length = length;
  }
}

/** Thrown when a structure points past the end of the file. */
export class TruncatedFile extends Error {
  constructor(offset: number, length: number, size: number) {
    super(`truncated: bytes ${offset}..${offset + length - 1} are past the end (${size} bytes)`);
    this.name = 'TruncatedFile';
  }
}

/** Raised by header parsers for a header that is present but wrong; the message says how. */
export class BadHeader extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadHeader';
  }
}

/** Pixel dimensions read from a header. */
export interface Size {
  width: number;
  height: number;
}

interface Segment {
  offset: number;
  data: Buffer;
}

/** Known ranges of a file of (optionally) known total size. */
export class SparseBytes {
  /** Total size of the file, when known; reads past it throw {@link TruncatedFile}. */
  readonly size: number | undefined;
  #segments: Segment[] = [];

  constructor(size?: number) {
    this.size = size;
  }

  /** A whole file (its size is the buffer's), or `size` bytes of which `data` is the start. */
  static of(data: Buffer, size: number = data.length): SparseBytes {
    const bytes = new SparseBytes(size);
    bytes.add(0, data);
    return bytes;
  }

  /** The start of a file of unknown length. */
  static prefix(data: Buffer): SparseBytes {
    const bytes = new SparseBytes();
    bytes.add(0, data);
    return bytes;
  }

  /** Total bytes held. */
  get held(): number {
    return this.#segments.reduce((n, s) => n + s.data.length, 0);
  }

  /** Adds bytes at `offset`, merging with touching or overlapping ranges. */
  add(offset: number, data: Buffer): void {
    if (data.length === 0) return;
    const all = [...this.#segments, { offset, data }].sort((a, b) => a.offset - b.offset);
    const merged: Segment[] = [];
    for (const s of all) {
      const last = merged.at(-1);
      const lastEnd = last === undefined ? -1 : last.offset + last.data.length;
      if (last === undefined || s.offset > lastEnd) {
        merged.push(s);
      } else if (s.offset + s.data.length > lastEnd) {
        last.data = Buffer.concat([last.data, s.data.subarray(lastEnd - s.offset)]);
      }
    }
    this.#segments = merged;
  }

  /** The held ranges, in offset order. */
  segments(): ReadonlyArray<{ readonly offset: number; readonly data: Buffer }> {
    return this.#segments;
  }

  /** Whether `[offset, offset + length)` is held. */
  has(offset: number, length: number): boolean {
    return this.#segments.some((s) => s.offset <= offset && offset + length <= s.offset + s.data.length);
  }

  /**
   * The bytes `[offset, offset + length)` (a view, not a copy).
   * @throws NeedBytes when they are not held; TruncatedFile when they are past the known end.
   */
  read(offset: number, length: number): Buffer {
    if (this.size !== undefined && offset + length > this.size) throw new TruncatedFile(offset, length, this.size);
    for (const s of this.#segments) {
      if (s.offset <= offset && offset + length <= s.offset + s.data.length) {
        return s.data.subarray(offset - s.offset, offset - s.offset + length);
      }
    }
    throw new NeedBytes(offset, length);
  }

  u8(offset: number): number {
    return this.read(offset, 1)[0] ?? 0;
  }

  u16(offset: number, le: boolean): number {
    const b = this.read(offset, 2);
    return le ? b.readUInt16LE(0) : b.readUInt16BE(0);
  }

  u24le(offset: number): number {
    return this.read(offset, 3).readUIntLE(0, 3);
  }

  u32(offset: number, le: boolean): number {
    const b = this.read(offset, 4);
    return le ? b.readUInt32LE(0) : b.readUInt32BE(0);
  }

  /** Unsigned 64-bit as a number; values past 2^53 are reported as Infinity (never a real offset). */
  u64(offset: number, le: boolean): number {
    const b = this.read(offset, 8);
    const v = le ? b.readBigUInt64LE(0) : b.readBigUInt64BE(0);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(v);
  }

  ascii(offset: number, length: number): string {
    return this.read(offset, length).toString('latin1');
  }
}
