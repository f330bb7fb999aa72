/**
 * The storage cache as a layer around any {@link ObjectStore}: reads go
 * through a {@link DiskCache}, writes through the layer invalidate. It keeps
 * the store's contract (the conformance suite runs on it).
 *
 * Freshness: content-addressed keys (see {@link isImmutableKey}) cannot
 * change, so their entries are served as they are; any other entry is
 * revalidated by a HEAD of the store, and served only while the ETag matches.
 *
 * Ranges: a cached object serves any range. For an uncached one, a range that
 * runs to the end of an object of at most `rangePassThroughBytes` (what video
 * players ask for: `bytes=0-`, `bytes=N-`) fills the whole object, streamed to
 * the caller as it arrives; any other range (a bounded read, such as the
 * header reads that describe linked files) and every range of a larger object
 * is passed through to the store, so seeking in a long video starts at once.
 */
import type { Readable } from 'node:stream';
import { isStorageError, StorageError } from '../storage/errors.ts';
import type { GetOptions, GetResult, MultipartUpload, ObjectInfo, ObjectStore, PartInfo } from '../storage/object-store.ts';
import { resolveRange, type CacheEntryInfo } from './cache-entry.ts';
import type { DiskCache, FillResult } from './disk-cache.ts';
import { isImmutableKey } from './hot-objects.ts';

/** Ranges of objects above this size are passed through by default: 64 MiB. */
export const DEFAULT_RANGE_PASS_THROUGH_BYTES = 64 * 1024 * 1024;

/** Options of {@link withCache}. */
export interface CacheLayerOptions {
  /** Names the wrapped store in cache keys; stores sharing one cache must differ (`primary`, `conn:<name>`). */
  readonly scope: string;
  /** Range reads of larger objects go to the store and never fill the cache. Default {@link DEFAULT_RANGE_PASS_THROUGH_BYTES}. */
  readonly rangePassThroughBytes?: number | undefined;
  /** Larger objects are never cached, only streamed from the store. Default a quarter of the cache's size. */
  readonly maxObjectBytes?: number | undefined;
}

// Sizes learnt from heads and gets, to choose between filling and passing a range through.
const SIZE_HINTS = 10_000;

/** Raised by a fill that finds the object too large to keep; every caller then reads the store. */
class NotCacheable extends StorageError {
  constructor() {
    super('TooLarge', 'object too large for the cache');
  }
}

/** Wraps `store` with the disk cache `cache`; see the module comment. Closing it closes `store`, not `cache`. */
export function withCache(store: ObjectStore, cache: DiskCache, options: CacheLayerOptions): ObjectStore {
  const layer = new CacheLayer(store, cache, options);
  return {
    provider: store.provider,
    capabilities: store.capabilities,
    get: (b, k, o) => layer.get(b, k, o),
    head: (b, k) => layer.head(b, k),
    exists: (b, k) => layer.exists(b, k),
    put: (b, k, body, o) => layer.write(b, k, () => store.put(b, k, body, o)),
    putFile: (b, k, path, o) => layer.write(b, k, () => store.putFile(b, k, path, o)),
    list: (b, o) => store.list(b, o),
    copy: (sb, sk, db, dk) => layer.write(db, dk, () => store.copy(sb, sk, db, dk)),
    delete: (b, k) => layer.write(b, k, () => store.delete(b, k)),
    createMultipart: async (b, k, o) => layer.upload(await store.createMultipart(b, k, o)),
    ensureBucket: (b) => store.ensureBucket(b),
    close: () => store.close(),
  };
}

class CacheLayer {
  readonly #store: ObjectStore;
  readonly #cache: DiskCache;
  readonly #scope: string;
  readonly #passThrough: number;
  readonly #maxObject: number;
  readonly #heads = new Map<string, Promise<ObjectInfo>>();
  readonly #sizes = new Map<string, number>();

  constructor(store: ObjectStore, cache: DiskCache, o: CacheLayerOptions) {
    this.#store = store;
    this.#cache = cache;
    this.#scope = o.scope;
    this.#passThrough = o.rangePassThroughBytes ?? DEFAULT_RANGE_PASS_THROUGH_BYTES;
    this.#maxObject = o.maxObjectBytes ?? Math.floor(cache.maxBytes / 4);
  }

  async get(bucket: string, key: string, o: GetOptions = {}): Promise<GetResult> {
    const id = this.#id(bucket, key);
    let current: ObjectInfo | undefined;
    const accept = isImmutableKey(key) ? undefined : async (e: CacheEntryInfo) => (current = await this.head(bucket, key)).etag === e.etag;
    const entry = await this.#cache.get(id, { accept });
    if (entry !== undefined) {
      try {
        const range = o.range === undefined ? undefined : resolveRange(o.range, entry.size);
        return this.#result(bucket, key, entry, entry.open(range), range, o.signal);
      } catch (err) {
        entry.release();
        throw err;
      }
    }
    if (!(await this.#fills(bucket, key, o, current?.size))) return this.#direct(bucket, key, o);
    return this.#fill(bucket, key, o, current);
  }

  /** Whether a miss should fill the cache, rather than read the store directly. */
  async #fills(bucket: string, key: string, o: GetOptions, known: number | undefined): Promise<boolean> {
    const id = this.#id(bucket, key);
    let size = known ?? this.#sizes.get(id);
    const range = o.range;
    if (range === undefined) return size === undefined || size <= this.#maxObject;
    if (size === undefined && range.end === undefined) size = (await this.head(bucket, key)).size;
    if (size === undefined || range.start >= size) return false;
    const toEnd = range.end === undefined || range.end >= size - 1;
    return toEnd && size <= Math.min(this.#passThrough, this.#maxObject);
  }

  async #fill(bucket: string, key: string, o: GetOptions, current: ObjectInfo | undefined): Promise<GetResult> {
    const id = this.#id(bucket, key);
    const fill = async (): Promise<FillResult> => {
      // No signal: the fill serves every caller waiting for it, not just this one.
      const got = await this.#store.get(bucket, key);
      this.#learn(id, got.info.size);
      if (got.info.size > this.#maxObject) {
        got.body.destroy();
        throw new NotCacheable();
      }
      const { contentType, etag, lastModified, size } = got.info;
      return { body: got.body, contentType: contentType ?? '', etag, lastModified, size };
    };
    try {
      const s = await this.#cache.streamOrFill(id, fill, { range: o.range, count: false });
      // A fill that started before the object changed holds the old bytes.
      if (current !== undefined && s.entry.etag !== current.etag) {
        s.body.destroy();
        return this.#direct(bucket, key, o);
      }
      return this.#result(bucket, key, s.entry, s.body, s.range, o.signal);
    } catch (err) {
      if (err instanceof NotCacheable) return this.#direct(bucket, key, o);
      throw err;
    }
  }

  async #direct(bucket: string, key: string, o: GetOptions): Promise<GetResult> {
    const got = await this.#store.get(bucket, key, o);
    this.#learn(this.#id(bucket, key), got.info.size);
    return got;
  }

  /** Metadata: content-addressed keys from the cache when there, others from the store (one request per key at a time). */
  head(bucket: string, key: string): Promise<ObjectInfo> {
    const id = this.#id(bucket, key);
    const cached = isImmutableKey(key) ? this.#cache.peek(id) : undefined;
    if (cached !== undefined) return Promise.resolve(infoOf(bucket, key, cached));
    const running = this.#heads.get(id);
    if (running !== undefined) return running;
    const pending: Promise<ObjectInfo> = this.#store.head(bucket, key).then(
      (info) => { this.#learn(id, info.size); return info; },
      async (err: unknown) => {
        if (isStorageError(err, 'NotFound')) await this.#cache.delete(id);
        throw err;
      },
    ).finally(() => { if (this.#heads.get(id) === pending) this.#heads.delete(id); });
    this.#heads.set(id, pending);
    return pending;
  }

  async exists(bucket: string, key: string): Promise<boolean> {
    if (isImmutableKey(key) && this.#cache.peek(this.#id(bucket, key)) !== undefined) return true;
    return this.#store.exists(bucket, key);
  }

  /** Runs a write, then forgets what the cache held for the key (whether the write succeeded or not). */
  async write<T>(bucket: string, key: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } finally {
      const id = this.#id(bucket, key);
      this.#sizes.delete(id);
      this.#heads.delete(id); // a HEAD answered before the write must not validate anything after it
      await this.#cache.delete(id);
    }
  }

  upload(u: MultipartUpload): MultipartUpload {
    return {
      bucket: u.bucket, key: u.key, uploadId: u.uploadId,
      uploadPart: (n: number, body: Readable, size: number) => u.uploadPart(n, body, size),
      complete: (parts: readonly PartInfo[]) => this.write(u.bucket, u.key, () => u.complete(parts)),
      abort: () => u.abort(),
    };
  }

  #result(bucket: string, key: string, e: CacheEntryInfo, body: Readable, range: GetResult['range'], signal: AbortSignal | undefined): GetResult {
    if (signal !== undefined) {
      const stop = () => body.destroy(new StorageError('Unavailable', 'read aborted', { bucket, key }));
      if (signal.aborted) stop();
      signal.addEventListener('abort', stop, { once: true });
      body.once('close', () => signal.removeEventListener('abort', stop));
    }
    return { info: infoOf(bucket, key, e), body, range };
  }

  #learn(id: string, size: number): void {
    this.#sizes.delete(id);
    this.#sizes.set(id, size);
    if (this.#sizes.size > SIZE_HINTS) this.#sizes.delete(this.#sizes.keys().next().value ?? id);
  }

  #id(bucket: string, key: string): string {
    return JSON.stringify([this.#scope, bucket, key]);
  }
}

function infoOf(bucket: string, key: string, e: CacheEntryInfo): ObjectInfo {
  return { bucket, key, size: e.size, etag: e.etag, lastModified: e.lastModified, contentType: e.contentType === '' ? undefined : e.contentType };
}
