/**
 * Listing with ListObjectsV2, and the listing of stale multipart uploads
 * (ListMultipartUploads) for cleanup.
 */
import { ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { ListOptions, ListPage, ObjectInfo } from '../../object-store.ts';
import { isValidKey } from '../../keys.ts';
import { quoteEtag } from './info.ts';

/** Largest and default page size (S3's). */
export const MAX_LIST_KEYS = 1000;

function pageSize(maxKeys: number | undefined): number {
  if (maxKeys === undefined || !Number.isFinite(maxKeys)) return MAX_LIST_KEYS;
  return Math.min(MAX_LIST_KEYS, Math.max(1, Math.floor(maxKeys)));
}

/**
 * One page of `bucket`. Keys that no store would accept (see `validateKey`;
 * written by other tools) are left out, as the local store does, so every
 * listed key can be read.
 */
export async function listObjects(client: S3Client, bucket: string, options: ListOptions): Promise<ListPage> {
  const out = await client.send(new ListObjectsV2Command({
    Bucket: bucket,
    Prefix: options.prefix === '' ? undefined : options.prefix,
    Delimiter: options.delimiter === '' ? undefined : options.delimiter,
    ContinuationToken: options.continuationToken,
    StartAfter: options.startAfter,
    MaxKeys: pageSize(options.maxKeys),
  }));
  const objects: ObjectInfo[] = [];
  for (const o of out.Contents ?? []) {
    if (o.Key === undefined || !isValidKey(o.Key)) continue;
    objects.push({ bucket, key: o.Key, size: o.Size ?? 0, etag: quoteEtag(o.ETag), lastModified: o.LastModified ?? new Date(0) });
  }
  const prefixes = (out.CommonPrefixes ?? []).flatMap((p) => (p.Prefix === undefined ? [] : [p.Prefix]));
  const next = out.IsTruncated === true ? out.NextContinuationToken : undefined;
  return next === undefined || next === '' ? { objects, prefixes } : { objects, prefixes, nextToken: next };
}

/** A multipart upload that was started and never completed or aborted. */
export interface StaleMultipartUpload {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly initiated: Date;
}

/** Every multipart upload of `bucket` initiated before `cutoff` (all pages). */
export async function listUploadsBefore(client: S3Client, bucket: string, cutoff: Date): Promise<StaleMultipartUpload[]> {
  const stale: StaleMultipartUpload[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const out = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
    for (const u of out.Uploads ?? []) {
      if (u.Key === undefined || u.UploadId === undefined || u.Initiated === undefined) continue;
      if (u.Initiated <= cutoff) stale.push({ bucket, key: u.Key, uploadId: u.UploadId, initiated: u.Initiated });
    }
    if (out.IsTruncated !== true || (out.NextKeyMarker === keyMarker && out.NextUploadIdMarker === uploadIdMarker)) return stale;
    keyMarker = out.NextKeyMarker;
    uploadIdMarker = out.NextUploadIdMarker;
  }
}
