/**
 * One fill of a cache entry: the producer's body written to a temp file that
 * any number of readers follow while it grows. Readers never slow the fill:
 * it runs at the producer's pace, so a waiting or disconnected client cannot
 * hold it up or cancel it for the others.
 */
import { createHash } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { StorageError } from '../storage/errors.ts';
import { cacheFileError, FileRef, type GrowingFile } from './cache-files.ts';
import { uniqueSuffix } from './unique-name.ts';

/** What every fill tells besides its bytes. */
export interface FillMeta {
  readonly contentType: string;
  /** Quoted ETag to keep; default: the quoted SHA-256 of the bytes. */
  readonly etag?: string | undefined;
  /** The origin's modification time; default: when the entry was written. */
  readonly lastModified?: Date | undefined;
  /**
   * Exact size when known (default for `bytes`: their length): readers may
   * then follow ranges of the file as it grows, and a short body fails.
   */
  readonly size?: number | undefined;
}

/**
 * What a fill produces; see `DiskCache.getOrFill`: a stream of the bytes, or
 * the bytes themselves when the producer made them in memory. Bytes small
 * enough are kept in the index instead of a file (see cache-index.ts); only
 * larger ones are streamed into a file.
 */
export type FillResult = FillMeta & ({ readonly body: Readable; readonly bytes?: undefined } | { readonly body?: undefined; readonly bytes: Buffer });

/** Metadata known once the fill has started. */
export interface FillStart {
  readonly contentType: string;
  readonly etag: string | undefined;
  readonly lastModified: Date | undefined;
  readonly size: number | undefined;
}

/** The finished fill: its temp file, or its bytes when they are kept in the index. */
export interface FillOutput {
  readonly tmpPath: string | undefined;
  readonly bytes: Buffer | undefined;
  readonly size: number;
  readonly etag: string;
}

/** What readers of a fill read: the open temp file, or the bytes of an inline one. */
export type FillSource = FileRef | Buffer;

/** A fill in progress; see the module comment. */
export class Flight implements GrowingFile {
  readonly tmpPath: string;
  written = 0;
  ended = false;
  failure: unknown = undefined;
  /** Set when the result must not be kept (its key was invalidated meanwhile). */
  discard = false;
  /** The open temp file readers share; set before {@link started} resolves, unless {@link bytes} is. */
  file: FileRef | undefined;
  /** The whole output of a fill kept inline (see {@link FillResult}); set before {@link started} resolves. */
  bytes: Buffer | undefined;
  readonly started: Promise<FillStart>;
  readonly done: Promise<FillOutput>;
  #claims = 0;
  #finished = false;
  #body: Readable | undefined;
  #abortedWith: Error | undefined;
  #wakers: Array<() => void> = [];
  #resolveStart!: (s: FillStart) => void;
  #rejectStart!: (err: unknown) => void;

  /** The largest in-memory output kept inline instead of in a file. */
  readonly #inlineMax: number;

  constructor(tmpDir: string, fill: () => Promise<FillResult>, inlineMax = 0) {
    this.#inlineMax = inlineMax;
    this.tmpPath = join(tmpDir, `${Date.now().toString(36)}-${uniqueSuffix()}`);
    this.started = new Promise((resolve, reject) => { this.#resolveStart = resolve; this.#rejectStart = reject; });
    this.done = this.#run(fill);
    // Callers await these; a fill nobody waits for anymore must not be an unhandled rejection.
    this.started.catch(() => undefined);
    this.done.catch(() => undefined);
  }

  /** Stops the fill (the cache is closing): it fails with `reason`. */
  abort(reason: Error): void {
    this.#abortedWith = reason;
    this.#body?.destroy(reason);
  }

  wait(): Promise<void> {
    return new Promise((resolve) => this.#wakers.push(resolve));
  }

  /** Reserves a reference to the temp file for a caller who will read it once started. */
  claim(): void {
    this.#claims += 1;
  }

  /** Turns a {@link claim} into a reference or the inline bytes (undefined if the fill failed to start). */
  take(): FillSource | undefined {
    this.#claims -= 1;
    const ref = this.bytes ?? this.file?.acquire();
    this.#maybeClose();
    return ref;
  }

  /** Drops a {@link claim} that will not be taken. */
  unclaim(): void {
    this.#claims -= 1;
    this.#maybeClose();
  }

  /** The fill's own reference ends once it is settled and every claim is taken. */
  settle(): void {
    this.#finished = true;
    this.#maybeClose();
  }

  #maybeClose(): void {
    if (!this.#finished || this.#claims > 0 || this.file === undefined) return;
    const f = this.file;
    this.file = undefined;
    f.release();
  }

  #wake(): void {
    const wakers = this.#wakers;
    this.#wakers = [];
    for (const w of wakers) w();
  }

  async #run(fill: () => Promise<FillResult>): Promise<FillOutput> {
    let out: FileHandle | undefined;
    try {
      const r = await fill();
      this.#body = r.body;
      if (this.#abortedWith !== undefined) throw this.#abortedWith;
      if (r.bytes !== undefined && r.bytes.length <= this.#inlineMax) return this.#inline(r, r.bytes);
      // Bytes made in memory become a stream only when they go to a file.
      const body = r.body ?? Readable.from([r.bytes], { objectMode: false });
      const size = r.size ?? r.bytes?.length;
      this.#body = body;
      // The body may fail while the files open; reading it then throws that error (not an uncaught one).
      body.on('error', () => undefined);
      out = await open(this.tmpPath, 'wx', 0o600);
      this.file = new FileRef(await open(this.tmpPath, 'r'));
      this.#resolveStart({ contentType: r.contentType, etag: r.etag, lastModified: r.lastModified, size });
      const etag = await this.#copy(body, out, size, r.etag === undefined);
      await out.sync();
      this.ended = true;
      this.#wake();
      return { tmpPath: this.tmpPath, bytes: undefined, size: this.written, etag: r.etag ?? etag };
    } catch (err) {
      this.#body?.destroy();
      this.failure = err instanceof Error ? err : new StorageError('Internal', `cache fill failed: ${String(err)}`);
      this.#rejectStart(this.failure);
      this.#wake();
      await rm(this.tmpPath, { force: true }).catch(() => undefined);
      throw this.failure;
    } finally {
      await out?.close().catch(() => undefined);
    }
  }

  /** A fill made in memory: readers get the bytes, and the ledger keeps them in the index. */
  #inline(r: FillResult, bytes: Buffer): FillOutput {
    if (r.size !== undefined && r.size !== bytes.length) throw new StorageError('Corrupt', `cache fill: ${bytes.length} bytes, announced ${r.size}`);
    this.bytes = bytes;
    this.written = bytes.length;
    this.ended = true;
    this.#resolveStart({ contentType: r.contentType, etag: r.etag, lastModified: r.lastModified, size: bytes.length });
    const etag = r.etag ?? `"${createHash('sha256').update(bytes).digest('hex')}"`;
    return { tmpPath: undefined, bytes, size: bytes.length, etag };
  }

  async #copy(body: Readable, out: FileHandle, size: number | undefined, hashIt: boolean): Promise<string> {
    const hash = hashIt ? createHash('sha256') : undefined;
    for await (const chunk of body as AsyncIterable<unknown>) {
      const buf = asBuffer(chunk);
      if (size !== undefined && this.written + buf.length > size) throw new StorageError('Corrupt', `cache fill: more bytes than the announced ${size}`);
      await writeAll(out, buf, this.written);
      hash?.update(buf);
      this.written += buf.length;
      this.#wake();
    }
    if (size !== undefined && this.written !== size) throw new StorageError('Corrupt', `cache fill: ${this.written} bytes, announced ${size}`);
    return `"${hash?.digest('hex') ?? ''}"`;
  }
}

function asBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new StorageError('Internal', 'cache fill: the body must yield bytes');
}

async function writeAll(out: FileHandle, buf: Buffer, position: number): Promise<void> {
  for (let off = 0; off < buf.length;) {
    try {
      off += (await out.write(buf, off, buf.length - off, position + off)).bytesWritten;
    } catch (err) {
      throw cacheFileError(err, 'write');
    }
  }
}
