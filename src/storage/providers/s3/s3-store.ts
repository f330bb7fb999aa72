/**
 * The S3-compatible object store (provider `minio`): AWS S3, MinIO, Ceph
 * radosgw and the like, through the AWS SDK v3. Bucket and key map 1:1 onto
 * the store's, so a local store's folders copied into buckets are a valid
 * migration. Every failure is a `StorageError` (see ./errors.ts); the SDK
 * never retries (the retry layer wrapping every store does).
 */
import { existsViaHead } from '../../exists-via-head.ts';
import { addAbortSignal, type Readable } from 'node:stream';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  type BucketLocationConstraint,
  type S3Client,
} from '@aws-sdk/client-s3';
import type {
  GetOptions,
  GetResult,
  ListOptions,
  ListPage,
  MultipartUpload,
  ObjectInfo,
  ObjectStore,
  PutBody,
  PutOptions,
  StoreCapabilities,
} from '../../object-store.ts';
import { validateBucket, validateKey } from '../../keys.ts';
import { contentTypeFor } from '../../content-type.ts';
import { guard, httpStatus, s3Error, S3_PROVIDER, serviceCode, withSignal, type S3ErrorContext, type S3ErrorEnv } from './errors.ts';
import { createS3Client, type ResolvedEndpoint, type S3StoreOptions, type S3Tuning, tuningOf } from './options.ts';
import { headObject } from './info.ts';
import { readRange, requestedRange } from './ranges.ts';
import { S3MultipartUpload } from './multipart.ts';
import { checkDeclaredSize, putBytes, putFileContents, putStream, S3_MAX_OBJECT_SIZE, sourceSize, type WriteTarget } from './writes.ts';
import { copyObject } from './copy.ts';
import type { DirectPut } from './direct-put.ts';
import { listObjects } from './list.ts';

const CAPABILITIES: StoreCapabilities = Object.freeze({
  multipart: true,
  serverSideCopy: true,
  conditionalPut: true,
  // @aws-sdk/s3-request-presigner is not a dependency of this build.
  presignedUrls: false,
  maxObjectSize: S3_MAX_OBJECT_SIZE,
});

/** The S3 store, with its client for provider-specific operations. */
export interface S3Store extends ObjectStore {
  /** Resolved endpoint URL, for logs (never with credentials). */
  readonly endpoint: string;
  /** The SDK client (cleanup of stale uploads, diagnostics). */
  readonly client: S3Client;
  /** Whether `uploadId` is a multipart upload in progress in this instance. */
  hasOpenUpload(uploadId: string): boolean;
}

/**
 * Creates an S3 store; nothing is sent until the first operation. Unusable
 * settings (no credentials, bad endpoint or port) throw `ConfigInvalid`.
 * `putFile` uploads the file and leaves it in place (the caller removes it).
 */
export function createS3Store(options: S3StoreOptions): S3Store {
  return new S3ObjectStore(options);
}

class S3ObjectStore implements S3Store {
  readonly provider = S3_PROVIDER;
  readonly capabilities = CAPABILITIES;
  readonly client: S3Client;
  readonly tuning: S3Tuning;
  readonly directPut: DirectPut | undefined;
  readonly #endpoint: ResolvedEndpoint;
  readonly #env: S3ErrorEnv;
  readonly #region: string;
  readonly #uploads = new Map<string, S3MultipartUpload>();

  constructor(options: S3StoreOptions) {
    const setup = createS3Client(options);
    this.client = setup.client;
    this.tuning = tuningOf(options);
    this.directPut = setup.directPut;
    this.#endpoint = setup.endpoint;
    this.#region = setup.region;
    this.#env = { endpoint: setup.endpoint.display, credentialsHint: setup.credentialsHint, secrets: setup.secrets };
  }

  get endpoint(): string {
    return this.#endpoint.display;
  }

  hasOpenUpload(uploadId: string): boolean {
    return this.#uploads.has(uploadId);
  }

  #ctx(op: 'read' | 'write', bucket?: string, key?: string): S3ErrorContext {
    return { env: this.#env, op, bucket, key };
  }

  get(bucket: string, key: string, options: GetOptions = {}): Promise<GetResult> {
    const ctx = this.#ctx('read', bucket, key);
    return guard(ctx, async () => {
      validateKey(key);
      const range = options.range === undefined ? undefined : requestedRange(options.range, ctx);
      const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }), withSignal(options.signal));
      const body = out.Body as Readable;
      if (options.signal !== undefined) addAbortSignal(options.signal, body);
      return readRange(out, body, bucket, key, options.range, ctx);
    });
  }

  head(bucket: string, key: string): Promise<ObjectInfo> {
    const ctx = this.#ctx('read', bucket, key);
    return guard(ctx, async () => {
      validateKey(key);
      return headObject(this.client, bucket, key, ctx);
    });
  }

  exists(bucket: string, key: string): Promise<boolean> {
    return existsViaHead(() => this.head(bucket, key));
  }

  put(bucket: string, key: string, body: PutBody, options: PutOptions = {}): Promise<ObjectInfo> {
    const ctx = this.#ctx('write', bucket, key);
    return guard(ctx, async () => {
      validateKey(key);
      checkDeclaredSize(options.size, ctx);
      const target = this.#target(bucket, key, options, ctx);
      return body instanceof Uint8Array ? putBytes(this, target, body) : putStream(this, target, body);
    });
  }

  putFile(bucket: string, key: string, filePath: string, options: PutOptions = {}): Promise<ObjectInfo> {
    const ctx = this.#ctx('write', bucket, key);
    return guard(ctx, async () => {
      validateKey(key);
      const size = await sourceSize(filePath, ctx);
      checkDeclaredSize(size, ctx);
      if (options.size !== undefined && size !== options.size) {
        throw s3Error('Corrupt', `file has ${size} bytes, ${options.size} were declared`, ctx);
      }
      return putFileContents(this, this.#target(bucket, key, options, ctx), filePath, size);
    });
  }

  #target(bucket: string, key: string, options: PutOptions, ctx: S3ErrorContext): WriteTarget {
    return { bucket, key, options, ctx, contentType: options.contentType ?? contentTypeFor(key) };
  }

  list(bucket: string, options: ListOptions = {}): Promise<ListPage> {
    return guard(this.#ctx('read', bucket), () => listObjects(this.client, bucket, options));
  }

  copy(srcBucket: string, srcKey: string, dstBucket: string, dstKey: string): Promise<ObjectInfo> {
    return guard(this.#ctx('write', dstBucket, dstKey), async () => {
      validateKey(srcKey);
      validateKey(dstKey);
      const src = await this.head(srcBucket, srcKey);
      // S3 refuses to copy an object onto itself without changing its metadata; the result is the same object.
      if (srcBucket === dstBucket && srcKey === dstKey) return src;
      return copyObject(this, src, dstBucket, dstKey);
    });
  }

  delete(bucket: string, key: string): Promise<void> {
    return guard(this.#ctx('write', bucket, key), async () => {
      validateKey(key);
      await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    });
  }

  createMultipart(bucket: string, key: string, options: PutOptions = {}): Promise<MultipartUpload> {
    return guard(this.#ctx('write', bucket, key), async () => {
      validateKey(key);
      return this.startMultipart(bucket, key, options, options.contentType ?? contentTypeFor(key));
    });
  }

  /** Starts a multipart upload tracked by this instance (aborted by `close`). */
  async startMultipart(bucket: string, key: string, options: PutOptions, contentType: string): Promise<S3MultipartUpload> {
    const ctx = this.#ctx('write', bucket, key);
    const command = new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType });
    const out = await this.client.send(command, withSignal(options.signal));
    const uploadId = out.UploadId;
    if (uploadId === undefined || uploadId === '') throw s3Error('Internal', 'the store returned no upload id', ctx);
    const upload = new S3MultipartUpload({
      client: this.client,
      bucket,
      key,
      uploadId,
      ctx,
      signal: options.signal,
      ifNoneMatch: options.ifNoneMatch === true,
      done: () => this.#uploads.delete(uploadId),
    });
    this.#uploads.set(uploadId, upload);
    return upload;
  }

  /** Creates the bucket unless it exists; one owned by another account is `ConfigInvalid`. */
  ensureBucket(bucket: string): Promise<void> {
    const ctx = this.#ctx('write', bucket);
    return guard(ctx, async () => {
      validateBucket(bucket);
      try {
        await this.client.send(new HeadBucketCommand({ Bucket: bucket }));
        return;
      } catch (err) {
        // A HEAD 403 has no code: CreateBucket's answer tells a bad secret from a missing permission.
        if (httpStatus(err) !== 404 && httpStatus(err) !== 403) throw err;
      }
      await this.#createBucket(bucket, ctx);
    });
  }

  async #createBucket(bucket: string, ctx: S3ErrorContext): Promise<void> {
    // AWS wants the region named for buckets outside us-east-1; other stores take the default.
    const location = this.#endpoint.aws && this.#region !== 'us-east-1' ? this.#region : undefined;
    try {
      await this.client.send(new CreateBucketCommand({
        Bucket: bucket,
        ...(location === undefined ? {} : { CreateBucketConfiguration: { LocationConstraint: location as BucketLocationConstraint } }),
      }));
    } catch (err) {
      const code = serviceCode(err);
      if (code === 'BucketAlreadyOwnedByYou') return;
      if (code === 'BucketAlreadyExists') throw s3Error('ConfigInvalid', `bucket ${bucket} exists and belongs to another account`, ctx, err);
      throw err;
    }
  }

  /** Aborts the multipart uploads still open in this instance, then releases the connections. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#uploads.values()].map((upload) => upload.abort()));
    this.client.destroy();
  }
}
