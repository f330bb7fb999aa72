/**
 * Publishing a finished temp file at its key: the one place where objects
 * appear in bucket folders.
 */
import { join } from 'node:path';
import { lstat } from 'node:fs/promises';
import { errnoCode, localError, type ErrorContext } from './fs-errors.ts';
import { fsyncDir, pathExists, publish } from './file-io.ts';
import { collisionWithFolder, splitKey, type LocalLayout } from './paths.ts';

// A concurrent delete may remove the freshly created parent folder (it prunes
// empty folders) between mkdir and rename; a few retries settle that race.
const MAX_ATTEMPTS = 5;

/**
 * Moves `tmp` (complete and fsynced) to `key` in the bucket folder: rename, or
 * a hard link with `exclusive` (create-only, `PreconditionFailed` if the key
 * exists), then fsync of the parent folder. Errors: a folder at the key is a
 * collision (`InvalidKey`); `tmpDir` on another filesystem is `ConfigInvalid`.
 */
export async function commitFile(
  layout: LocalLayout,
  tmp: string,
  bucketDir: string,
  ctx: ErrorContext & { readonly key: string },
  exclusive: boolean,
): Promise<void> {
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

async function explain(err: unknown, dest: string, ctx: ErrorContext, exclusive: boolean): Promise<unknown> {
  const code = errnoCode(err);
  if (code === 'EXDEV') {
    return localError('ConfigInvalid', 'tmpDir must be on the same filesystem as the store root', ctx, err);
  }
  if (code === 'EISDIR' || code === 'ENOTEMPTY' || (code === 'EEXIST' && !exclusive)) return collisionWithFolder(ctx);
  if (code === 'EEXIST') {
    const st = await lstat(dest).catch(() => undefined);
    if (st?.isDirectory() === true) return collisionWithFolder(ctx);
    return localError('PreconditionFailed', `${ctx.bucket ?? '?'}/${ctx.key ?? ''} already exists`, ctx, err);
  }
  return err;
}
