/**
 * The Azure Blob store (provider `azure`): bucket `b` is the container `b`
 * and key `k` the block blob `k`. Every SDK error is mapped in
 * azure-errors.ts; the SDK never retries (a retry layer wraps every store).
 */
import { existsViaHead } from '../../exists-via-head.ts';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { addAbortSignal, type Readable } from 'node:stream';
import type { BlobClient, BlockBlobClient, ContainerClient } from '@azure/storage-blob';
import {
  bodyStream,
  type GetOptions, type GetResult, type ListOptions, type ListPage, type MultipartUpload, type ObjectInfo, type ObjectStore, type PutBody,
  type PutOptions, type StoreCapabilities,
} from '../../object-store.ts';
import { isStorageError } from '../../errors.ts';
import { validateBucket, validateKey } from '../../keys.ts';
import { contentTypeFor } from '../../content-type.ts';
import { azureError, isOpaqueForbidden, toAzureError, type AzureErrorContext } from './azure-errors.ts';
import { connectAzure, type AzureConnection } from './azure-client.ts';
import { AZURE_PROVIDER, type AzureStoreOptions } from './options.ts';
import { objectInfo, signalOption } from './object-info.ts';
import { listContainer } from './list.ts';
import { MAX_BLOCK_BYTES, MAX_BLOCKS, newBlockPrefix, uploadBlocks } from './upload.ts';
import { AzureMultipartUpload } from './multipart.ts';
import { parseContentRange, resolveRange } from './ranges.ts';

/** Largest block blob: 50,000 blocks of 4000 MiB (≈ 190.7 TiB), reachable with multipart uploads. */
export const AZURE_MAX_OBJECT_SIZE = MAX_BLOCKS * MAX_BLOCK_BYTES;

const MiB = 1024 * 1024;
const DEFAULT_BLOCK_BYTES = 8 * MiB;
// `put` buffers its blocks, so it never uses blocks larger than this (≈ 4.8 TiB per put).
const MAX_PUT_BLOCK_BYTES = 100 * MiB;
const DEFAULT_CONCURRENCY = 4;
const AZURE_CONTAINER = /^[a-z0-9](?:[a-z0-9]|-(?!-)){1,61}[a-z0-9]$/u;

const CAPABILITIES: StoreCapabilities = Object.freeze({
  multipart: true,
  serverSideCopy: true,
  conditionalPut: true,
  presignedUrls: false,
  maxObjectSize: AZURE_MAX_OBJECT_SIZE,
});

/**
 * Creates an Azure Blob store. Options are checked at once (`ConfigInvalid`);
 * nothing is sent until the first operation. `close()` releases the sockets.
 */
export function createAzureStore(options: AzureStoreOptions): ObjectStore {
  return new AzureObjectStore(options);
}

class AzureObjectStore implements ObjectStore {
  readonly provider = AZURE_PROVIDER;
  readonly capabilities = CAPABILITIES;
  readonly #conn: AzureConnection;
  readonly #blockSize: number;
  readonly #concurrency: number;

  constructor(options: AzureStoreOptions) {
    this.#conn = connectAzure(options);
    this.#blockSize = positiveInt(options.blockSizeBytes, DEFAULT_BLOCK_BYTES, MAX_PUT_BLOCK_BYTES, 'blockSizeBytes');
    this.#concurrency = positiveInt(options.uploadConcurrency, DEFAULT_CONCURRENCY, 64, 'uploadConcurrency');
  }

  get(bucket: string, key: string, options: GetOptions = {}): Promise<GetResult> {
    return this.#run({ bucket, key, op: 'read' }, async () => {
      const blob = this.#blob(bucket, key);
      const want = options.range === undefined ? undefined : resolveRange(options.range, { bucket, key });
      const res = await blob.download(want?.offset ?? 0, want?.count, { ...signalOption(options.signal), maxRetryRequests: 0 });
      const body = res.readableStreamBody as Readable | undefined;
      if (body === undefined) throw azureError('Internal', `${bucket}/${key}: Azure sent no body`, { bucket, key });
      const served = parseContentRange(res.contentRange);
      const size = served?.total ?? res.contentLength ?? 0;
      const info = objectInfo(bucket, key, res, size);
      if (want === undefined) return { info, body: withSignal(body, options.signal) };
      // Azurite answers 206 with an empty body instead of 416 for a start past the end.
      if (want.offset >= size) {
        body.destroy();
        throw azureError('InvalidRange', `range starts at ${want.offset} but the object has ${size} bytes`, { bucket, key });
      }
      const range = { start: served?.start ?? 0, end: served?.end ?? size - 1 };
      return { info, body: withSignal(body, options.signal), range };
    });
  }

  head(bucket: string, key: string): Promise<ObjectInfo> {
    return this.#run({ bucket, key, op: 'read' }, async () => {
      const blob = this.#blob(bucket, key);
      try {
        return objectInfo(bucket, key, await blob.getProperties());
      } catch (err) {
        throw isOpaqueForbidden(err) ? await explainForbidden(blob, err) : err;
      }
    });
  }

  exists(bucket: string, key: string): Promise<boolean> {
    return existsViaHead(() => this.head(bucket, key));
  }

  put(bucket: string, key: string, body: PutBody, options: PutOptions = {}): Promise<ObjectInfo> {
    return this.#run({ bucket, key, op: 'write', write: true }, () => this.#upload(bucket, key, bodyStream(body), options, options.size));
  }

  putFile(bucket: string, key: string, filePath: string, options: PutOptions = {}): Promise<ObjectInfo> {
    return this.#run({ bucket, key, op: 'write', write: true }, async () => {
      this.#blob(bucket, key);
      const st = await stat(filePath).catch(() => undefined);
      if (st?.isFile() !== true) throw azureError('NotFound', `source file ${filePath} not found or not a regular file`, { bucket, key });
      if (options.size !== undefined && options.size !== st.size) {
        throw azureError('Corrupt', `file has ${st.size} bytes, ${options.size} were declared`, { bucket, key });
      }
      // The file stays where it is: the caller removes it (and may retry with it).
      return this.#upload(bucket, key, createReadStream(filePath, { highWaterMark: MiB }), options, st.size);
    });
  }

  list(bucket: string, options: ListOptions = {}): Promise<ListPage> {
    return this.#run({ bucket, op: 'list' }, () => listContainer(this.#container(bucket), bucket, options));
  }

  async copy(srcBucket: string, srcKey: string, dstBucket: string, dstKey: string): Promise<ObjectInfo> {
    const dst = { bucket: dstBucket, key: dstKey, op: 'copy', write: true };
    const target = await this.#run(dst, async () => this.#blob(dstBucket, dstKey));
    const source = await this.head(srcBucket, srcKey);
    const src = this.#blob(srcBucket, srcKey);
    return this.#run(dst, async () => {
      try {
        // Copy Blob within the account: shared-key requests authorise the source themselves; with a
        // SAS the source URL carries the same token. Small blobs complete synchronously.
        const poller = await target.beginCopyFromURL(src.url, { intervalInMs: 250 });
        const done = await poller.pollUntilDone();
        if (done.copyStatus !== undefined && done.copyStatus !== 'success') {
          throw azureError('Internal', `copy to ${dstBucket}/${dstKey} ended with status ${done.copyStatus}`, dst);
        }
      } catch (err) {
        // After the source was found, a 404 other than the container's means the source vanished.
        if (!isStorageError(err) && isNotFound(err)) throw toAzureError(err, { bucket: srcBucket, key: srcKey, op: 'read' }, this.#conn.scope);
        throw err;
      }
      const props = await target.getProperties();
      return objectInfo(dstBucket, dstKey, { ...props, contentType: props.contentType ?? source.contentType });
    });
  }

  delete(bucket: string, key: string): Promise<void> {
    return this.#run({ bucket, key, op: 'delete', write: true }, async () => {
      await this.#blob(bucket, key).deleteIfExists({ deleteSnapshots: 'include' });
    });
  }

  createMultipart(bucket: string, key: string, options: PutOptions = {}): Promise<MultipartUpload> {
    return this.#run({ bucket, key, op: 'write', write: true }, async () => {
      const blob = this.#blob(bucket, key);
      return new AzureMultipartUpload({
        bucket,
        key,
        uploadId: newBlockPrefix(),
        blob,
        contentType: options.contentType ?? contentTypeFor(key),
        ifNoneMatch: options.ifNoneMatch === true,
        signal: options.signal,
        guard: (op, fn) => this.#run({ bucket, key, op, write: true }, fn),
      });
    });
  }

  ensureBucket(bucket: string): Promise<void> {
    return this.#run({ bucket, op: 'create container', write: true }, async () => {
      const container = this.#container(bucket);
      try {
        await container.createIfNotExists();
      } catch (err) {
        // A SAS may read an existing container without the right to create one.
        if (!(await container.exists().catch(() => false))) throw err;
      }
    });
  }

  async close(): Promise<void> {
    this.#conn.close();
  }

  async #upload(bucket: string, key: string, body: Readable, options: PutOptions, size: number | undefined): Promise<ObjectInfo> {
    const ctx = { bucket, key };
    const blob = this.#blob(bucket, key);
    if (size !== undefined && size > MAX_PUT_BLOCK_BYTES * MAX_BLOCKS) {
      throw azureError('TooLarge', `object of ${size} bytes is too large for a single put; use a multipart upload`, ctx);
    }
    if (options.signal?.aborted === true) throw azureError('Internal', `${bucket}/${key}: operation aborted`, ctx, options.signal.reason as Error);
    const ifNoneMatch = options.ifNoneMatch === true;
    // Fail fast rather than upload a body for nothing; the commit's condition is the real guard.
    if (ifNoneMatch && (await blob.exists().catch(() => false))) throw azureError('PreconditionFailed', `${bucket}/${key} already exists`, ctx);
    const contentType = options.contentType ?? contentTypeFor(key);
    const res = await uploadBlocks(blob, body, {
      blockSize: size === undefined ? this.#blockSize : Math.min(MAX_PUT_BLOCK_BYTES, Math.max(this.#blockSize, Math.ceil(size / MAX_BLOCKS))),
      concurrency: this.#concurrency,
      declaredSize: size,
      signal: options.signal,
      headers: { blobContentType: contentType },
      conditions: ifNoneMatch ? { ifNoneMatch: '*' } : {},
      ctx,
    });
    return objectInfo(bucket, key, { ...res, contentType }, res.size);
  }

  #container(bucket: string): ContainerClient {
    validateBucket(bucket);
    if (!AZURE_CONTAINER.test(bucket)) {
      throw azureError('InvalidKey', `Invalid container name ${JSON.stringify(bucket)}: Azure allows 3-63 lowercase letters, digits and single hyphens`, { bucket });
    }
    return this.#conn.service.getContainerClient(bucket);
  }

  #blob(bucket: string, key: string): BlockBlobClient {
    validateKey(key);
    return this.#container(bucket).getBlockBlobClient(key);
  }

  async #run<T>(ctx: AzureErrorContext, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toAzureError(err, ctx, this.#conn.scope);
    }
  }
}

/** A HEAD has no body: ask again with a 1-byte GET, whose error says whether the key or a permission is wrong. */
async function explainForbidden(blob: BlobClient, original: unknown): Promise<unknown> {
  try {
    const res = await blob.download(0, 1, { maxRetryRequests: 0 });
    res.readableStreamBody?.resume();
    return original;
  } catch (err) {
    return err;
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { statusCode?: unknown; code?: unknown; details?: { errorCode?: unknown } };
  return e.statusCode === 404 && e.code !== 'ContainerNotFound' && e.details?.errorCode !== 'ContainerNotFound';
}

function withSignal(body: Readable, signal: AbortSignal | undefined): Readable {
  return signal === undefined ? body : addAbortSignal(signal, body);
}

function positiveInt(value: number | undefined, fallback: number, max: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1 || value > max) throw azureError('ConfigInvalid', `${name} must be an integer from 1 to ${max}`, {});
  return value;
}
