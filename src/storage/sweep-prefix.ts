import type { ObjectStore } from './object-store.ts';

/**
 * Deletes the objects under `prefix` last modified more than `olderThanMs`
 * ago; returns how many. For scratch keys that a crashed process left
 * behind (staged uploads), listed page by page.
 */
export async function deleteStaleUnder(store: ObjectStore, bucket: string, prefix: string, olderThanMs: number): Promise<number> {
  const cutoff = Date.now() - olderThanMs;
  let removed = 0;
  let token: string | undefined;
  do {
    const page = await store.list(bucket, { prefix, continuationToken: token });
    for (const o of page.objects) {
      if (o.lastModified.getTime() >= cutoff) continue;
      await store.delete(bucket, o.key);
      removed += 1;
    }
    token = page.nextToken;
  } while (token !== undefined);
  return removed;
}
