/**
 * Object metadata, keys and ranges of the GCS store.
 */
import type { ByteRange, ObjectInfo } from '../../object-store.ts';
import { validateKey } from '../../keys.ts';
import { StorageError } from '../../errors.ts';
import { gcsError, GCS_PROVIDER, type GcsErrorContext } from './gcs-errors.ts';

/** 5 TiB, the GCS object size limit. */
export const GCS_MAX_OBJECT_SIZE = 5 * 1024 ** 4;

/**
 * Top-level prefix of multipart parts, inside the user's bucket. Keys under it
 * are reserved (`InvalidKey`) and never listed.
 */
export const MULTIPART_PREFIX = '.stowage-multipart/';

/** The object resource fields the store reads (all strings in the JSON API). */
export interface GcsObjectMetadata {
  readonly name?: string | undefined;
  readonly size?: string | number | undefined;
  readonly etag?: string | undefined;
  readonly generation?: string | number | undefined;
  readonly updated?: string | undefined;
  readonly timeCreated?: string | undefined;
  readonly contentType?: string | undefined;
  readonly md5Hash?: string | undefined;
}

/** `InvalidKey` unless `key` passes {@link validateKey} and is outside the multipart prefix. */
export function checkKey(key: string): void {
  validateKey(key);
  if (key.startsWith(MULTIPART_PREFIX)) {
    throw new StorageError('InvalidKey', `Invalid object key ${JSON.stringify(key)}: ${MULTIPART_PREFIX} is reserved for multipart parts`, {
      key,
      provider: GCS_PROVIDER,
    });
  }
}

/** True for keys under the hidden multipart prefix. */
export function isHidden(name: string): boolean {
  return name.startsWith(MULTIPART_PREFIX);
}

/** Size in bytes of an object resource; `Internal` when the server sent none. */
export function sizeOf(meta: GcsObjectMetadata, ctx: GcsErrorContext): number {
  const size = Number(meta.size);
  if (meta.size === undefined || !Number.isSafeInteger(size) || size < 0) {
    throw gcsError('Internal', `${ctx.bucket ?? '?'}/${ctx.key ?? '?'}: the server sent no valid object size`, ctx);
  }
  return size;
}

/**
 * `ObjectInfo` of an object resource. The etag is GCS's own (it changes with
 * every new generation and metadata update), quoted as in HTTP.
 */
export function objectInfo(bucket: string, key: string, meta: GcsObjectMetadata, ctx: GcsErrorContext): ObjectInfo {
  const stamp = meta.updated ?? meta.timeCreated;
  const lastModified = stamp === undefined ? new Date(0) : new Date(stamp);
  const tag = meta.etag ?? (meta.generation === undefined ? '' : String(meta.generation));
  return {
    bucket,
    key,
    size: sizeOf(meta, ctx),
    etag: `"${tag.replaceAll('"', '')}"`,
    lastModified: Number.isNaN(lastModified.getTime()) ? new Date(0) : lastModified,
    contentType: meta.contentType,
  };
}

/** Inclusive range actually served; `InvalidRange` when it cannot be satisfied. */
export function resolveRange(range: ByteRange, size: number, ctx: GcsErrorContext): { start: number; end: number } {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
    throw gcsError('InvalidRange', `malformed range ${start}-${end ?? ''}`, ctx);
  }
  if (start >= size) throw gcsError('InvalidRange', `range starts at ${start} but the object has ${size} bytes`, ctx);
  return { start, end: Math.min(end ?? size - 1, size - 1) };
}

/** `TooLarge` when a declared size exceeds the GCS object size limit. */
export function checkDeclaredSize(size: number | undefined, ctx: GcsErrorContext): void {
  if (size === undefined) return;
  if (!Number.isSafeInteger(size) || size < 0) throw gcsError('Internal', `declared size ${size} is not a byte count`, ctx);
  if (size > GCS_MAX_OBJECT_SIZE) {
    throw gcsError('TooLarge', `object of ${size} bytes exceeds the ${GCS_MAX_OBJECT_SIZE} byte limit`, ctx);
  }
}
