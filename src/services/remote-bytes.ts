/**
 * Ranged reads of a remote object into a {@link SparseBytes}, for header
 * parsers that say which bytes they need next. Every read is bounded: a budget
 * of bytes and of requests per object, so a hostile or odd file costs at most
 * that, and the object is never read whole.
 */
import { Readable } from 'node:stream';
import { NeedBytes, SparseBytes } from '../media/sparse-bytes.ts';
import { isStorageError } from '../storage/errors.ts';
import type { Located } from './items.ts';

/** Limits of one object's reads. */
export interface ReadBudget {
  /** The first ranged get: most headers are complete in it. Default 4 KiB. */
  firstBytes: number;
  /** Total bytes one object may cost. */
  maxBytes: number;
  /** Total ranged gets one object may cost. */
  maxReads: number;
}

/** Default budget for image headers: 4 KiB first, at most 1 MiB in 12 gets. */
export const HEADER_BUDGET: ReadBudget = { firstBytes: 4096, maxBytes: 1024 * 1024, maxReads: 12 };

/**
 * Smallest follow-up read. A read that continues right where held bytes end
 * (a parser consuming a long run of small structures) grows ×4 up to
 * {@link MAX_CHUNK}, to save round trips; a jump (over a JPEG's EXIF or XMP,
 * to a TIFF IFD) starts small again, since only the target's start is needed.
 */
const MIN_CHUNK = 4096;
const MAX_CHUNK = 256 * 1024;

/** Raised when the budget would be exceeded. */
export class BudgetExceeded extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BudgetExceeded';
  }
}

/** Raised when the object exists but is empty (no range can be read). */
export class EmptyObject extends Error {}

/** One remote object, read in ranges as parsers ask. */
export class RemoteBytes {
  readonly bytes: SparseBytes;
  /** Bytes received from the store so far. */
  bytesRead = 0;
  /** Ranged gets so far. */
  reads = 1;
  readonly #at: Located;
  readonly #budget: ReadBudget;
  #chunk = MIN_CHUNK;

  private constructor(at: Located, bytes: SparseBytes, firstRead: number, budget: ReadBudget) {
    this.#at = at;
    this.bytes = bytes;
    this.bytesRead = firstRead;
    this.#budget = budget;
  }

  /**
   * Reads the first `budget.firstBytes` of the object; its total size comes
   * with them. Storage errors (`NotFound`...) propagate; an empty object
   * throws {@link EmptyObject}.
   */
  static async open(at: Located, budget: ReadBudget = HEADER_BUDGET): Promise<RemoteBytes> {
    let got: { offset: number; data: Buffer; size: number };
    try {
      got = await readRange(at, 0, budget.firstBytes - 1);
    } catch (err) {
      // A range of an empty object cannot be satisfied; tell that apart from a real error.
      if (isStorageError(err, 'InvalidRange') && (await at.store.head(at.bucket, at.key)).size === 0) throw new EmptyObject('empty file');
      throw err;
    }
    if (got.size === 0) throw new EmptyObject('empty file');
    const bytes = new SparseBytes(got.size);
    bytes.add(got.offset, got.data);
    return new RemoteBytes(at, bytes, got.data.length, budget);
  }

  /** Total size of the object. */
  get size(): number {
    return this.bytes.size ?? 0;
  }

  /**
   * Runs `attempt` until it stops asking for bytes ({@link NeedBytes}),
   * fetching each missing range (rounded up to a growing chunk) in between.
   */
  async until<T>(attempt: () => T, extraBytes = 0): Promise<T> {
    for (;;) {
      try {
        return attempt();
      } catch (err) {
        if (!(err instanceof NeedBytes)) throw err;
        await this.fetch(err.offset, err.length, extraBytes);
      }
    }
  }

  /** Fetches at least `[offset, offset + length)`, within the budget (plus `extraBytes` for large known boxes). */
  async fetch(offset: number, length: number, extraBytes = 0): Promise<void> {
    const contiguous = offset > 0 && this.bytes.has(offset - 1, 1);
    this.#chunk = contiguous ? Math.min(this.#chunk * 4, MAX_CHUNK) : MIN_CHUNK;
    const end = Math.min(offset + Math.max(length, this.#chunk), this.size) - 1;
    if (this.reads >= this.#budget.maxReads) throw new BudgetExceeded(`header not found in ${this.reads} reads`);
    if (this.bytesRead + (end - offset + 1) > this.#budget.maxBytes + extraBytes) {
      throw new BudgetExceeded(`header not found in the first ${this.#budget.maxBytes + extraBytes} bytes read`);
    }
    const got = await readRange(this.#at, offset, end);
    this.reads += 1;
    this.bytesRead += got.data.length;
    this.bytes.add(got.offset, got.data);
  }

  /**
   * The object's first `length` bytes (at most its size) as a stream, for
   * programs that parse headers themselves (ffprobe): the bytes held from
   * offset 0, then the rest in one ranged get that is read only as the stream
   * is consumed and counted in {@link bytesRead}. Destroying the stream aborts
   * the get. `length` bounds it; the read budget does not apply.
   */
  prefix(length: number): Readable {
    const abort = new AbortController();
    const chunks = this.#prefixChunks(Math.min(length, this.size), abort.signal);
    return new Readable({
      async read() {
        try {
          const next = await chunks.next();
          this.push(next.done === true ? null : next.value);
        } catch (err) {
          this.destroy(err as Error);
        }
      },
      // Abort at once: a generator waiting on a stalled body would only see `return()` after its next chunk.
      destroy(err, done) {
        abort.abort();
        void chunks.return(undefined).catch(() => undefined);
        done(err);
      },
    });
  }

  async *#prefixChunks(end: number, signal: AbortSignal): AsyncGenerator<Buffer> {
    const first = this.bytes.segments()[0];
    const held = first?.offset === 0 ? first.data.subarray(0, end) : Buffer.alloc(0);
    if (held.length > 0) yield held;
    if (held.length >= end) return;
    const at = this.#at;
    const res = await at.store.get(at.bucket, at.key, { range: { start: held.length, end: end - 1 }, signal });
    this.reads += 1;
    // A store that ignores the range sends the object from 0: skip what was already sent.
    let skip = res.range === undefined ? held.length : 0;
    let left = end - held.length;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        this.bytesRead += chunk.length;
        const part = chunk.subarray(Math.min(skip, chunk.length)).subarray(0, left);
        skip = Math.max(0, skip - chunk.length);
        left -= part.length;
        if (part.length > 0) yield part;
        if (left <= 0) break;
      }
    } finally {
      if (!res.body.readableEnded) res.body.destroy();
    }
  }
}

/**
 * One ranged get. A store (or web server) that ignores the range sends the
 * object from its start: the bytes are then placed at 0 and only as many as
 * reach `end` are read before the stream is dropped.
 */
async function readRange(at: Located, start: number, end: number): Promise<{ offset: number; data: Buffer; size: number }> {
  const res = await at.store.get(at.bucket, at.key, { range: { start, end } });
  const offset = res.range?.start ?? 0;
  const data = await readAtMost(res.body, end + 1 - offset, res.range !== undefined);
  return { offset, data, size: res.info.size };
}

/**
 * A served range is read to its end: it is no longer than asked, and ending
 * it normally keeps the connection for the next request (destroying a
 * response costs a new TCP connection). A whole object sent instead of a
 * range is cut off at `limit`.
 */
async function readAtMost(body: Readable, limit: number, ranged: boolean): Promise<Buffer> {
  const parts: Buffer[] = [];
  let got = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (got < limit) parts.push(chunk);
      got += chunk.length;
      if (got >= limit && !ranged) break;
    }
  } finally {
    if (!body.readableEnded) body.destroy();
  }
  return Buffer.concat(parts).subarray(0, limit);
}
