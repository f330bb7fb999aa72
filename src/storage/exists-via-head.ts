import { isStorageError } from './errors.ts';
import type { ObjectInfo } from './object-store.ts';

/** `exists` for stores whose `head` throws `NotFound` for a missing object. */
export async function existsViaHead(head: () => Promise<ObjectInfo>): Promise<boolean> {
  try {
    await head();
    return true;
  } catch (err) {
    if (isStorageError(err, 'NotFound')) return false;
    throw err;
  }
}
