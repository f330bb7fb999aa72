/**
 * Where things live on disk for the local store, and the checks that keep every
 * path inside its bucket folder even when the tree contains symbolic links.
 */
import { lstatSync, realpathSync } from 'node:fs';
import { lstat, mkdir, realpath, rmdir } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { isValidBucket, validateBucket, validateKey } from '../../keys.ts';
import { errnoCode, localError, type ErrorContext } from './fs-errors.ts';
import { fsyncDir } from './file-io.ts';

/** True when `child` is `base` itself or lies below it (both absolute). */
export function isInside(base: string, child: string): boolean {
  return child === base || child.startsWith(base.endsWith(sep) ? base : base + sep);
}

/** Splits a validated key into its parent segments and its file name. */
export function splitKey(key: string): { readonly dirs: string[]; readonly name: string } {
  const dirs = key.split('/');
  const name = dirs.pop() ?? key;
  return { dirs, name };
}

/**
 * Folder layout of a local store: `root/<bucket>/<key>` for objects and a
 * scratch `tmpDir` (default `root/.tmp`) for temp files and multipart parts.
 */
export class LocalLayout {
  readonly root: string;
  readonly tmpDir: string;
  /** Bucket → folder when buckets are mapped (see `LocalStoreOptions.bucketFolders`). */
  readonly #folders: ReadonlyMap<string, string> | undefined;

  constructor(root: string, tmpDir: string | undefined, bucketFolders?: Readonly<Record<string, string>>) {
    this.root = resolve(root);
    this.#folders = bucketFolders === undefined
      ? undefined
      : new Map(Object.entries(bucketFolders).map(([bucket, folder]) => [bucket, resolve(folder)]));
    this.tmpDir = resolve(tmpDir ?? join(this.root, '.tmp'));
    const rel = relative(this.root, this.tmpDir);
    const first = rel.split(sep)[0] ?? '';
    // Temp files inside a bucket would be visible as objects; tmpDir === root would
    // make upload folders look like buckets.
    if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && isValidBucket(first))) {
      throw localError('ConfigInvalid', `tmpDir ${this.tmpDir} must not be the store root or inside a bucket folder`, {});
    }
  }

  /**
   * Creates `tmpDir` if missing. Checked on every use (one cheap syscall) so an
   * operator clearing it while the server runs does not break writes.
   */
  async ensureTmp(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true });
  }

  /** A fresh, unused path in `tmpDir` (the folder exists afterwards). */
  async tmpPath(): Promise<string> {
    await this.ensureTmp();
    return join(this.tmpDir, `${randomUUID()}.tmp`);
  }

  /** Unresolved folder of `bucket` (the name is validated). */
  bucketPath(bucket: string, forWrite = false): string {
    validateBucket(bucket);
    if (this.#folders === undefined) return join(this.root, bucket);
    const folder = this.#folders.get(bucket);
    // With mapped buckets, only the mapped ones exist: never fall back to root/<bucket>.
    if (folder === undefined) throw localError(forWrite ? 'ConfigInvalid' : 'NotFound', `bucket ${bucket} not found`, { bucket });
    return folder;
  }

  /**
   * Real path of an existing bucket folder. Missing: `NotFound` for reads,
   * `ConfigInvalid` for writes (`forWrite`), as the cloud providers report a
   * missing bucket: writing there is a setup problem, not a missing object.
   */
  async bucketDir(bucket: string, forWrite = false): Promise<string> {
    try {
      const real = await realpath(this.bucketPath(bucket, forWrite));
      if ((await lstat(real)).isDirectory()) return real;
    } catch (err) {
      rethrowUnlessMissing(err);
    }
    throw missingBucket(bucket, forWrite);
  }

  /** {@link bucketDir} for reads, on the event loop (see sync-gate.ts). */
  bucketDirSync(bucket: string): string {
    try {
      const real = realpathSync.native(this.bucketPath(bucket));
      if (lstatSync(real).isDirectory()) return real;
    } catch (err) {
      rethrowUnlessMissing(err);
    }
    throw missingBucket(bucket, false);
  }

  /**
   * Real path of the existing object `key`, refusing (`PermissionDenied`) a path
   * that a symbolic link leads out of the bucket. Missing → `NotFound`.
   */
  async objectPath(bucketDir: string, key: string, ctx: ErrorContext): Promise<string> {
    return insideBucket(bucketDir, await realpath(objectPathIn(bucketDir, key)), ctx);
  }

  /** {@link objectPath} on the event loop (see sync-gate.ts). */
  objectPathSync(bucketDir: string, key: string, ctx: ErrorContext): string {
    return insideBucket(bucketDir, realpathSync.native(objectPathIn(bucketDir, key)), ctx);
  }

  /** Real path of the existing parent folder of `key`, or undefined. */
  async existingParent(bucketDir: string, key: string, ctx: ErrorContext): Promise<string | undefined> {
    const { dirs } = splitKey(key);
    try {
      const real = await realpath(join(bucketDir, ...dirs));
      if (!isInside(bucketDir, real)) throw escapes(ctx);
      return real;
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw err;
    }
  }

  /**
   * Creates the parent folders of `key` and returns the real parent path.
   * A path component that is a file is a collision (`InvalidKey`); a symbolic
   * link leading out of the bucket is refused (`PermissionDenied`).
   */
  async writableParent(bucketDir: string, key: string, ctx: ErrorContext): Promise<string> {
    const { dirs } = splitKey(key);
    try {
      const real = await realpath(join(bucketDir, ...dirs));
      if (!isInside(bucketDir, real)) throw escapes(ctx);
      if ((await lstat(real)).isDirectory()) return real;
      throw collision(ctx, dirs.join('/'));
    } catch (err) {
      if (errnoCode(err) === 'ENOTDIR') throw collision(ctx, undefined);
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
    return createParents(bucketDir, dirs, ctx);
  }
}

/**
 * Creates the folders one level at a time (never `mkdir -p`, which would follow
 * a symbolic link out of the bucket before we could check it), then makes the
 * new directory entries durable.
 */
async function createParents(bucketDir: string, dirs: readonly string[], ctx: ErrorContext): Promise<string> {
  let current = bucketDir;
  const created: string[] = [];
  for (const [index, segment] of dirs.entries()) {
    const next = join(current, segment);
    try {
      await mkdir(next);
      created.push(next);
      current = next;
      continue;
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
    const real = await realpath(next);
    if (!isInside(bucketDir, real)) throw escapes(ctx);
    if (!(await lstat(real)).isDirectory()) throw collision(ctx, dirs.slice(0, index + 1).join('/'));
    current = real;
  }
  for (const dir of created) await fsyncDir(dirname(dir));
  return current;
}

/**
 * Removes `dir` and its ancestors while they are empty, stopping at the bucket
 * folder, so deleting the last key under a prefix leaves no empty folders.
 * A concurrent writer that loses its folder this way retries (see the store).
 */
export async function removeEmptyParents(bucketDir: string, dir: string): Promise<void> {
  let current = dir;
  let removed = false;
  while (current !== bucketDir && isInside(bucketDir, current)) {
    try {
      await rmdir(current);
    } catch {
      break;
    }
    removed = true;
    current = dirname(current);
  }
  await fsyncDir(removed ? current : dir);
}

/** The unresolved path of `key` (validated) under `bucketDir`. */
function objectPathIn(bucketDir: string, key: string): string {
  validateKey(key);
  return join(bucketDir, ...key.split('/'));
}

/** `real` (an object's real path) when it lies inside the bucket folder; a symbolic link out is refused. */
function insideBucket(bucketDir: string, real: string, ctx: ErrorContext): string {
  if (real === bucketDir || !isInside(bucketDir, real)) throw escapes(ctx);
  return real;
}

/** A missing folder or a file where a folder should be means "no such bucket"; anything else is rethrown. */
function rethrowUnlessMissing(err: unknown): void {
  const code = errnoCode(err);
  if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
}

function missingBucket(bucket: string, forWrite: boolean): Error {
  const ctx = { bucket };
  if (forWrite) return localError('ConfigInvalid', `bucket ${bucket} does not exist: create its folder under the storage root`, ctx);
  return localError('NotFound', `bucket ${bucket} not found`, ctx);
}

function escapes(ctx: ErrorContext): Error {
  return localError('PermissionDenied', `${ctx.bucket ?? '?'}/${ctx.key ?? ''}: path leads outside the bucket (symbolic link refused)`, ctx);
}

/**
 * The local store cannot hold both `a` and `a/b`; this is reported as
 * `InvalidKey` rather than `PreconditionFailed` so create-if-absent callers do
 * not mistake it for "already exists".
 */
export function collision(ctx: ErrorContext, existing: string | undefined): Error {
  const what = existing === undefined ? 'an existing object is a prefix of it' : `object ${JSON.stringify(existing)} already exists where a folder is needed`;
  return localError('InvalidKey', `key ${JSON.stringify(ctx.key)} collides with the local layout: ${what}`, ctx);
}

/** The same error for a folder sitting where the object file should go. */
export function collisionWithFolder(ctx: ErrorContext): Error {
  return localError('InvalidKey', `key ${JSON.stringify(ctx.key)} collides with the local layout: other keys exist below it`, ctx);
}
