/**
 * Copies one object between two stores, verified. Up to {@link SMALL_OBJECT}
 * bytes: read whole and sent as bytes (a migration is mostly thousands of
 * small files, and each stream hop costs CPU per object). Up to
 * {@link MULTIPART_THRESHOLD} bytes: one streamed put, retried whole. Above:
 * a multipart upload whose parts are read as byte ranges of the source, so a
 * failure re-sends one part, not 5 GB. Each copy is checked: the store's MD5
 * ETag against the bytes we hashed on the way (S3), or the stored size.
 * Memory: a few stream buffers per object, whatever its size.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StorageError } from '../storage/errors.ts';
import type { MultipartUpload, ObjectInfo, ObjectStore, PartInfo } from '../storage/object-store.ts';
import { withBackoff, type BackoffOptions, type RetryListener } from './backoff.ts';
import { HashingPass, multipartEtag, partSizeFor, s3Etag, sameEtag, type S3Etag } from './checksum.ts';
import { forEachLimit, type Slots } from './pool.ts';

/** Objects up to this size are copied through memory (at most one per object in flight). */
export const SMALL_OBJECT = 1024 * 1024;
/** Objects larger than this go up in parts. */
export const MULTIPART_THRESHOLD = 64 * 1024 * 1024;
/** Parts of one object in flight at once. */
export const PART_CONCURRENCY = 4;

/** One side of a copy. */
export interface ObjectRef {
  store: ObjectStore;
  bucket: string;
  key: string;
}

/** Options of {@link copyObject}. */
export interface CopyOptions {
  /** The source's size (from its listing). */
  size: number;
  contentType?: string | undefined;
  backoff: BackoffOptions;
  signal?: AbortSignal | undefined;
  multipartThreshold?: number | undefined;
  /** Bytes sent; negative when a failed attempt's bytes are taken back. */
  onBytes?: ((delta: number) => void) | undefined;
  onRetry?: RetryListener | undefined;
  /**
   * Part uploads in flight, shared by every object of a run: each one holds
   * a connection and a few MiB of socket buffers, so their total is bounded,
   * not their number per object.
   */
  partSlots?: Slots | undefined;
}

/** A verified copy. */
export interface CopyResult {
  size: number;
  /** `md5`: the store's checksum matched the bytes sent; `size`: only the size could be checked. */
  verified: 'md5' | 'size';
  etag: string;
}

/** Copies `src` to `dst` (overwriting it); throws when it cannot be done and verified. */
export function copyObject(src: ObjectRef, dst: ObjectRef, o: CopyOptions): Promise<CopyResult> {
  const threshold = o.multipartThreshold ?? MULTIPART_THRESHOLD;
  if (o.size > threshold) return copyInParts(src, dst, o);
  return o.size <= Math.min(SMALL_OBJECT, threshold) ? copySmall(src, dst, o) : copyWhole(src, dst, o);
}

function corrupt(dst: ObjectRef, message: string): StorageError {
  return new StorageError('Corrupt', `${dst.bucket}/${dst.key}: ${message}`, { bucket: dst.bucket, key: dst.key, provider: dst.store.provider });
}

/** Streams `[start, end)` of the source through a hashing pass into `send`. */
async function sendRange<T>(
  src: ObjectRef, range: { start: number; end: number } | undefined, o: CopyOptions,
  send: (body: HashingPass, size: number) => Promise<T>,
): Promise<{ result: T; digest: Buffer; size: number }> {
  let counted = 0;
  const got = await src.store.get(src.bucket, src.key, {
    signal: o.signal, ...(range === undefined ? {} : { range: { start: range.start, end: range.end - 1 } }),
  });
  const size = range === undefined ? got.info.size : range.end - range.start;
  const pass = new HashingPass((n) => {
    counted += n;
    o.onBytes?.(n);
  });
  const piped = pipeline(got.body, pass).catch(() => undefined);
  try {
    const result = await send(pass, size);
    await piped;
    if (pass.bytes !== size) throw corrupt(src, `read ${pass.bytes} bytes of ${size}`);
    return { result, digest: pass.digest(), size };
  } catch (err) {
    pass.destroy();
    got.body.destroy();
    o.onBytes?.(-counted);
    throw err;
  }
}

/**
 * Reads the object into memory, hashes it once and sends it as bytes. An
 * object that grew past {@link SMALL_OBJECT} since it was listed is streamed.
 */
async function copySmall(src: ObjectRef, dst: ObjectRef, o: CopyOptions): Promise<CopyResult> {
  const sent = await withBackoff(async () => {
    const got = await src.store.get(src.bucket, src.key, { signal: o.signal });
    if (got.info.size > SMALL_OBJECT) {
      got.body.destroy();
      return undefined;
    }
    const bytes = await readExactly(got.body, got.info.size, src);
    o.onBytes?.(bytes.length);
    try {
      const md5 = createHash('md5').update(bytes).digest('hex');
      const info = await dst.store.put(dst.bucket, dst.key, bytes, { size: bytes.length, contentType: o.contentType, signal: o.signal, md5 });
      return await verify(dst, info, bytes.length, { md5 });
    } catch (err) {
      o.onBytes?.(-bytes.length);
      throw err;
    }
  }, o.backoff, o.signal, o.onRetry);
  return sent ?? copyWhole(src, dst, o);
}

/** The whole body, which must be `size` bytes (one chunk needs no copy). */
async function readExactly(body: Readable, size: number, src: ObjectRef): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > size) break;
    chunks.push(chunk);
  }
  if (length !== size) {
    body.destroy();
    throw corrupt(src, `read ${length} bytes of ${size}`);
  }
  return chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks, size);
}

async function copyWhole(src: ObjectRef, dst: ObjectRef, o: CopyOptions): Promise<CopyResult> {
  return withBackoff(async () => {
    const sent = await sendRange(src, undefined, o, (body, size) =>
      dst.store.put(dst.bucket, dst.key, body, { size, contentType: o.contentType, signal: o.signal }));
    try {
      return await verify(dst, sent.result, sent.size, { md5: sent.digest.toString('hex') });
    } catch (err) {
      o.onBytes?.(-sent.size);
      throw err;
    }
  }, o.backoff, o.signal, o.onRetry);
}

/**
 * Checks the stored object: its S3 ETag against what we sent, else its size
 * (read back with a HEAD when the write's answer has no checksum).
 */
async function verify(dst: ObjectRef, info: ObjectInfo, size: number, sent: S3Etag): Promise<CopyResult> {
  let stored = info;
  let tag = s3Etag(dst.store, stored.etag);
  if (tag === undefined || stored.size !== size) {
    stored = await dst.store.head(dst.bucket, dst.key);
    tag = s3Etag(dst.store, stored.etag);
  }
  if (stored.size !== size) throw corrupt(dst, `stored ${stored.size} bytes, ${size} were sent`);
  if (tag === undefined) return { size, verified: 'size', etag: stored.etag };
  if (!sameEtag(tag, sent)) throw corrupt(dst, `stored checksum ${stored.etag} differs from the bytes sent (${sent.md5}${sent.parts === undefined ? '' : `-${sent.parts}`})`);
  return { size, verified: 'md5', etag: stored.etag };
}

async function copyInParts(src: ObjectRef, dst: ObjectRef, o: CopyOptions): Promise<CopyResult> {
  const partSize = partSizeFor(o.size);
  const count = Math.ceil(o.size / partSize);
  // Parts retry on their own; the whole upload is tried again once (a failed completion).
  return withBackoff(async () => {
    const upload = await withBackoff(() => dst.store.createMultipart(dst.bucket, dst.key, { contentType: o.contentType, signal: o.signal }),
      o.backoff, o.signal, o.onRetry);
    const parts: Array<{ part: PartInfo; digest: Buffer }> = [];
    try {
      await forEachLimit(Array.from({ length: count }, (_, i) => i), PART_CONCURRENCY, async (i) => {
        const send = () => sendPart(src, dst, upload, i, partSize, o);
        parts[i] = await withBackoff(() => (o.partSlots === undefined ? send() : o.partSlots.use(send)), o.backoff, o.signal, o.onRetry);
      });
      const expected = multipartEtag(parts.map((p) => p.digest));
      const info = await completeOnce(dst, upload, parts.map((p) => p.part), expected, o);
      return await verify(dst, info, o.size, expected);
    } catch (err) {
      await upload.abort().catch(() => undefined);
      o.onBytes?.(-parts.reduce((n, p) => n + (p?.part.size ?? 0), 0));
      throw err;
    }
  }, { ...o.backoff, attempts: Math.min(2, o.backoff.attempts) }, o.signal, o.onRetry);
}

async function sendPart(
  src: ObjectRef, dst: ObjectRef, upload: MultipartUpload, i: number, partSize: number, o: CopyOptions,
): Promise<{ part: PartInfo; digest: Buffer }> {
  const range = { start: i * partSize, end: Math.min(o.size, (i + 1) * partSize) };
  const sent = await sendRange(src, range, o, (body, size) => upload.uploadPart(i + 1, body, size));
  const tag = s3Etag(dst.store, sent.result.etag);
  if (tag !== undefined && tag.md5 !== sent.digest.toString('hex')) {
    o.onBytes?.(-sent.size);
    throw corrupt(dst, `part ${i + 1}: stored checksum ${sent.result.etag} differs from the bytes sent`);
  }
  return { part: sent.result, digest: sent.digest };
}

/**
 * Completes the upload, retrying transient failures. A completion whose
 * answer was lost may have happened: the object is then already there with
 * the expected checksum, and a second completion fails (the upload is gone).
 */
async function completeOnce(dst: ObjectRef, upload: MultipartUpload, parts: PartInfo[], expected: S3Etag, o: CopyOptions): Promise<ObjectInfo> {
  return withBackoff(async (attempt) => {
    try {
      return await upload.complete(parts);
    } catch (err) {
      if (attempt === 1) throw err;
      const now = await dst.store.head(dst.bucket, dst.key).catch(() => undefined);
      const tag = now === undefined ? undefined : s3Etag(dst.store, now.etag);
      if (now !== undefined && tag !== undefined && sameEtag(tag, expected)) return now;
      throw err;
    }
  }, o.backoff, o.signal, o.onRetry);
}
