/**
 * Cleanup of multipart uploads left open by crashed processes: S3 keeps (and
 * bills) their parts until they are aborted. Uploads in progress in the given
 * store instance are never touched.
 */
import { AbortMultipartUploadCommand } from '@aws-sdk/client-s3';
import { guard, httpStatus, serviceCode } from './errors.ts';
import { listUploadsBefore, type StaleMultipartUpload } from './list.ts';
import type { S3Store } from './s3-store.ts';

export type { StaleMultipartUpload };

function cutoffOf(olderThanMs: number): Date {
  return new Date(Date.now() - Math.max(0, olderThanMs));
}

function context(store: S3Store, bucket: string): Parameters<typeof guard>[0] {
  return { env: { endpoint: store.endpoint, credentialsHint: 'the storage credentials', secrets: [] }, op: 'read', bucket };
}

/** The multipart uploads of `bucket` started more than `olderThanMs` ago and not in progress in `store`. */
export function listStaleMultipartUploads(store: S3Store, bucket: string, olderThanMs: number): Promise<StaleMultipartUpload[]> {
  return guard(context(store, bucket), async () => {
    const uploads = await listUploadsBefore(store.client, bucket, cutoffOf(olderThanMs));
    return uploads.filter((u) => !store.hasOpenUpload(u.uploadId));
  });
}

/** Aborts the uploads {@link listStaleMultipartUploads} finds; returns how many were aborted. */
export async function abortStaleMultipartUploads(store: S3Store, bucket: string, olderThanMs: number): Promise<number> {
  const stale = await listStaleMultipartUploads(store, bucket, olderThanMs);
  let aborted = 0;
  for (const u of stale) {
    await guard({ ...context(store, bucket), op: 'write', key: u.key }, async () => {
      try {
        await store.client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.key, UploadId: u.uploadId }));
        aborted++;
      } catch (err) {
        // Completed or aborted meanwhile: nothing left to clean.
        if (serviceCode(err) !== 'NoSuchUpload' && httpStatus(err) !== 404) throw err;
      }
    });
  }
  return aborted;
}
