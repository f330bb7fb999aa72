/**
 * Translation of Node filesystem errors into {@link StorageError}s for the
 * local store, so callers never see a raw `ErrnoException`.
 */
import { StorageError, type StorageErrorKind } from '../../errors.ts';

/** Provider name of the local store. */
export const LOCAL_PROVIDER = 'http';

/** Bucket and key an operation was about, for error messages. */
export interface ErrorContext {
  readonly bucket?: string | undefined;
  readonly key?: string | undefined;
}

/** The `code` of a Node system error, if `err` is one. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** A `StorageError` tagged with the local provider and the context. */
export function localError(kind: StorageErrorKind, message: string, ctx: ErrorContext, cause?: unknown): StorageError {
  return new StorageError(kind, message, { bucket: ctx.bucket, key: ctx.key, provider: LOCAL_PROVIDER, cause });
}

/** `NotFound` for a key that names no regular file (missing, a folder, a FIFO...). */
export function missingObject(ctx: ErrorContext): StorageError {
  return localError('NotFound', `${where(ctx)}: not found`, ctx);
}

function where(ctx: ErrorContext): string {
  if (ctx.key !== undefined) return `${ctx.bucket ?? '?'}/${ctx.key}`;
  return ctx.bucket ?? 'local store';
}

const KINDS: Readonly<Record<string, readonly [StorageErrorKind, string]>> = {
  ENOENT: ['NotFound', 'not found'],
  // A path component is a file: whatever was asked for below it does not exist.
  ENOTDIR: ['NotFound', 'not found'],
  EACCES: ['PermissionDenied', 'permission denied by the filesystem'],
  EPERM: ['PermissionDenied', 'operation not permitted by the filesystem'],
  EROFS: ['PermissionDenied', 'filesystem is read-only'],
  ENOSPC: ['Unavailable', 'disk full (no space left on device)'],
  EDQUOT: ['Unavailable', 'disk full (quota exceeded)'],
  EMFILE: ['Unavailable', 'too many open files'],
  ENFILE: ['Unavailable', 'too many open files in the system'],
  ENAMETOOLONG: ['InvalidKey', 'key too long for the filesystem (a path segment exceeds 255 bytes?)'],
  ELOOP: ['InvalidKey', 'too many levels of symbolic links'],
};

/**
 * Maps any error to a `StorageError`: existing ones pass through, aborts become
 * `Internal` "aborted" (the cause keeps the `AbortError`), errno codes map to
 * their kind, everything else is `Internal` with the cause attached.
 */
export function toStorageError(err: unknown, ctx: ErrorContext): StorageError {
  if (err instanceof StorageError) return err;
  const code = errnoCode(err);
  const mapped = code === undefined ? undefined : KINDS[code];
  if (mapped !== undefined) return localError(mapped[0], `${where(ctx)}: ${mapped[1]}`, ctx, err);
  if (err instanceof Error && err.name === 'AbortError') {
    return localError('Internal', `${where(ctx)}: operation aborted`, ctx, err);
  }
  const message = err instanceof Error ? err.message : String(err);
  return localError('Internal', `${where(ctx)}: ${message}`, ctx, err);
}

/** Runs `fn`, translating whatever it throws with {@link toStorageError}. */
export async function guard<T>(ctx: ErrorContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toStorageError(err, ctx);
  }
}

/** Throws a translated abort error when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, ctx: ErrorContext): void {
  if (signal?.aborted === true) {
    const reason: unknown = signal.reason;
    throw localError('Internal', `${where(ctx)}: operation aborted`, ctx, reason);
  }
}
