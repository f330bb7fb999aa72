/** Byte ranges of `get`: the `Range` header sent and the range a response served. */
import type { Readable } from 'node:stream';
import type { GetObjectCommandOutput } from '@aws-sdk/client-s3';
import type { ByteRange, GetResult, ObjectInfo } from '../../object-store.ts';
import { s3Error, type S3ErrorContext } from './errors.ts';
import { quoteEtag } from './info.ts';

/** The `Range` header for `range`; `InvalidRange` when it is malformed. */
export function requestedRange(range: ByteRange, ctx: S3ErrorContext): string {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
    throw s3Error('InvalidRange', `malformed range ${start}-${end ?? ''}`, ctx);
  }
  return `bytes=${start}-${end ?? ''}`;
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+)$/u;

/**
 * The result of a GetObject: the object's full size comes from Content-Range
 * when a range was served. A store that ignored the Range header (200) is fine
 * when the range starts at 0; otherwise the bytes would be wrong.
 */
export function readRange(
  out: GetObjectCommandOutput, body: Readable, bucket: string, key: string, asked: ByteRange | undefined, ctx: S3ErrorContext,
): GetResult {
  const base = { bucket, key, etag: quoteEtag(out.ETag), lastModified: out.LastModified ?? new Date(0), contentType: out.ContentType };
  const length = out.ContentLength ?? 0;
  if (asked === undefined) return { info: { ...base, size: length }, body };
  const m = CONTENT_RANGE.exec(out.ContentRange ?? '');
  if (m !== null) {
    const info: ObjectInfo = { ...base, size: Number(m[3]) };
    return { info, body, range: { start: Number(m[1]), end: Number(m[2]) } };
  }
  if (asked.start === 0 && length > 0) {
    const end = Math.min(asked.end ?? length - 1, length - 1);
    if (end === length - 1) return { info: { ...base, size: length }, body, range: { start: 0, end } };
  }
  body.destroy();
  throw s3Error('Internal', `the store ignored the requested range (answered ${out.ContentRange ?? 'without Content-Range'})`, ctx);
}
