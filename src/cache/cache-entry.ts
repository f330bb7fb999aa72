/** Entries handed out by a disk cache, and byte-range checks. */
import type { Readable } from 'node:stream';
import { StorageError } from '../storage/errors.ts';
import { FileRangeReader, type FileRef } from './cache-files.ts';

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
 * breaks it; later `open()` calls reopen the file by path.
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

/** A {@link CachedEntry} holding `ref` (the entry's file, open) until its first `open()` or `release()`. */
export function cachedEntry(info: CacheEntryInfo, ref: FileRef, path: string, onServed: ((bytes: number) => void) | undefined): CachedEntry {
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
