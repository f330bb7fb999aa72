/** Entries handed out by a disk cache, and byte-range checks. */
import { Readable } from 'node:stream';
import { StorageError } from '../storage/errors.ts';
import { FileRangeReader, FileRef } from './cache-files.ts';
import type { IndexRow } from './cache-index.ts';
import type { FillStart } from './fill-flight.ts';

/** Metadata of a cache entry. */
export interface CacheEntryInfo {
  readonly key: string;
  readonly size: number;
  readonly contentType: string;
  /** Quoted ETag: the one the fill gave, else the quoted SHA-256 of the bytes. */
  readonly etag: string;
  readonly createdAt: Date;
  /** The origin's modification time when the fill gave it, else `createdAt`. */
  readonly lastModified: Date;
}

/**
 * A fresh entry. It holds its file open from the lookup until the first
 * `open()` stream closes (or `release()`), so eviction in the meantime never
 * breaks it; later `open()` calls reopen the file by path. An entry kept in
 * the index holds its bytes instead.
 */
export interface CachedEntry extends CacheEntryInfo {
  /** Streams the bytes, or an inclusive range of them; counts `bytesServed`. `InvalidRange` when outside. */
  open(range?: { start: number; end?: number | undefined }): Readable;
  /** Lets go of the file without reading it (otherwise done when garbage-collected). */
  release(): void;
}

/** An inclusive byte range within an object. */
export interface InclusiveRange {
  readonly start: number;
  readonly end: number;
}

/** Resolves a range against `size` (end clamped); `InvalidRange` when it starts past the end. */
export function resolveRange(range: { start: number; end?: number | undefined } | undefined, size: number): InclusiveRange {
  if (range === undefined) return { start: 0, end: size - 1 };
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0 || start >= size || (end !== undefined && end < start)) {
    throw new StorageError('InvalidRange', `range ${start}-${end ?? ''} cannot be served: the object has ${size} bytes`);
  }
  return { start, end: Math.min(end ?? size - 1, size - 1) };
}

// Entries looked up but never opened still close their file, eventually.
const unreleased = new FinalizationRegistry<FileRef>((ref) => ref.release());

/**
 * A {@link CachedEntry} holding `source` (the entry's file, open, until its
 * first `open()` or `release()`; or its bytes, when kept in the index).
 */
export function cachedEntry(info: CacheEntryInfo, source: FileRef | Buffer, path: string, onServed: ((bytes: number) => void) | undefined): CachedEntry {
  if (!(source instanceof FileRef)) return bytesEntry(info, source, onServed);
  const ref = source;
  let held: FileRef | undefined = ref;
  const entry: CachedEntry = {
    ...info,
    open(range) {
      const r = resolveRange(range, info.size);
      const file = held ?? path;
      forget();
      return new FileRangeReader({ file, start: r.start, end: r.end, onClose: onServed });
    },
    release() {
      const was = held;
      forget();
      was?.release();
    },
  };
  const forget = () => {
    if (held === undefined) return;
    unreleased.unregister(entry);
    held = undefined;
  };
  unreleased.register(entry, ref, entry);
  return entry;
}

function bytesEntry(info: CacheEntryInfo, bytes: Buffer, onServed: ((bytes: number) => void) | undefined): CachedEntry {
  return {
    ...info,
    open: (range) => bytesReader(bytes, resolveRange(range, info.size), onServed),
    release: () => undefined,
  };
}

/** Streams an inclusive range of bytes held in memory; `onServed` is told the bytes once they are all read. */
export function bytesReader(bytes: Buffer, r: InclusiveRange, onServed: ((bytes: number) => void) | undefined): Readable {
  const slice = bytes.subarray(r.start, r.end + 1);
  const body = Readable.from([slice], { objectMode: false });
  if (onServed !== undefined) body.once('end', () => onServed(slice.length));
  return body;
}

/** Counters since the cache was created (kept across restarts) and current size. */
export interface CacheStats {
  name: string;
  /** Lookups answered by a fresh entry. */
  hits: number;
  /** Lookups that found none (callers that waited for another's fill included). */
  misses: number;
  /** Bytes read from the cache by callers that did not fill them: egress saved. */
  bytesServed: number;
  /** Bytes written by fills (what the cache cost the origin). */
  bytesFetched: number;
  /** Entries removed for space or age. */
  evictions: number;
  sizeBytes: number;
  entries: number;
  maxBytes: number;
}

/** How a lookup treats a fresh entry. */
export interface LookupOptions {
  /** Rejects a fresh entry as stale (say, its origin changed): it is dropped and the lookup misses. */
  readonly accept?: ((entry: CacheEntryInfo) => boolean | Promise<boolean>) | undefined;
  /** Count the lookup in hits/misses. Default true. */
  readonly count?: boolean | undefined;
}

/** Result of {@link DiskCache.streamOrFill}. */
export interface StreamedEntry {
  readonly entry: CacheEntryInfo;
  readonly body: Readable;
  /** The range served, when one was asked for. */
  readonly range: InclusiveRange | undefined;
  readonly hit: boolean;
}

/** The metadata of an indexed entry. */
export function infoOf(row: IndexRow): CacheEntryInfo {
  return {
    key: row.key, size: row.size, contentType: row.contentType, etag: row.etag,
    createdAt: new Date(row.createdAt), lastModified: new Date(row.lastModified),
  };
}

/** The metadata of an entry whose fill has just started (size and ETag announced). */
export function startInfo(key: string, s: FillStart, nowMs: number): CacheEntryInfo {
  const now = new Date(nowMs);
  return { key, size: s.size ?? 0, contentType: s.contentType, etag: s.etag ?? '', createdAt: now, lastModified: s.lastModified ?? now };
}
