/**
 * Small helpers of the local store's read and write paths: byte ranges, size
 * checks, taking over a caller's file in `putFile`, temp-folder sweeping.
 */
import { constants as fsConstants } from 'node:fs';
import { copyFile, lstat, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ByteRange } from '../../object-store.ts';
import { errnoCode, localError, type ErrorContext } from './fs-errors.ts';

/** 5 TiB, the S3 object size limit. */
export const LOCAL_MAX_OBJECT_SIZE = 5 * 1024 ** 4;

/** Inclusive range actually served; `InvalidRange` when it cannot be satisfied. */
export function resolveRange(range: ByteRange, size: number, ctx: ErrorContext): { start: number; end: number } {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
    throw localError('InvalidRange', `malformed range ${start}-${end ?? ''}`, ctx);
  }
  if (start >= size) throw localError('InvalidRange', `range starts at ${start} but the object has ${size} bytes`, ctx);
  return { start, end: Math.min(end ?? size - 1, size - 1) };
}

/** `TooLarge` when a declared size exceeds the store's object size limit. */
export function checkDeclaredSize(size: number | undefined, ctx: ErrorContext): void {
  if (size !== undefined && size > LOCAL_MAX_OBJECT_SIZE) {
    throw localError('TooLarge', `object of ${size} bytes exceeds the ${LOCAL_MAX_OBJECT_SIZE} byte limit`, ctx);
  }
}

/** Size of the regular file (or link to one) handed to `putFile`; anything else is `NotFound`. */
export async function sourceStats(source: string, ctx: ErrorContext): Promise<{ size: number; isSymlink: boolean }> {
  try {
    const link = await lstat(source);
    const st = link.isSymbolicLink() ? await stat(source) : link;
    if (st.isFile()) return { size: st.size, isSymlink: link.isSymbolicLink() };
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  throw localError('NotFound', `source file ${source} not found or not a regular file`, ctx);
}

/**
 * Moves the caller's file into `tmp` (true) or, across filesystems or for a
 * symbolic link, copies it (false; the source is removed after publishing).
 */
export async function moveOrCopy(source: string, tmp: string, isSymlink: boolean): Promise<boolean> {
  if (!isSymlink) {
    try {
      await rename(source, tmp);
      return true;
    } catch (err) {
      if (errnoCode(err) !== 'EXDEV') throw err;
    }
  }
  await copyFile(source, tmp, fsConstants.COPYFILE_EXCL);
  return false;
}

/**
 * Removes the entries of `dir` last modified before `cutoff` (epoch ms), except
 * those `keep` names; returns how many were removed. A missing `dir` is empty.
 */
export async function sweepDir(dir: string, cutoff: number, keep: (name: string) => boolean): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 0;
    throw err;
  }
  let removed = 0;
  for (const name of names) {
    if (keep(name)) continue;
    const path = join(dir, name);
    const st = await lstat(path).catch(() => undefined);
    if (st === undefined || st.mtimeMs > cutoff) continue;
    await rm(path, { recursive: true, force: true });
    removed++;
  }
  return removed;
}
