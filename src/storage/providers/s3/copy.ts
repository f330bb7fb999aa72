/**
 * Server-side copies: one CopyObject up to 5 GiB, multipart UploadPartCopy
 * beyond (CopyObject's limit). Every request is conditional on the source's
 * ETag, so all parts come from the same version and the reported size is right.
 */
import { CopyObjectCommand, UploadPartCopyCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectInfo, PartInfo } from '../../object-store.ts';
import { quoteEtag } from './info.ts';
import { runLimited, type S3MultipartUpload } from './multipart.ts';
import { MAX_PARTS, type S3Tuning } from './options.ts';

/** What a copy needs from its store. */
export interface CopyCore {
  readonly client: S3Client;
  readonly tuning: S3Tuning;
  startMultipart(bucket: string, key: string, options: object, contentType: string): Promise<S3MultipartUpload>;
}

/** `x-amz-copy-source`: bucket and key, URL-encoded segment by segment. */
export function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** Copies `src` (whose metadata was just read) to `dstBucket/dstKey`. */
export async function copyObject(core: CopyCore, src: ObjectInfo, dstBucket: string, dstKey: string): Promise<ObjectInfo> {
  if (src.size > core.tuning.copyThreshold) return copyMultipart(core, src, dstBucket, dstKey);
  const out = await core.client.send(new CopyObjectCommand({
    Bucket: dstBucket,
    Key: dstKey,
    CopySource: copySource(src.bucket, src.key),
    CopySourceIfMatch: src.etag,
  }));
  const result = out.CopyObjectResult;
  return {
    bucket: dstBucket,
    key: dstKey,
    size: src.size,
    etag: quoteEtag(result?.ETag ?? src.etag),
    lastModified: result?.LastModified ?? new Date(),
    contentType: src.contentType,
  };
}

async function copyMultipart(core: CopyCore, src: ObjectInfo, dstBucket: string, dstKey: string): Promise<ObjectInfo> {
  const partSize = Math.max(core.tuning.copyPartSize, Math.ceil(src.size / MAX_PARTS));
  const upload = await core.startMultipart(dstBucket, dstKey, {}, src.contentType ?? 'application/octet-stream');
  try {
    const tasks = Array.from({ length: Math.ceil(src.size / partSize) }, (_, i) => async (): Promise<PartInfo> => {
      const start = i * partSize;
      const end = Math.min(start + partSize, src.size) - 1;
      const out = await core.client.send(new UploadPartCopyCommand({
        Bucket: dstBucket,
        Key: dstKey,
        UploadId: upload.uploadId,
        PartNumber: i + 1,
        CopySource: copySource(src.bucket, src.key),
        CopySourceRange: `bytes=${start}-${end}`,
        CopySourceIfMatch: src.etag,
      }));
      return { partNumber: i + 1, etag: quoteEtag(out.CopyPartResult?.ETag), size: end - start + 1 };
    });
    // Copies run inside the store: a few in flight keep it busy without buffering anything here.
    return await upload.complete(await runLimited(tasks, core.tuning.queueSize));
  } catch (err) {
    await upload.abort().catch(() => undefined);
    throw err;
  }
}
