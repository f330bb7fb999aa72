/**
 * The one error type every object store raises. Providers translate their SDK's
 * errors into one of these kinds so callers (and the HTTP error handler) never
 * depend on a particular SDK.
 */
export type StorageErrorKind =
  /** The object or bucket does not exist. */
  | 'NotFound'
  /** Credentials are valid but lack the permission (HTTP 403 from the store). */
  | 'PermissionDenied'
  /** Credentials were rejected (bad key, bad signature, expired token). */
  | 'Unauthenticated'
  /** The store is misconfigured (bad endpoint, missing setting). */
  | 'ConfigInvalid'
  /** The store throttled us; retry later. */
  | 'RateLimited'
  /** The key is not acceptable (path traversal, NUL, too long, ...). */
  | 'InvalidKey'
  /** The requested byte range cannot be satisfied. */
  | 'InvalidRange'
  /** A conditional write failed (the object already exists, ETag mismatch). */
  | 'PreconditionFailed'
  /** The object is larger than allowed. */
  | 'TooLarge'
  /** Data failed an integrity check (checksum or size mismatch). */
  | 'Corrupt'
  /** The store cannot be reached or answered with a server error. */
  | 'Unavailable'
  /** The operation is not supported by this store (see its capabilities). */
  | 'NotSupported'
  /** Anything else; the message says what. */
  | 'Internal';

/** Options of a {@link StorageError}. */
export interface StorageErrorOptions {
  /** Bucket the operation was about, if any. */
  bucket?: string | undefined;
  /** Key the operation was about, if any. */
  key?: string | undefined;
  /** Provider name (`http`, `minio`, `azure`, `google`, `fs`). */
  provider?: string | undefined;
  /** The SDK error, kept for logs; never shown to clients. */
  cause?: unknown;
}

/** An object-store failure with a machine-readable {@link StorageErrorKind}. */
export class StorageError extends Error {
  readonly kind: StorageErrorKind;
  readonly bucket: string | undefined;
  readonly key: string | undefined;
  readonly provider: string | undefined;

  constructor(kind: StorageErrorKind, message: string, options: StorageErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StorageError';
    this.kind = kind;
    this.bucket = options.bucket;
    this.key = options.key;
    this.provider = options.provider;
  }
}

/** True when `err` is a {@link StorageError}, optionally of the given kind. */
export function isStorageError(err: unknown, kind?: StorageErrorKind): err is StorageError {
  return err instanceof StorageError && (kind === undefined || err.kind === kind);
}
