/**
 * Publishing a finished temp file at its key, and removing one: the one place
 * where objects appear in and leave bucket folders.
 */
import { join } from 'node:path';
import { copyFile, lstat, mkdir, rm, unlink } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { errnoCode, localError, type ErrorContext } from './fs-errors.ts';
import { fsyncDir, pathExists, publish, syncFile } from './file-io.ts';
import { collisionWithFolder, removeEmptyParents, splitKey, type LocalLayout } from './paths.ts';

// A concurrent delete may remove the freshly created parent folder (it prunes
// empty folders) between mkdir and rename; a few retries settle that race.
const MAX_ATTEMPTS = 5;

type KeyContext = ErrorContext & { readonly key: string };

/**
 * Moves `tmp` (complete and fsynced) to `key` in the bucket folder: rename, or
 * a hard link with `exclusive` (create-only, `PreconditionFailed` if the key
 * exists), then fsync of the parent folder. Errors: a folder at the key is a
 * collision (`InvalidKey`). When `tmpDir` is on another filesystem than the
 * bucket, the file is first copied to `<root>/.tmp`; if that is not on the
 * bucket's filesystem either, `ConfigInvalid`.
 */
export async function commitFile(layout: LocalLayout, tmp: string, bucketDir: string, ctx: KeyContext, exclusive: boolean): Promise<void> {
  try {
    await publishWithRetry(layout, tmp, bucketDir, ctx, exclusive);
  } catch (err) {
    if (errnoCode(err) !== 'EXDEV') throw err;
    await publishViaRootTmp(layout, tmp, bucketDir, ctx, exclusive);
  }
}

async function publishViaRootTmp(layout: LocalLayout, tmp: string, bucketDir: string, ctx: KeyContext, exclusive: boolean): Promise<void> {
  const stageDir = join(layout.root, '.tmp');
  const staged = join(stageDir, `${randomUUID()}.tmp`);
  try {
    await mkdir(stageDir, { recursive: true });
    await copyFile(tmp, staged, fsConstants.COPYFILE_EXCL);
    await syncFile(staged);
    await publishWithRetry(layout, staged, bucketDir, ctx, exclusive);
    await rm(tmp, { force: true });
  } catch (err) {
    await rm(staged, { force: true });
    if (errnoCode(err) !== 'EXDEV') throw err;
    throw localError('ConfigInvalid', 'the bucket folder is on another filesystem than tmpDir and <root>/.tmp', ctx, err);
  }
}

async function publishWithRetry(layout: LocalLayout, tmp: string, bucketDir: string, ctx: KeyContext, exclusive: boolean): Promise<void> {
  const { name } = splitKey(ctx.key);
  for (let attempt = 1; ; attempt++) {
    const parent = await layout.writableParent(bucketDir, ctx.key, ctx);
    const dest = join(parent, name);
    try {
      await publish(tmp, dest, exclusive);
      await fsyncDir(parent);
      return;
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' && attempt < MAX_ATTEMPTS && (await pathExists(tmp))) continue;
      throw await explain(err, dest, ctx, exclusive);
    }
  }
}

/**
 * `PreconditionFailed` when an object already exists at the key (a folder there
 * is a collision, `InvalidKey`). Only an early check: the hard link in
 * {@link commitFile} is what makes create-only writes race-free.
 */
export async function assertAbsent(layout: LocalLayout, bucketDir: string, ctx: KeyContext): Promise<void> {
  const parent = await layout.existingParent(bucketDir, ctx.key, ctx);
  if (parent === undefined) return;
  const dest = join(parent, splitKey(ctx.key).name);
  if (await pathExists(dest)) throw await explain(Object.assign(new Error('exists'), { code: 'EEXIST' }), dest, ctx, true);
}

/**
 * Removes the object at `key`, then the folders it leaves empty. A missing
 * object, or a folder at the key (keys below it, not an object), is no error.
 */
export async function removeObject(layout: LocalLayout, bucketDir: string, ctx: KeyContext): Promise<void> {
  const parent = await layout.existingParent(bucketDir, ctx.key, ctx);
  if (parent === undefined) return;
  const path = join(parent, splitKey(ctx.key).name);
  try {
    if ((await lstat(path)).isDirectory()) return;
    await unlink(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  await removeEmptyParents(bucketDir, parent);
}

async function explain(err: unknown, dest: string, ctx: ErrorContext, exclusive: boolean): Promise<unknown> {
  const code = errnoCode(err);
  if (code === 'EISDIR' || code === 'ENOTEMPTY' || (code === 'EEXIST' && !exclusive)) return collisionWithFolder(ctx);
  if (code === 'EEXIST') {
    const st = await lstat(dest).catch(() => undefined);
    if (st?.isDirectory() === true) return collisionWithFolder(ctx);
    return localError('PreconditionFailed', `${ctx.bucket ?? '?'}/${ctx.key ?? ''} already exists`, ctx, err);
  }
  return err;
}
