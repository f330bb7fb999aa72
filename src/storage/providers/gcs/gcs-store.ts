/**
 * The Google Cloud Storage object store (provider `google`), on the official
 * SDK (`@google-cloud/storage`) with its retries off: a separate retry layer
 * wraps every store.
 *
 * Uploads are one multipart request when small, a resumable session otherwise
 * (see gcs-upload.ts); `ifNoneMatch` sends `ifGenerationMatch: 0`, atomic on
 * GCS, and also checks existence first so that servers ignoring the
 * precondition (the firebase-tools emulator) still refuse in the common case. Multipart uploads are emulated with hidden part
 * objects and compose (see gcs-multipart.ts).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { addAbortSignal, type Readable } from 'node:stream';
import type { Storage } from '@google-cloud/storage';
import {
  bodyStream,
  type GetOptions, type GetResult, type ListOptions, type ListPage, type MultipartUpload, type ObjectInfo, type ObjectStore, type PutBody,
  type PutOptions, type StoreCapabilities,
} from '../../object-store.ts';
import { isStorageError } from '../../errors.ts';
import { contentTypeFor } from '../../content-type.ts';
import { GCS_PROVIDER, gcsError, guard, throwIfAborted, type GcsErrorContext } from './gcs-errors.ts';
import {
  checkNumbers, createStorageClient, DEFAULT_SIMPLE_UPLOAD_MAX_SIZE, loadServiceAccount, parseServiceAccount, resolveGcsEndpoint, type GcsStoreOptions, type ServiceAccount,
} from './gcs-config.ts';
import { checkDeclaredSize, checkKey, GCS_MAX_OBJECT_SIZE, objectInfo, resolveRange, type GcsObjectMetadata } from './gcs-objects.ts';
import { BucketRegistry } from './gcs-buckets.ts';
import { listPage } from './gcs-list.ts';
import { uploadObject } from './gcs-upload.ts';
import { download } from './gcs-download.ts';
import { GcsMultipartUpload, sweepParts, type MultipartHost } from './gcs-multipart.ts';
import { existsViaHead } from '../../exists-via-head.ts';

const CAPABILITIES: StoreCapabilities = Object.freeze({
  multipart: true,
  serverSideCopy: true,
  conditionalPut: true,
  presignedUrls: false,
  maxObjectSize: GCS_MAX_OBJECT_SIZE,
});

/** The GCS store, with its endpoint and housekeeping of abandoned multipart parts. */
export interface GcsStore extends ObjectStore {
  /** API base URL in use. */
  readonly endpoint: string;
  /**
   * Deletes the parts of multipart uploads of `bucket` untouched for
   * `olderThanMs` (default 24 h), left by crashed processes; returns how many
   * uploads were removed. Uploads open in this store instance are kept.
   */
  sweepParts(bucket: string, options?: { readonly olderThanMs?: number | undefined }): Promise<number>;
}

/**
 * Creates a GCS store. The service-account file is read and validated now
 * (`ConfigInvalid` naming the path and field); nothing is sent to GCS until the
 * first operation.
 */
export function createGcsStore(options: GcsStoreOptions): GcsStore {
  checkNumbers(options);
  const endpoint = resolveGcsEndpoint(options.endpoint);
  const account = serviceAccountOf(options);
  const uploads = { chunkSize: options.uploadChunkSize, simpleMaxSize: options.simpleUploadMaxSize ?? DEFAULT_SIMPLE_UPLOAD_MAX_SIZE };
  return new GcsObjectStore(createStorageClient(endpoint, options, account), endpoint, uploads);
}

function serviceAccountOf(o: GcsStoreOptions): ServiceAccount | undefined {
  if (o.credentialsJson !== undefined && o.credentialsJson !== '') return parseServiceAccount(o.credentialsJson, 'credentials_json');
  return o.credentialsPath === undefined || o.credentialsPath === '' ? undefined : loadServiceAccount(o.credentialsPath);
}

/** How the store sends bodies (see {@link GcsStoreOptions}). */
interface UploadSettings {
  readonly chunkSize: number | undefined;
  readonly simpleMaxSize: number;
}

interface UploadOptions {
  readonly size?: number | undefined;
  readonly contentType: string;
  readonly ifGenerationMatch?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

class GcsObjectStore implements GcsStore {
  readonly provider = GCS_PROVIDER;
  readonly capabilities = CAPABILITIES;
  readonly endpoint: string;
  readonly #storage: Storage;
  readonly #buckets: BucketRegistry;
  readonly #uploadSettings: UploadSettings;
  readonly #uploads = new Map<string, GcsMultipartUpload>();
  /** Shared by this store's uploads: set once the server answered 501 to compose. */
  readonly #compose = { unsupported: false };

  constructor(storage: Storage, endpoint: string, uploadSettings: UploadSettings) {
    this.#storage = storage;
    this.endpoint = endpoint;
    this.#buckets = new BucketRegistry(storage, endpoint);
    this.#uploadSettings = uploadSettings;
  }

  get(bucket: string, key: string, options: GetOptions = {}): Promise<GetResult> {
    const ctx = this.#ctx(bucket, key);
    return guard(ctx, async () => {
      checkKey(key);
      throwIfAborted(options.signal, ctx);
      // Undefined: the generation was replaced between metadata and download; read the new one.
      const result = (await this.#open(bucket, key, options, ctx)) ?? (await this.#open(bucket, key, options, ctx));
      if (result === undefined) throw gcsError('NotFound', `${bucket}/${key}: not found`, ctx);
      if (options.signal !== undefined) addAbortSignal(options.signal, result.body);
      return result;
    });
  }

  head(bucket: string, key: string): Promise<ObjectInfo> {
    const ctx = this.#ctx(bucket, key);
    return guard(ctx, async () => {
      checkKey(key);
      return objectInfo(bucket, key, await this.#metadata(bucket, key), ctx);
    });
  }

  exists(bucket: string, key: string): Promise<boolean> {
    return existsViaHead(() => this.head(bucket, key));
  }

  put(bucket: string, key: string, body: PutBody, options: PutOptions = {}): Promise<ObjectInfo> {
    const ctx = this.#ctx(bucket, key, true);
    return guard(ctx, async () => {
      checkKey(key);
      checkDeclaredSize(options.size, ctx);
      throwIfAborted(options.signal, ctx);
      await this.#buckets.require(bucket, true);
      if (options.ifNoneMatch === true) await this.#assertAbsent(bucket, key, ctx);
      const meta = await this.#upload(bucket, key, bodyStream(body), this.#uploadOptions(key, options, options.size), ctx);
      return objectInfo(bucket, key, meta, ctx);
    });
  }

  putFile(bucket: string, key: string, filePath: string, options: PutOptions = {}): Promise<ObjectInfo> {
    const ctx = this.#ctx(bucket, key, true);
    return guard(ctx, async () => {
      checkKey(key);
      const st = await stat(filePath).catch(() => undefined);
      if (st?.isFile() !== true) throw gcsError('NotFound', `source file ${filePath} not found or not a regular file`, ctx);
      checkDeclaredSize(st.size, ctx);
      if (options.size !== undefined && st.size !== options.size) {
        throw gcsError('Corrupt', `file has ${st.size} bytes, ${options.size} were declared`, ctx);
      }
      await this.#buckets.require(bucket, true);
      if (options.ifNoneMatch === true) await this.#assertAbsent(bucket, key, ctx);
      const body = createReadStream(filePath, { highWaterMark: 1 << 20 });
      const meta = await this.#upload(bucket, key, body, this.#uploadOptions(key, options, st.size), ctx);
      // Same outcome as the local store, which moves the file in: the caller's copy is gone.
      await rm(filePath, { force: true });
      return objectInfo(bucket, key, meta, ctx);
    });
  }

  list(bucket: string, options: ListOptions = {}): Promise<ListPage> {
    const ctx = this.#ctx(bucket);
    return guard(ctx, async () => {
      await this.#buckets.require(bucket, false);
      return listPage(this.#storage.bucket(bucket), options, ctx);
    });
  }

  copy(srcBucket: string, srcKey: string, dstBucket: string, dstKey: string): Promise<ObjectInfo> {
    const src = this.#ctx(srcBucket, srcKey);
    const dst = this.#ctx(dstBucket, dstKey, true);
    return guard(dst, async () => {
      checkKey(srcKey);
      checkKey(dstKey);
      await guard(src, () => this.#buckets.require(srcBucket, false));
      await this.#buckets.require(dstBucket, true);
      const target = this.#storage.bucket(dstBucket).file(dstKey);
      // A 404 here is the source: the destination bucket was just checked.
      const [, response] = await guard(src, () => this.#storage.bucket(srcBucket).file(srcKey).copy(target));
      const resource = (response as { resource?: GcsObjectMetadata } | undefined)?.resource;
      const meta = resource?.size === undefined ? (await target.getMetadata())[0] : resource;
      return objectInfo(dstBucket, dstKey, meta as GcsObjectMetadata, dst);
    });
  }

  delete(bucket: string, key: string): Promise<void> {
    const ctx = this.#ctx(bucket, key);
    return guard(ctx, async () => {
      checkKey(key);
      await this.#buckets.require(bucket, false);
      await this.#storage.bucket(bucket).file(key).delete({ ignoreNotFound: true });
    });
  }

  createMultipart(bucket: string, key: string, options: PutOptions = {}): Promise<MultipartUpload> {
    const ctx = this.#ctx(bucket, key, true);
    return guard(ctx, async () => {
      checkKey(key);
      throwIfAborted(options.signal, ctx);
      await this.#buckets.require(bucket, true);
      const uploadId = randomBytes(16).toString('hex');
      const upload = new GcsMultipartUpload(this.#multipartHost(bucket, key, uploadId, options, ctx));
      this.#uploads.set(uploadId, upload);
      return upload;
    });
  }

  ensureBucket(bucket: string): Promise<void> {
    return guard(this.#ctx(bucket, undefined, true), () => this.#buckets.ensure(bucket));
  }

  /** Aborts the multipart uploads still open in this instance (they cannot be resumed). */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#uploads.values()].map((upload) => upload.abort()));
  }

  sweepParts(bucket: string, options: { readonly olderThanMs?: number | undefined } = {}): Promise<number> {
    return guard(this.#ctx(bucket), async () => {
      await this.#buckets.require(bucket, false);
      const cutoff = Date.now() - (options.olderThanMs ?? 24 * 3600_000);
      return sweepParts(this.#storage.bucket(bucket), cutoff, (uploadId) => this.#uploads.has(uploadId));
    });
  }

  #ctx(bucket: string, key?: string, write = false): GcsErrorContext {
    return { bucket, key, endpoint: this.endpoint, write };
  }

  /**
   * Metadata, then the bytes of exactly the generation it describes (so the two
   * always match); undefined when that generation is gone by the download.
   */
  async #open(bucket: string, key: string, options: GetOptions, ctx: GcsErrorContext): Promise<GetResult | undefined> {
    const meta = await this.#metadata(bucket, key);
    const info = objectInfo(bucket, key, meta, ctx);
    const range = options.range === undefined ? undefined : resolveRange(options.range, info.size, ctx);
    const file = this.#storage.bucket(bucket).file(key, meta.generation === undefined ? {} : { generation: meta.generation });
    try {
      const body = await download(file, range, ctx);
      return range === undefined ? { info, body } : { info, body, range };
    } catch (err) {
      if (isStorageError(err, 'NotFound') && meta.generation !== undefined) return undefined;
      throw err;
    }
  }

  async #metadata(bucket: string, key: string): Promise<GcsObjectMetadata> {
    await this.#buckets.require(bucket, false);
    const [meta] = await this.#storage.bucket(bucket).file(key).getMetadata();
    return meta as GcsObjectMetadata;
  }

  async #assertAbsent(bucket: string, key: string, ctx: GcsErrorContext): Promise<void> {
    const [exists] = await this.#storage.bucket(bucket).file(key).exists();
    if (exists) throw gcsError('PreconditionFailed', `${bucket}/${key}: the object already exists`, ctx);
  }

  #uploadOptions(key: string, options: PutOptions, size: number | undefined): UploadOptions {
    return {
      size,
      contentType: options.contentType ?? contentTypeFor(key),
      ifGenerationMatch: options.ifNoneMatch === true ? 0 : undefined,
      signal: options.signal,
    };
  }

  #upload(bucket: string, key: string, body: Readable, options: UploadOptions, ctx: GcsErrorContext): Promise<GcsObjectMetadata> {
    const file = this.#storage.bucket(bucket).file(key);
    return uploadObject({ file, ...options, ...this.#uploadSettings, ctx }, body);
  }

  #multipartHost(bucket: string, key: string, uploadId: string, options: PutOptions, ctx: GcsErrorContext): MultipartHost {
    return {
      bucket: this.#storage.bucket(bucket),
      key,
      uploadId,
      contentType: options.contentType ?? contentTypeFor(key),
      ifNoneMatch: options.ifNoneMatch === true,
      signal: options.signal,
      endpoint: this.endpoint,
      upload: (name: string, body: Readable, size: number, contentType: string, ifGenerationMatch?: number) =>
        this.#upload(bucket, name, body, { size, contentType, ifGenerationMatch, signal: options.signal }, { ...ctx, key: name }),
      compose: this.#compose,
      done: () => this.#uploads.delete(uploadId),
    };
  }
}
