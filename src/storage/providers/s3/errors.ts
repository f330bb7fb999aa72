/**
 * Translation of AWS SDK (and socket) errors into {@link StorageError}s for the
 * S3 provider. This is the only place that knows S3 error codes, so callers
 * (and the retry layer) depend on kinds, never on the SDK. Messages never
 * contain credentials: SDK text is redacted before it is quoted.
 */
import { StorageError, type StorageErrorKind } from '../../errors.ts';

/** Provider name of the S3-compatible store (`STORAGE_PROVIDER=minio`). */
export const S3_PROVIDER = 'minio';

/** What every error message of one store may mention. */
export interface S3ErrorEnv {
  /** Resolved endpoint URL, for "unreachable" messages. */
  readonly endpoint: string;
  /** Which settings hold the credentials, e.g. `STORAGE_ACCESS_KEY/STORAGE_SECRET_KEY`. */
  readonly credentialsHint: string;
  /** Values that must never appear in a message (keys, tokens). */
  readonly secrets: readonly string[];
}

/** Bucket and key an operation was about, and whether it reads or writes. */
export interface S3ErrorContext {
  readonly env: S3ErrorEnv;
  readonly bucket?: string | undefined;
  readonly key?: string | undefined;
  /** A missing bucket is `NotFound` when reading, `ConfigInvalid` when writing. */
  readonly op: 'read' | 'write';
}

const BY_CODE: Readonly<Record<string, readonly [StorageErrorKind, string]>> = {
  NoSuchKey: ['NotFound', 'not found'],
  NotFound: ['NotFound', 'not found'],
  NoSuchVersion: ['NotFound', 'not found'],
  AccessDenied: ['PermissionDenied', 'access denied by the store'],
  AllAccessDisabled: ['PermissionDenied', 'access denied by the store'],
  QuotaExceeded: ['Unavailable', 'storage quota exceeded'],
  AuthorizationHeaderMalformed: ['ConfigInvalid', 'the store refused the request signature (wrong STORAGE_REGION?)'],
  PermanentRedirect: ['ConfigInvalid', 'the bucket is in another region or behind another endpoint (check STORAGE_REGION/STORAGE_ENDPOINT)'],
  RequestTimeTooSkewed: ['ConfigInvalid', "this machine's clock differs from the store's by more than 15 minutes"],
  SlowDown: ['RateLimited', 'the store asks to slow down'],
  ThrottlingException: ['RateLimited', 'the store throttled the request'],
  Throttling: ['RateLimited', 'the store throttled the request'],
  TooManyRequests: ['RateLimited', 'the store throttled the request'],
  RequestTimeout: ['RateLimited', 'the store timed out waiting for the request'],
  ServiceUnavailable: ['RateLimited', 'the store is busy'],
  PreconditionFailed: ['PreconditionFailed', 'precondition failed (the object already exists or changed)'],
  ConditionalRequestConflict: ['PreconditionFailed', 'a conflicting conditional write is in progress'],
  InvalidPart: ['PreconditionFailed', 'a listed part does not match an uploaded part'],
  InvalidPartOrder: ['PreconditionFailed', 'the parts are not listed in ascending order'],
  NoSuchUpload: ['PreconditionFailed', 'the multipart upload does not exist (completed or aborted)'],
  EntityTooSmall: ['PreconditionFailed', 'a part other than the last is smaller than 5 MiB'],
  InvalidRange: ['InvalidRange', 'the requested range is not satisfiable'],
  EntityTooLarge: ['TooLarge', 'the object is larger than the store accepts'],
  BadDigest: ['Corrupt', 'the uploaded bytes do not match their checksum'],
  XAmzContentSHA256Mismatch: ['Corrupt', 'the uploaded bytes do not match their checksum'],
  IncompleteBody: ['Corrupt', 'the store received fewer bytes than declared'],
  KeyTooLongError: ['InvalidKey', 'the key is too long for the store'],
  InvalidBucketName: ['InvalidKey', 'the bucket name is not valid for the store'],
  NotImplemented: ['NotSupported', 'the store does not implement this operation'],
};

const UNAUTHENTICATED = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'TokenRefreshRequired']);
const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'EPROTO',
]);
const CREDENTIAL_PROVIDER_ERRORS = new Set(['ProviderError', 'CredentialsProviderError', 'InstanceMetadataV1FallbackError']);

const BY_STATUS: Readonly<Record<number, readonly [StorageErrorKind, string]>> = {
  401: ['Unauthenticated', 'the store rejected the credentials'],
  403: ['PermissionDenied', 'access denied by the store'],
  404: ['NotFound', 'not found'],
  412: ['PreconditionFailed', 'precondition failed (the object already exists or changed)'],
  413: ['TooLarge', 'the object is larger than the store accepts'],
  416: ['InvalidRange', 'the requested range is not satisfiable'],
  429: ['RateLimited', 'the store throttled the request'],
  501: ['NotSupported', 'the store does not implement this operation'],
  503: ['RateLimited', 'the store is busy (503)'],
};

/** A `StorageError` tagged with the S3 provider and the context. */
export function s3Error(kind: StorageErrorKind, message: string, ctx: S3ErrorContext, cause?: unknown): StorageError {
  const text = redact(message, ctx.env.secrets);
  return new StorageError(kind, text, { bucket: ctx.bucket, key: ctx.key, provider: S3_PROVIDER, cause });
}

/** Replaces every secret in `text` (longer than 3 chars, to avoid mangling prose) by `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length > 3) out = out.split(secret).join('***');
  return out;
}

function where(ctx: S3ErrorContext): string {
  if (ctx.key !== undefined) return `${ctx.bucket ?? '?'}/${ctx.key}`;
  return ctx.bucket === undefined ? ctx.env.endpoint : `bucket ${ctx.bucket}`;
}

function prop(err: unknown, name: string): unknown {
  return typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[name] : undefined;
}

/** The HTTP status of an SDK service error. */
export function httpStatus(err: unknown): number | undefined {
  const status = prop(prop(err, '$metadata'), 'httpStatusCode');
  return typeof status === 'number' ? status : undefined;
}

/** The S3 error code of a service error (`NoSuchKey`, ...); HEAD errors have none but the status. */
export function serviceCode(err: unknown): string | undefined {
  if (prop(err, '$fault') === undefined && httpStatus(err) === undefined) return undefined;
  const code = prop(err, 'Code') ?? prop(err, 'name');
  return typeof code === 'string' && code !== 'Unknown' && code !== 'UnknownError' ? code : undefined;
}

/** A socket-level failure code (`ECONNREFUSED`, `TimeoutError`, ...), if `err` is one. */
function connectionCode(err: unknown): string | undefined {
  if (prop(err, 'name') === 'TimeoutError') return 'TimeoutError';
  const code = prop(err, 'code');
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return code;
  // Happy-eyeballs connects (localhost → ::1 and 127.0.0.1) fail with an AggregateError.
  const inner = prop(err, 'errors');
  return Array.isArray(inner) ? inner.map(connectionCode).find((c) => c !== undefined) : undefined;
}

function sdkMessage(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * Maps any error of an S3 operation to a `StorageError`: existing ones pass
 * through, aborts become `Internal` "operation aborted", socket failures and
 * 5xx are `Unavailable` (naming the endpoint), S3 codes map by table, then by
 * HTTP status, and anything else is `Internal` with the SDK error as cause.
 */
export function toS3Error(err: unknown, ctx: S3ErrorContext): StorageError {
  if (err instanceof StorageError) return err;
  const name = prop(err, 'name');
  if (name === 'AbortError') return s3Error('Internal', `${where(ctx)}: operation aborted`, ctx, err);
  if (typeof name === 'string' && CREDENTIAL_PROVIDER_ERRORS.has(name)) {
    return s3Error('Unavailable', `could not obtain storage credentials (check ${ctx.env.credentialsHint}): ${sdkMessage(err)}`, ctx, err);
  }
  const conn = serviceCode(err) === undefined ? connectionCode(err) : undefined;
  if (conn !== undefined) return s3Error('Unavailable', `S3 endpoint ${ctx.env.endpoint} is unreachable (${conn})`, ctx, err);
  const status = httpStatus(err);
  if (status === undefined) return s3Error('Internal', `${where(ctx)}: ${sdkMessage(err)}`, ctx, err);
  return mapServiceError(err, serviceCode(err), status, ctx);
}

function mapServiceError(err: unknown, code: string | undefined, status: number, ctx: S3ErrorContext): StorageError {
  if (code === 'NoSuchBucket') {
    const bucket = ctx.bucket ?? String(prop(err, 'BucketName') ?? '?');
    const kind = ctx.op === 'read' ? 'NotFound' : 'ConfigInvalid';
    return s3Error(kind, `bucket ${bucket} does not exist: create it or set STORAGE_CREATE_BUCKETS=true`, ctx, err);
  }
  if (code !== undefined && UNAUTHENTICATED.has(code)) {
    const message = `the storage credentials were rejected by ${ctx.env.endpoint} (${code}; check ${ctx.env.credentialsHint})`;
    return s3Error('Unauthenticated', message, ctx, err);
  }
  const known = (code === undefined ? undefined : BY_CODE[code]) ?? BY_STATUS[status];
  if (known !== undefined) return s3Error(known[0], `${where(ctx)}: ${known[1]}${code === undefined ? '' : ` (${code})`}`, ctx, err);
  if (status >= 500) {
    return s3Error('Unavailable', `S3 endpoint ${ctx.env.endpoint} failed with HTTP ${status}${code === undefined ? '' : ` (${code})`}`, ctx, err);
  }
  return s3Error('Internal', `${where(ctx)}: HTTP ${status}: ${sdkMessage(err)}`, ctx, err);
}

/** Runs `fn`, translating whatever it throws with {@link toS3Error}. */
export async function guard<T>(ctx: S3ErrorContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toS3Error(err, ctx);
  }
}

/** SDK `send` options carrying `signal` when there is one (exact optional types forbid `undefined`). */
export function withSignal(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return signal === undefined ? {} : { abortSignal: signal };
}
