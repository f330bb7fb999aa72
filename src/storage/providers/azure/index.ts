/**
 * The Azure Blob object store (provider `azure`; buckets are containers).
 *
 * Errors (azure-errors.ts), Azure code or status → `StorageError` kind:
 *
 * | Azure                                                         | kind                 |
 * |---------------------------------------------------------------|----------------------|
 * | BlobNotFound, other 404                                       | NotFound             |
 * | ContainerNotFound on a read (get, head, list, copy source)    | NotFound (names it)  |
 * | ContainerNotFound on a write (put, multipart, copy, delete)   | ConfigInvalid (names it, hints STORAGE_CREATE_BUCKETS) |
 * | AuthenticationFailed, 403 "failed to authenticate"            | Unauthenticated      |
 * | AuthorizationPermissionMismatch / AuthorizationFailure / 403  | PermissionDenied (names the operation and SAS permission) |
 * | ServerBusy, *OverAccountLimit, 429, 503                       | RateLimited          |
 * | other 5xx; ECONNREFUSED, ETIMEDOUT, ENOTFOUND, ... (no reply)  | Unavailable (names the endpoint, never the SAS) |
 * | ConditionNotMet, BlobAlreadyExists, InvalidBlockList, 412     | PreconditionFailed   |
 * | InvalidRange, 416 (and a start past the end)                  | InvalidRange         |
 * | Md5Mismatch, Crc64Mismatch (blocks carry a transactional MD5)  | Corrupt              |
 * | InvalidResourceName, InvalidUri                               | InvalidKey           |
 * | RequestBodyTooLarge, BlockCountExceedsLimit, 413              | TooLarge             |
 * | aborted by the caller's signal                                | Internal ("aborted") |
 * | anything else                                                 | Internal (scrubbed cause) |
 */
export { createAzureStore, AZURE_MAX_OBJECT_SIZE } from './azure-store.ts';
export {
  AZURE_PROVIDER,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  describeAzureEndpoint,
  isSasToken,
  type AzureStoreOptions,
} from './options.ts';
