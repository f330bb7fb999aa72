/**
 * The checks that keep `fs://<storage-id>/<path>` inside its host folder and
 * away from anything but regular files. Path resolution (symbolic links out of
 * the folder, `..`) is the local store's own code ({@link LocalLayout}); this
 * adds what only a folder we did not write ourselves can contain: FIFOs,
 * sockets and device nodes, plus the store's reserved temp folder.
 */
import { lstat } from 'node:fs/promises';
import { StorageError, type StorageErrorKind } from '../../errors.ts';
import { keyProblem } from '../../keys.ts';
import { toStorageError, type ErrorContext } from '../local/fs-errors.ts';
import type { LocalLayout } from '../local/paths.ts';

/** Provider name of the host-folder store. */
export const FS_PROVIDER = 'fs';

/**
 * Folder (at the top of each host folder) holding temp files of a writable
 * connection: on the same filesystem, so publishing is an atomic rename.
 * Hidden from listings and refused as a key.
 */
export const FS_TMP_DIR = '.stowage-tmp';

/** A `StorageError` tagged with the `fs` provider. */
export function fsError(kind: StorageErrorKind, message: string, ctx: ErrorContext, cause?: unknown): StorageError {
  return new StorageError(kind, message, { bucket: ctx.bucket, key: ctx.key, provider: FS_PROVIDER, cause });
}

/** Any error as a `StorageError` of the `fs` provider (the local store's messages, re-tagged). */
export function asFsError(err: unknown, ctx: ErrorContext): StorageError {
  const e = toStorageError(err, ctx);
  if (e.provider === FS_PROVIDER) return e;
  return fsError(e.kind, e.message, { bucket: e.bucket ?? ctx.bucket, key: e.key ?? ctx.key }, e.cause ?? err);
}

/** Runs `fn`, turning whatever it throws into an `fs` {@link StorageError}. */
export async function fsGuard<T>(ctx: ErrorContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asFsError(err, ctx);
  }
}

/** True for keys inside the reserved temp folder. */
export function isReservedKey(key: string): boolean {
  return key === FS_TMP_DIR || key.startsWith(`${FS_TMP_DIR}/`);
}

/**
 * Refuses a key that is not a safe object key (`InvalidKey`: `..`, absolute,
 * backslash, NUL…) or that names the reserved temp folder.
 */
export function checkKey(ctx: ErrorContext & { readonly key: string }): void {
  const problem = keyProblem(ctx.key);
  if (problem !== undefined) throw fsError('InvalidKey', `invalid path ${JSON.stringify(ctx.key)}: it ${problem}`, ctx);
  if (isReservedKey(ctx.key)) throw fsError('InvalidKey', `${FS_TMP_DIR}/ is reserved for Stowage's temp files`, ctx);
}

function specialKind(st: { isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string | undefined {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return undefined;
}

/**
 * Checks that `key` in `bucket` resolves (through symbolic links) to a path
 * inside the folder (`PermissionDenied` otherwise) and is not a special file
 * (`PermissionDenied`: reading a FIFO or a device could block or have side
 * effects). Missing → `NotFound`; a folder is left for the caller (`NotFound`).
 */
export async function checkReadable(layout: LocalLayout, ctx: ErrorContext & { readonly bucket: string; readonly key: string }): Promise<void> {
  checkKey(ctx);
  const dir = await layout.bucketDir(ctx.bucket);
  const real = await layout.objectPath(dir, ctx.key, ctx);
  const kind = specialKind(await lstat(real));
  if (kind !== undefined) {
    throw fsError('PermissionDenied', `${ctx.bucket}/${ctx.key} is ${kind}, not a regular file: refused`, ctx);
  }
}
