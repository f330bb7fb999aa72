/**
 * Translation of Azure SDK errors into {@link StorageError}s: the one place
 * that knows Azure's error codes. Messages and the attached cause are
 * scrubbed: no account key, SAS token or `sig=` value ever leaves this file.
 */
import { StorageError, type StorageErrorKind } from '../../errors.ts';
import { AZURE_PROVIDER } from './options.ts';

/** What an operation was about, for messages. */
export interface AzureErrorContext {
  readonly bucket?: string | undefined;
  readonly key?: string | undefined;
  /** Operation name for `PermissionDenied` messages: `read`, `write`, `list`, `delete`, ... */
  readonly op: string;
  /** Writes into a missing container are a deployment problem (`ConfigInvalid`); reads are `NotFound`. */
  readonly write?: boolean | undefined;
}

/** Per-store facts the mapping needs: where the store is, and what to scrub. */
export interface ErrorScope {
  /** Endpoint without query string. */
  readonly endpoint: string;
  /** Strings that must never appear in a message (the key, the SAS token). */
  readonly secrets: readonly string[];
}

const CREDENTIALS_REJECTED = 'the storage credentials were rejected (check STORAGE_ACCESS_KEY/STORAGE_SECRET_KEY)';

// Both Azure (AuthenticationFailed) and Azurite (AuthorizationFailure) say this when the key or signature is wrong.
const AUTHENTICATION_TEXT = /failed to authenticate/iu;
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH',
  'EPIPE', 'ECONNABORTED', 'EPROTO', 'REQUEST_SEND_ERROR', 'ERR_STREAM_PREMATURE_CLOSE',
]);
const RATE_LIMITED_CODES = new Set(['ServerBusy', 'IngressOverAccountLimit', 'EgressOverAccountLimit', 'TpsOverAccountLimit']);
const PRECONDITION_CODES = new Set([
  'ConditionNotMet', 'BlobAlreadyExists', 'TargetConditionNotMet', 'SourceConditionNotMet', 'InvalidBlockList', 'InvalidBlockId',
]);
const PERMISSION_HINTS: Readonly<Record<string, string>> = {
  read: 'r', write: 'w and c', list: 'l', delete: 'd', copy: 'r and w', 'create container': 'c (account SAS, resource type container)',
};

interface AzureFailure {
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly message: string;
  readonly name: string;
}

function failureOf(err: unknown): AzureFailure {
  const e = (typeof err === 'object' && err !== null ? err : {}) as Record<string, unknown>;
  const details = (typeof e['details'] === 'object' && e['details'] !== null ? e['details'] : {}) as Record<string, unknown>;
  const code = [e['code'], details['errorCode'], details['code']].find((c): c is string => typeof c === 'string' && c !== '');
  return {
    status: typeof e['statusCode'] === 'number' ? e['statusCode'] : undefined,
    code,
    message: err instanceof Error ? err.message : String(err),
    name: err instanceof Error ? err.name : typeof err,
  };
}

/** `text` without secrets: known secret strings, `sig=` values and URL query strings are removed. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 8) out = out.split(secret).join('[REDACTED]');
  }
  return out
    .replace(/\b(https?:\/\/[^\s?#"'<>]+)\?[^\s"'<>]*/giu, '$1')
    .replace(/([?&\s]|^)sig=[^&\s"'<>]*/giu, '$1sig=[REDACTED]')
    // Azure echoes the request's signature when a shared key is wrong.
    .replace(/(signature found in the HTTP request ')[^']*'/giu, "$1[REDACTED]'");
}

/**
 * A cause safe to log: the SDK error's name, code, status and scrubbed message,
 * without its request (URL with SAS, headers) or response.
 */
export function safeCause(err: unknown, scope: ErrorScope): Error {
  const f = failureOf(err);
  const cause = new Error(redact(f.message, scope.secrets).slice(0, 2000));
  cause.name = f.name;
  return Object.assign(cause, { code: f.code, statusCode: f.status });
}

function where(ctx: AzureErrorContext): string {
  if (ctx.key !== undefined) return `${ctx.bucket ?? '?'}/${ctx.key}`;
  return ctx.bucket === undefined ? 'the account' : `container ${ctx.bucket}`;
}

/** A `StorageError` of the Azure provider. */
export function azureError(kind: StorageErrorKind, message: string, ctx: Omit<AzureErrorContext, 'op'>, cause?: Error): StorageError {
  return new StorageError(kind, message, { bucket: ctx.bucket, key: ctx.key, provider: AZURE_PROVIDER, cause });
}

/** The message of a missing container; the same text for `NotFound` and `ConfigInvalid`. */
export function missingContainer(bucket: string | undefined): string {
  return `container ${bucket ?? '?'} does not exist: create it or set STORAGE_CREATE_BUCKETS=true`;
}

function classify(f: AzureFailure, ctx: AzureErrorContext, scope: ErrorScope): [StorageErrorKind, string] {
  const code = f.code ?? '';
  if (f.name === 'AbortError') return ['Internal', `${where(ctx)}: operation aborted`];
  if (code === 'ContainerNotFound') return [ctx.write === true ? 'ConfigInvalid' : 'NotFound', missingContainer(ctx.bucket)];
  if (code === 'BlobNotFound' || (f.status === 404 && (code === '' || code === 'CannotVerifyCopySource'))) return ['NotFound', `${where(ctx)}: not found`];
  if (code === 'AuthenticationFailed' || code === 'InvalidAuthenticationInfo' || code === 'NoAuthenticationInformation' || (f.status === 403 && AUTHENTICATION_TEXT.test(f.message))) {
    return ['Unauthenticated', CREDENTIALS_REJECTED];
  }
  if (f.status === 403 || code.startsWith('Authorization')) {
    const hint = PERMISSION_HINTS[ctx.op];
    return ['PermissionDenied', `${ctx.op} on ${where(ctx)} is not permitted by the storage credentials${hint === undefined ? '' : ` (a SAS token needs permission ${hint})`}`];
  }
  if (PRECONDITION_CODES.has(code) || f.status === 412) {
    const what = code === 'BlobAlreadyExists' || code === 'ConditionNotMet' ? 'already exists' : `precondition failed (${code || f.status})`;
    return ['PreconditionFailed', `${where(ctx)} ${what}`];
  }
  if (code === 'Md5Mismatch' || code === 'Crc64Mismatch') return ['Corrupt', `${where(ctx)}: Azure received different bytes than were sent (${code})`];
  if (code === 'InvalidRange' || f.status === 416) return ['InvalidRange', `${where(ctx)}: the range cannot be satisfied`];
  if (RATE_LIMITED_CODES.has(code) || f.status === 429 || f.status === 503) return ['RateLimited', `the Azure endpoint ${scope.endpoint} is busy (${code || f.status}); retry later`];
  if (code === 'InvalidResourceName' || code === 'InvalidUri') return ['InvalidKey', `${where(ctx)}: name not accepted by Azure (${code})`];
  if (code === 'RequestBodyTooLarge' || code === 'BlockCountExceedsLimit' || f.status === 413) return ['TooLarge', `${where(ctx)}: too large for Azure (${code || f.status})`];
  if (f.status !== undefined && f.status >= 500) return ['Unavailable', `the Azure endpoint ${scope.endpoint} answered with a server error (${code || f.status})`];
  if (f.status === undefined && code === 'ETIMEDOUT') return ['Unavailable', `the Azure endpoint ${scope.endpoint} did not answer in time (ETIMEDOUT)`];
  if (f.status === undefined && (NETWORK_CODES.has(code) || code.startsWith('UND_ERR'))) {
    return ['Unavailable', `cannot reach the Azure endpoint ${scope.endpoint} (${code})`];
  }
  const status = f.status === undefined ? '' : ` (HTTP ${f.status})`;
  return ['Internal', `${where(ctx)}: ${ctx.op} failed: ${code || f.name}${status}: ${redact(f.message, scope.secrets).split('\n')[0] ?? ''}`];
}

/**
 * Maps any error thrown while talking to Azure to a `StorageError` (existing
 * ones pass through). The mapping is tabled in this provider's `index.ts`.
 */
export function toAzureError(err: unknown, ctx: AzureErrorContext, scope: ErrorScope): StorageError {
  if (err instanceof StorageError) return err;
  const [kind, message] = classify(failureOf(err), ctx, scope);
  return azureError(kind, redact(message, scope.secrets), ctx, safeCause(err, scope));
}

/** True when `err` is a 403 without a body (a HEAD request): its error code alone cannot tell a bad key from a missing permission. */
export function isOpaqueForbidden(err: unknown): boolean {
  const f = failureOf(err);
  return f.status === 403 && f.message.trim() === '';
}
