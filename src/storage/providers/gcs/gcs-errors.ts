/**
 * Translation of Google Cloud Storage failures (the SDK's `ApiError`, gaxios
 * and fetch errors, system errors) into {@link StorageError}s: the one place
 * that knows how GCS reports a problem.
 *
 * The SDK error is never kept as the cause: it can carry the request (with its
 * bearer token) and the response. The cause is a plain `Error` with the SDK's
 * message, HTTP status, reason and code, enough for logs.
 */
import { StorageError, type StorageErrorKind } from '../../errors.ts';

/** Provider name of the GCS store. */
export const GCS_PROVIDER = 'google';

/** What an operation was about, for messages. */
export interface GcsErrorContext {
  readonly bucket?: string | undefined;
  readonly key?: string | undefined;
  /** API endpoint, named in `Unavailable` messages. */
  readonly endpoint: string;
  /** A missing bucket is `NotFound` on reads and `ConfigInvalid` on writes. */
  readonly write?: boolean | undefined;
}

/** The facts of an SDK error that decide its kind. */
export interface GcsFailure {
  readonly status: number | undefined;
  /** GCS `errors[0].reason` or OAuth `error` (`invalid_grant`). */
  readonly reason: string | undefined;
  /** Node / SDK string code (`ECONNREFUSED`, `CONTENT_DOWNLOAD_MISMATCH`). */
  readonly code: string | undefined;
  readonly message: string;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH',
  'ENETUNREACH', 'ECONNABORTED', 'ESOCKETTIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED', 'ERR_STREAM_PREMATURE_CLOSE',
]);
const AUTH_REASONS = new Set(['invalid_grant', 'invalid_client', 'unauthorized_client', 'authError', 'unauthorized']);
const RATE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'SlowDown']);
const CORRUPT_CODES = new Set(['CONTENT_DOWNLOAD_MISMATCH', 'FILE_NO_UPLOAD', 'MD5_NOT_AVAILABLE']);

/** A `StorageError` tagged with the GCS provider and the context. */
export function gcsError(kind: StorageErrorKind, message: string, ctx: GcsErrorContext, cause?: unknown): StorageError {
  return new StorageError(kind, message, { bucket: ctx.bucket, key: ctx.key, provider: GCS_PROVIDER, cause });
}

function where(ctx: GcsErrorContext): string {
  if (ctx.key !== undefined) return `${ctx.bucket ?? '?'}/${ctx.key}`;
  return ctx.bucket ?? 'google storage';
}

function prop(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function statusOf(err: unknown): number | undefined {
  for (const candidate of [prop(err, 'code'), prop(err, 'status'), prop(prop(err, 'response'), 'status')]) {
    if (typeof candidate === 'number' && candidate >= 100 && candidate < 600) return candidate;
  }
  return undefined;
}

function firstReason(errors: unknown): string | undefined {
  return Array.isArray(errors) ? text(prop(errors[0], 'reason')) : undefined;
}

function reasonOf(err: unknown): string | undefined {
  // ApiError: `errors[]`; gaxios: `response.data` is a JSON API error or an OAuth one (`error: "invalid_grant"`).
  const data = prop(prop(err, 'response'), 'data');
  return firstReason(prop(err, 'errors')) ?? text(prop(data, 'error')) ?? firstReason(prop(prop(data, 'error'), 'errors'));
}

function codeOf(err: unknown): string | undefined {
  // node-fetch (under the SDK) marks its timeouts by `type` only.
  if (/^(request|body)-timeout$/u.test(text(prop(err, 'type')) ?? '')) return 'ETIMEDOUT';
  // fetch (undici) wraps the system error: `TypeError('fetch failed', { cause })`.
  return text(prop(err, 'code')) ?? text(prop(prop(err, 'cause'), 'code')) ?? text(prop(prop(prop(err, 'cause'), 'cause'), 'code'));
}

/** The status, reason, code and message of any error the SDK or fetch raises. */
export function describeFailure(err: unknown): GcsFailure {
  // gaxios (resumable-session creation) says only "Request failed with status code N"; the API's own message is in the body.
  const api = text(prop(prop(prop(prop(err, 'response'), 'data'), 'error'), 'message'));
  const raw = api ?? (err instanceof Error ? err.message : String(err));
  // Multi-line SDK messages repeat the same facts; the first line is enough.
  const message = (raw.split('\n').find((line) => line.trim() !== '') ?? raw).trim().slice(0, 300);
  return { status: statusOf(err), reason: reasonOf(err), code: codeOf(err), message };
}

/** A log-safe stand-in for the SDK error (see the module comment). */
function safeCause(failure: GcsFailure, err: unknown): Error {
  const cause = new Error(failure.message);
  cause.name = err instanceof Error ? err.name : 'Error';
  return Object.assign(cause, { status: failure.status, reason: failure.reason, code: failure.code });
}

function isBucketMissing(f: GcsFailure): boolean {
  return f.status === 404 && /bucket does not exist|no ?such ?bucket/iu.test(f.message);
}

/** Kind and message for a failure, or undefined when nothing specific applies. */
function classify(f: GcsFailure, ctx: GcsErrorContext): [StorageErrorKind, string] | undefined {
  const at = where(ctx);
  if ((f.reason !== undefined && AUTH_REASONS.has(f.reason)) || f.status === 401) {
    return ['Unauthenticated', `${at}: the storage credentials were rejected (check STORAGE_CREDENTIALS_PATH)`];
  }
  if (/could not load the default credentials/iu.test(f.message)) {
    return ['ConfigInvalid', `${at}: no Google credentials found: set STORAGE_CREDENTIALS_PATH to a service-account JSON file`];
  }
  if ((f.reason !== undefined && RATE_REASONS.has(f.reason)) || f.status === 429 || f.status === 503) {
    return ['RateLimited', `${at}: google storage at ${ctx.endpoint} is throttling requests (HTTP ${f.status ?? '?'}); retry later`];
  }
  if (f.code !== undefined && CORRUPT_CODES.has(f.code)) return ['Corrupt', `${at}: integrity check failed: ${f.message}`];
  // An upload whose bytes differ from the md5Hash sent with them (GCS refuses to store it).
  if (f.status === 400 && /hash .*(doesn't|does not) match/iu.test(f.message)) return ['Corrupt', `${at}: integrity check failed: ${f.message}`];
  if (f.code !== undefined && CONNECTION_CODES.has(f.code)) {
    // The failing host may be the token endpoint rather than the API: the SDK message names it.
    return ['Unavailable', `${at}: google storage at ${ctx.endpoint} cannot be reached (${f.code}): ${f.message}`];
  }
  if (isBucketMissing(f)) {
    const kind = ctx.write === true ? 'ConfigInvalid' : 'NotFound';
    return [kind, `bucket ${ctx.bucket ?? '?'} does not exist: create it or set STORAGE_CREATE_BUCKETS=true`];
  }
  return byStatus(f, ctx, at);
}

function byStatus(f: GcsFailure, ctx: GcsErrorContext, at: string): [StorageErrorKind, string] | undefined {
  switch (f.status) {
    case 403: return ['PermissionDenied', `${at}: permission denied by google storage: ${f.message}`];
    case 404: return ['NotFound', `${at}: not found`];
    case 412: return ['PreconditionFailed', `${at}: precondition failed (the object exists or changed)`];
    case 416: return ['InvalidRange', `${at}: the requested range cannot be satisfied`];
    case 408:
    case 500:
    case 502:
    case 504:
      return ['Unavailable', `${at}: google storage at ${ctx.endpoint} failed (HTTP ${f.status}); retry later`];
    case 501: return ['NotSupported', `${at}: not implemented by the server at ${ctx.endpoint}`];
    default: return undefined;
  }
}

/**
 * Maps any error to a `StorageError`: existing ones pass through, aborts are
 * `Internal` "operation aborted", the rest by status, reason and code (see the
 * provider's README table); anything unrecognised is `Internal`.
 */
export function toGcsError(err: unknown, ctx: GcsErrorContext): StorageError {
  if (err instanceof StorageError) return err;
  const failure = describeFailure(err);
  const cause = safeCause(failure, err);
  if (prop(err, 'name') === 'AbortError' || failure.code === 'ABORT_ERR') {
    return gcsError('Internal', `${where(ctx)}: operation aborted`, ctx, cause);
  }
  const mapped = classify(failure, ctx);
  if (mapped !== undefined) return gcsError(mapped[0], mapped[1], ctx, cause);
  const status = failure.status === undefined ? '' : ` (HTTP ${failure.status})`;
  return gcsError('Internal', `${where(ctx)}: ${failure.message}${status}`, ctx, cause);
}

/** Runs `fn`, translating whatever it throws with {@link toGcsError}. */
export async function guard<T>(ctx: GcsErrorContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toGcsError(err, ctx);
  }
}

/** Throws a translated abort error when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, ctx: GcsErrorContext): void {
  if (signal?.aborted === true) throw gcsError('Internal', `${where(ctx)}: operation aborted`, ctx, signal.reason);
}

/** True when `err` (raw or translated) means the object or bucket is missing. */
export function isNotFound(err: unknown): boolean {
  if (err instanceof StorageError) return err.kind === 'NotFound';
  return statusOf(err) === 404;
}
