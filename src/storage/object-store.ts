import { Readable } from 'node:stream';

/** What a store can do beyond the mandatory operations. */
export interface StoreCapabilities {
  /** Native multipart uploads (parts uploaded independently, then completed). */
  readonly multipart: boolean;
  /** Copies happen inside the store without streaming bytes through us. */
  readonly serverSideCopy: boolean;
  /** `put` with `ifNoneMatch: true` is enforced atomically by the store. */
  readonly conditionalPut: boolean;
  /** Presigned URLs can be produced for direct client access. */
  readonly presignedUrls: boolean;
  /** Largest single object the store accepts, in bytes. */
  readonly maxObjectSize: number;
}

/** Metadata of one stored object. */
export interface ObjectInfo {
  readonly bucket: string;
  readonly key: string;
  /** Size in bytes. */
  readonly size: number;
  /** Opaque entity tag, quoted as in HTTP (`"..."`). */
  readonly etag: string;
  readonly lastModified: Date;
  /** MIME type when the store knows it. */
  readonly contentType?: string | undefined;
}

/** An inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  readonly start: number;
  /** Inclusive end; omitted means "to the end of the object". */
  readonly end?: number | undefined;
}

/** Options of {@link ObjectStore.get}. */
export interface GetOptions {
  /** Only these bytes. A range starting past the end fails with `InvalidRange`. */
  readonly range?: ByteRange | undefined;
  /** Aborts the read and destroys the body stream. */
  readonly signal?: AbortSignal | undefined;
}

/** Result of {@link ObjectStore.get}. */
export interface GetResult {
  readonly info: ObjectInfo;
  /** The bytes; the caller must consume or destroy it. */
  readonly body: Readable;
  /** The range actually served (inclusive), when a range was asked for. */
  readonly range?: { readonly start: number; readonly end: number } | undefined;
}

/**
 * What {@link ObjectStore.put} stores: a stream, or bytes in memory. Bytes
 * spare small objects the stream machinery (a migration sends thousands) and
 * can be sent again, so layers may retry them.
 */
export type PutBody = Readable | Uint8Array;

/** The body as a stream, for writers that only stream. */
export function bodyStream(body: PutBody): Readable {
  return body instanceof Uint8Array ? Readable.from([body], { objectMode: false }) : body;
}

/** Options of {@link ObjectStore.put}. */
export interface PutOptions {
  readonly contentType?: string | undefined;
  /** Exact size when known; providers may need it for a single-request upload. */
  readonly size?: number | undefined;
  /** Create only: fail with `PreconditionFailed` when the key exists. */
  readonly ifNoneMatch?: boolean | undefined;
  /**
   * Hex MD5 of the body, when the caller has it (saves hashing it again).
   * Stores that check one (S3 `Content-MD5`) refuse other bytes with `Corrupt`.
   */
  readonly md5?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** Options of {@link ObjectStore.list}. */
export interface ListOptions {
  readonly prefix?: string | undefined;
  /** Group keys by this delimiter (usually `/`) into `prefixes`. */
  readonly delimiter?: string | undefined;
  /** Token from a previous page's `nextToken`. */
  readonly continuationToken?: string | undefined;
  /** Only keys strictly greater than this one. */
  readonly startAfter?: string | undefined;
  /** Page size, default 1000. */
  readonly maxKeys?: number | undefined;
}

/** One page of {@link ObjectStore.list}, keys in ascending byte order. */
export interface ListPage {
  readonly objects: readonly ObjectInfo[];
  /** Common prefixes (with the trailing delimiter) when a delimiter was given. */
  readonly prefixes: readonly string[];
  /** Set when more results follow. */
  readonly nextToken?: string | undefined;
}

/** One uploaded part of a multipart upload. */
export interface PartInfo {
  readonly partNumber: number;
  readonly etag: string;
  readonly size: number;
}

/** A multipart upload in progress; see {@link ObjectStore.createMultipart}. */
export interface MultipartUpload {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  /** Uploads part `partNumber` (1-based). Parts but the last must be >= 5 MiB on S3. */
  uploadPart(partNumber: number, body: Readable, size: number): Promise<PartInfo>;
  /** Assembles the parts (in part-number order) into the object, atomically. */
  complete(parts: readonly PartInfo[]): Promise<ObjectInfo>;
  /** Discards the parts; idempotent. */
  abort(): Promise<void>;
}

/** Options of {@link ObjectStore.localFile}. */
export interface LocalFileOptions {
  /** How many bytes of the file's head to read with it; default 0. */
  readonly headBytes?: number | undefined;
}

/** What {@link ObjectStore.localFile} finds. */
export interface LocalFile {
  /** Real path of the file (symbolic links inside the bucket resolved). */
  readonly path: string;
  /** The first `headBytes` bytes, fewer when the file is shorter. */
  readonly head: Buffer;
}

/**
 * Storage of objects in named buckets, the same contract for local disk and
 * every cloud provider. All failures are {@link StorageError}s.
 */
export interface ObjectStore {
  /** Provider name: `http` (local disk), `minio`, `azure`, `google`, `fs`. */
  readonly provider: string;
  readonly capabilities: StoreCapabilities;
  /** Streams an object (or a byte range of it). */
  get(bucket: string, key: string, options?: GetOptions): Promise<GetResult>;
  /** Metadata of an object; `NotFound` when missing. */
  head(bucket: string, key: string): Promise<ObjectInfo>;
  /**
   * The regular file on this machine that holds the object's bytes, and its
   * first `options.headBytes` bytes (default none), for readers that open
   * files themselves (sharp, ffmpeg) instead of copying the bytes through
   * JavaScript. Only stores that keep objects as plain files have it;
   * `NotFound` when missing.
   */
  localFile?(bucket: string, key: string, options?: LocalFileOptions): Promise<LocalFile>;
  /** Whether an object exists (never throws `NotFound`). */
  exists(bucket: string, key: string): Promise<boolean>;
  /**
   * Stores a stream of known or unknown length, or bytes already in memory
   * (sent in one request where the store can; a declared `size` must match
   * their length). Atomic: readers see the old object or the complete new
   * one, never a partial one.
   */
  put(bucket: string, key: string, body: PutBody, options?: PutOptions): Promise<ObjectInfo>;
  /**
   * Stores a local file. The file may be moved into the store (local provider)
   * or uploaded from disk; either way the caller must not use it afterwards.
   */
  putFile(bucket: string, key: string, filePath: string, options?: PutOptions): Promise<ObjectInfo>;
  /** Lists keys by prefix, with delimiter grouping and continuation. */
  list(bucket: string, options?: ListOptions): Promise<ListPage>;
  /** Copies an object, within or across buckets of this store. */
  copy(srcBucket: string, srcKey: string, dstBucket: string, dstKey: string): Promise<ObjectInfo>;
  /** Deletes an object; deleting a missing object succeeds. */
  delete(bucket: string, key: string): Promise<void>;
  /** Starts a multipart upload (emulated when `capabilities.multipart` is false). */
  createMultipart(bucket: string, key: string, options?: PutOptions): Promise<MultipartUpload>;
  /** Creates a bucket if missing (local provider: a folder). */
  ensureBucket(bucket: string): Promise<void>;
  /** Releases connections and timers. */
  close(): Promise<void>;
}
