/**
 * Object metadata from S3 responses, and the HEAD request most operations
 * fall back on (radosgw's CompleteMultipartUpload answers with an empty ETag;
 * S3 never returns size and date on writes).
 */
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectInfo } from '../../object-store.ts';
import { httpStatus, s3Error, serviceCode, toS3Error, type S3ErrorContext } from './errors.ts';

/** ETags quoted as in HTTP; some stores (radosgw's UploadPartCopy) return them bare. */
export function quoteEtag(etag: string | undefined): string {
  const value = etag ?? '';
  return value.startsWith('"') || value.startsWith('W/"') ? value : `"${value}"`;
}

/** Metadata of `bucket/key`, `NotFound` when missing. */
export async function headObject(client: S3Client, bucket: string, key: string, ctx: S3ErrorContext): Promise<ObjectInfo> {
  try {
    const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return {
      bucket,
      key,
      size: out.ContentLength ?? 0,
      etag: quoteEtag(out.ETag),
      lastModified: out.LastModified ?? new Date(0),
      contentType: out.ContentType,
    };
  } catch (err) {
    if (httpStatus(err) === 403 && serviceCode(err) === undefined) throw await explainForbidden(client, bucket, key, ctx, err);
    throw toS3Error(err, ctx);
  }
}

/**
 * A HEAD answer has no body, so a 403 cannot tell a bad secret from a missing
 * permission: a 1-byte GET of the same object carries the S3 error code.
 */
async function explainForbidden(client: S3Client, bucket: string, key: string, ctx: S3ErrorContext, headErr: unknown): Promise<Error> {
  try {
    const probe = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: 'bytes=0-0' }));
    (probe.Body as { destroy?: () => void } | undefined)?.destroy?.();
  } catch (err) {
    if (httpStatus(err) === 403 && serviceCode(err) !== undefined) return toS3Error(err, ctx);
  }
  return s3Error('PermissionDenied', `${bucket}/${key}: access denied by the store`, ctx, headErr);
}
