/**
 * Native S3 multipart uploads (CreateMultipartUpload / UploadPart /
 * CompleteMultipartUpload / AbortMultipartUpload), used directly by callers
 * and by `putFile` and large copies.
 */
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { MultipartUpload, ObjectInfo, PartInfo } from '../../object-store.ts';
import { isStorageError } from '../../errors.ts';
import { guard, httpStatus, s3Error, serviceCode, withSignal, type S3ErrorContext } from './errors.ts';
import { GuardedBody, sendGuarded } from './body.ts';
import { headObject, quoteEtag } from './info.ts';
import { MAX_PART_SIZE, MAX_PARTS } from './options.ts';

/** What an upload needs from its store. */
export interface UploadSpec {
  readonly client: S3Client;
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly ctx: S3ErrorContext;
  readonly signal?: AbortSignal | undefined;
  /** Complete only if the key is absent. */
  readonly ifNoneMatch: boolean;
  /** Called once the upload is completed or aborted. */
  done(): void;
}

/**
 * One S3 multipart upload. A bad part list (missing or mismatched part,
 * duplicate or no parts) fails `complete` with `PreconditionFailed` and leaves
 * the upload open for `abort`; a part body whose length differs from the
 * declared size is `Corrupt`.
 */
export class S3MultipartUpload implements MultipartUpload {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly #spec: UploadSpec;

  constructor(spec: UploadSpec) {
    this.bucket = spec.bucket;
    this.key = spec.key;
    this.uploadId = spec.uploadId;
    this.#spec = spec;
  }

  uploadPart(partNumber: number, body: Readable, size: number): Promise<PartInfo> {
    const { client, ctx, signal } = this.#spec;
    return guard(ctx, async () => {
      if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
        throw s3Error('InvalidKey', `part number must be an integer from 1 to ${MAX_PARTS}`, ctx);
      }
      if (!Number.isSafeInteger(size) || size < 0 || size > MAX_PART_SIZE) {
        throw s3Error('TooLarge', `a part must have 0 to ${MAX_PART_SIZE} bytes, got ${size}`, ctx);
      }
      const guarded = new GuardedBody(body, { expectedSize: size, maxSize: size, tooLarge: 'part too large', signal }, ctx);
      const out = await sendGuarded(guarded, (b, abortSignal) => client.send(new UploadPartCommand({
        Bucket: this.bucket, Key: this.key, UploadId: this.uploadId, PartNumber: partNumber, Body: b, ContentLength: size,
      }), { abortSignal }));
      return { partNumber, etag: quoteEtag(out.ETag), size };
    });
  }

  complete(parts: readonly PartInfo[]): Promise<ObjectInfo> {
    const { client, ctx, signal } = this.#spec;
    return guard(ctx, async () => {
      const ordered = checkPartList(parts, ctx);
      // radosgw ignores If-None-Match on completion: check first, and send the header for stores that enforce it.
      if (this.#spec.ifNoneMatch) await assertAbsent(client, this.bucket, this.key, ctx);
      await client.send(new CompleteMultipartUploadCommand({
        Bucket: this.bucket,
        Key: this.key,
        UploadId: this.uploadId,
        MultipartUpload: { Parts: ordered.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        ...(this.#spec.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
      }), withSignal(signal));
      this.#spec.done();
      // The response has no size or date, and radosgw's has no ETag either.
      return headObject(client, this.bucket, this.key, { ...ctx, op: 'read' });
    });
  }

  /** Discards the parts; harmless when already completed or aborted. */
  abort(): Promise<void> {
    const { client, ctx } = this.#spec;
    return guard(ctx, async () => {
      try {
        await client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId }));
      } catch (err) {
        if (serviceCode(err) !== 'NoSuchUpload' && httpStatus(err) !== 404) throw err;
      }
      this.#spec.done();
    });
  }
}

/** Parts in ascending order; `PreconditionFailed` for an empty list or a duplicate. */
function checkPartList(parts: readonly PartInfo[], ctx: S3ErrorContext): PartInfo[] {
  if (parts.length === 0) throw s3Error('PreconditionFailed', 'a multipart upload needs at least one part', ctx);
  const ordered = [...parts].sort((a, b) => a.partNumber - b.partNumber);
  for (let i = 1; i < ordered.length; i++) {
    if (ordered[i]?.partNumber === ordered[i - 1]?.partNumber) {
      throw s3Error('PreconditionFailed', `part ${ordered[i]?.partNumber} is listed twice`, ctx);
    }
  }
  return ordered;
}

/** `PreconditionFailed` when `bucket/key` exists (a fast check; the store's If-None-Match is the real guard). */
export async function assertAbsent(client: S3Client, bucket: string, key: string, ctx: S3ErrorContext): Promise<void> {
  try {
    await headObject(client, bucket, key, { ...ctx, op: 'read' });
  } catch (err) {
    if (isStorageError(err, 'NotFound')) return;
    throw err;
  }
  throw s3Error('PreconditionFailed', `${bucket}/${key} already exists`, ctx);
}

/**
 * Runs `tasks` with at most `concurrency` in flight; the first failure stops
 * starting new ones and is rethrown once the running ones have settled.
 */
export async function runLimited<T>(tasks: readonly (() => Promise<T>)[], concurrency: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  let failure: { err: unknown } | undefined;
  async function worker(): Promise<void> {
    while (failure === undefined && next < tasks.length) {
      const index = next++;
      try {
        results[index] = await (tasks[index] as () => Promise<T>)();
      } catch (err) {
        failure ??= { err };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, worker));
  if (failure !== undefined) throw failure.err;
  return results;
}
