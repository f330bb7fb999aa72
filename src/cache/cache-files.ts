/**
 * File primitives of the disk caches: a reference-counted open file, so a
 * reader keeps its bytes after the entry is evicted (POSIX keeps an unlinked
 * file alive while it is open), and a range reader that can follow a file
 * still being written by a fill.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { StorageError } from '../storage/errors.ts';

/** An open file shared by readers; closed when the last one releases it. */
export class FileRef {
  readonly handle: FileHandle;
  #refs = 1;

  constructor(handle: FileHandle) {
    this.handle = handle;
  }

  acquire(): this {
    if (this.#refs <= 0) throw new StorageError('Internal', 'cache file used after it was closed');
    this.#refs += 1;
    return this;
  }

  release(): void {
    this.#refs -= 1;
    if (this.#refs === 0) void this.handle.close().catch(() => undefined);
  }
}

/** A file some fill is still writing; readers wait for its bytes. */
export interface GrowingFile {
  /** Bytes written (and readable) so far. */
  readonly written: number;
  /** True once every byte is written. */
  readonly ended: boolean;
  /** Set when the fill failed; readers fail with it. */
  readonly failure: unknown;
  /** Resolves at the next progress, end or failure. */
  wait(): Promise<void>;
}

/** Where a {@link FileRangeReader} reads. */
export interface ReaderSource {
  /** An open file (the reader takes this reference), or a path opened on first read. */
  readonly file: FileRef | string;
  readonly start: number;
  /** Inclusive end; `Infinity` reads to the end of a growing file. */
  readonly end: number;
  readonly follow?: GrowingFile | undefined;
  /** Told the bytes read when the reader closes (stats). */
  readonly onClose?: ((bytes: number) => void) | undefined;
}

const CHUNK = 256 * 1024;

/** Streams an inclusive byte range of a cache file with positional reads. */
export class FileRangeReader extends Readable {
  readonly #src: ReaderSource;
  #ref: FileRef | undefined;
  #pos: number;
  #bytes = 0;

  constructor(src: ReaderSource) {
    super({ highWaterMark: CHUNK });
    this.#src = src;
    this.#pos = src.start;
    if (typeof src.file !== 'string') this.#ref = src.file;
  }

  override _construct(done: (err?: Error | null) => void): void {
    const path = this.#src.file;
    if (typeof path !== 'string') return done();
    open(path, 'r').then(
      (h) => { this.#ref = new FileRef(h); done(); },
      (err: unknown) => done(cacheFileError(err, 'open')),
    );
  }

  override _read(size: number): void {
    this.#next(size).catch((err: unknown) => this.destroy(cacheFileError(err, 'read')));
  }

  async #next(size: number): Promise<void> {
    const ref = this.#ref;
    const follow = this.#src.follow;
    if (ref === undefined) throw new StorageError('Internal', 'cache file is not open');
    for (;;) {
      if (this.destroyed) return;
      if (follow?.failure !== undefined) throw follow.failure;
      if (this.#pos > this.#src.end) return void this.push(null);
      const limit = follow === undefined ? Infinity : follow.written;
      if (this.#pos >= limit) {
        if (follow?.ended === true) return void this.push(null);
        await follow?.wait();
        continue;
      }
      const n = Math.min(Math.max(size, 16 * 1024), CHUNK, this.#src.end - this.#pos + 1, limit - this.#pos);
      const { buffer, bytesRead } = await ref.handle.read(Buffer.allocUnsafe(n), 0, n, this.#pos);
      if (this.destroyed) return;
      if (bytesRead === 0) {
        if (follow === undefined) throw new StorageError('Corrupt', 'cache file is shorter than its index entry');
        continue;
      }
      this.#pos += bytesRead;
      this.#bytes += bytesRead;
      this.push(bytesRead === n ? buffer : buffer.subarray(0, bytesRead));
      return;
    }
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.#ref?.release();
    this.#ref = undefined;
    this.#src.onClose?.(this.#bytes);
    done(err);
  }
}

/** Local-disk failures of a cache as the one storage error type. */
export function cacheFileError(err: unknown, op: string): StorageError {
  if (err instanceof StorageError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const kind = code === 'ENOENT' ? 'NotFound' : 'Internal';
  return new StorageError(kind, `cache ${op} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
