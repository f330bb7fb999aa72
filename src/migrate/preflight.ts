/**
 * Before sending anything: can the target be written at all? One probe
 * object is written, read back and deleted, so a wrong key, a missing
 * permission or a read-only folder stops the run with one clear message
 * instead of a failure per object.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { isStorageError } from '../storage/errors.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { describeError, MigrationAborted, withBackoff, type BackoffOptions } from './backoff.ts';

/** Key of a probe object under `dir` (no leading or trailing slash; empty = bucket root). */
export function probeKey(dir: string): string {
  return `${dir === '' ? '' : `${dir}/`}.stowage-check/migrate-${randomUUID()}`;
}

/**
 * Writes, reads and deletes a probe object at `key`. Transient failures are
 * retried; a permanent one throws {@link MigrationAborted} naming the bucket.
 */
export async function probeTarget(store: ObjectStore, bucket: string, key: string, backoff: BackoffOptions, signal?: AbortSignal): Promise<void> {
  const body = Buffer.from('stowage migration probe\n');
  try {
    await withBackoff(async () => {
      await store.put(bucket, key, Readable.from([body]), { size: body.length, contentType: 'text/plain', signal });
      const info = await store.head(bucket, key);
      if (info.size !== body.length) throw new Error(`probe object reads back with ${info.size} bytes, ${body.length} written`);
    }, backoff, signal);
  } catch (err) {
    if (err instanceof MigrationAborted) throw err;
    const hint = isStorageError(err, 'NotFound') ? ' (does the bucket exist?)' : '';
    throw new MigrationAborted(`target ${bucket} is not writable: ${describeError(err)}${hint}`, err);
  }
  // A store that lets us write but not delete still works for a migration; the probe stays.
  await store.delete(bucket, key).catch(() => undefined);
}
