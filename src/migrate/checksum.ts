/**
 * What a copy can be checked against. S3 answers every PutObject and
 * UploadPart with the MD5 of the bytes it stored (its ETag), and a multipart
 * object with the MD5 of the parts' MD5s plus `-<parts>`; we hash the bytes
 * as they pass and compare. Other stores' ETags are opaque: there the size
 * is what is checked.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { ObjectStore } from '../storage/object-store.ts';

const MiB = 1024 * 1024;
/** Parts of the uploads we make: large enough that 100 MB goes in 7 requests. */
export const PART_SIZE = 16 * MiB;
/** S3's limit on parts per upload. */
const MAX_PARTS = 10_000;

/** The part size we use for an object of `size` bytes (a whole MiB, at most 10,000 parts). */
export function partSizeFor(size: number): number {
  return Math.max(PART_SIZE, Math.ceil(size / MAX_PARTS / MiB) * MiB);
}

/** An ETag as S3 computes it: a plain MD5, or a multipart one with its part count. */
export type S3Etag = { md5: string; parts?: undefined } | { md5: string; parts: number };

/** The S3-style MD5 inside an ETag, or undefined when the store's ETags are not MD5s. */
export function s3Etag(store: ObjectStore, etag: string): S3Etag | undefined {
  if (store.provider !== 'minio') return undefined;
  const m = /^"?([0-9a-f]{32})(?:-(\d+))?"?$/i.exec(etag);
  if (m?.[1] === undefined) return undefined;
  const md5 = m[1].toLowerCase();
  return m[2] === undefined ? { md5 } : { md5, parts: Number(m[2]) };
}

/** The ETag S3 gives a multipart object made of parts with these MD5s (raw digests). */
export function multipartEtag(partDigests: readonly Buffer[]): S3Etag {
  const md5 = createHash('md5');
  for (const d of partDigests) md5.update(d);
  return { md5: md5.digest('hex'), parts: partDigests.length };
}

/** Whether two S3 ETags say the same bytes. */
export function sameEtag(a: S3Etag, b: S3Etag): boolean {
  return a.md5 === b.md5 && a.parts === b.parts;
}

/**
 * A pass-through that hashes (MD5) and counts the bytes, reporting each
 * chunk's length to `onBytes` (progress).
 */
export class HashingPass extends Transform {
  readonly #md5: Hash = createHash('md5');
  bytes = 0;
  readonly #onBytes: ((n: number) => void) | undefined;

  constructor(onBytes?: (n: number) => void) {
    super();
    this.#onBytes = onBytes;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#md5.update(chunk);
    this.bytes += chunk.length;
    this.#onBytes?.(chunk.length);
    done(null, chunk);
  }

  /** The raw MD5 digest; call once the stream has ended. */
  digest(): Buffer {
    return this.#md5.digest();
  }
}

/**
 * The S3 ETag the store's copy of `bucket/key` should have, computed by
 * reading our copy: whole (plain ETag) or in parts of the size we would have
 * used (multipart ETag). Undefined when `expect` has a part count our part
 * size does not give (another tool uploaded it): then only sizes compare.
 */
export async function etagOfSource(
  store: ObjectStore, bucket: string, key: string, size: number, expect: S3Etag, signal?: AbortSignal,
): Promise<S3Etag | undefined> {
  if (expect.parts === undefined) return { md5: (await hashRange(store, bucket, key, 0, size, signal)).toString('hex') };
  const partSize = partSizeFor(size);
  if (Math.max(1, Math.ceil(size / partSize)) !== expect.parts) return undefined;
  const digests: Buffer[] = [];
  for (let start = 0; start < size || digests.length === 0; start += partSize) {
    digests.push(await hashRange(store, bucket, key, start, Math.min(size, start + partSize), signal));
  }
  return multipartEtag(digests);
}

/** MD5 of bytes `[start, end)` of an object. */
async function hashRange(store: ObjectStore, bucket: string, key: string, start: number, end: number, signal?: AbortSignal): Promise<Buffer> {
  const md5 = createHash('md5');
  if (end <= start) return md5.digest();
  const { body } = await store.get(bucket, key, { range: { start, end: end - 1 }, signal });
  for await (const chunk of body as AsyncIterable<Buffer>) md5.update(chunk);
  return md5.digest();
}
