/**
 * `Promise.all(items.map(fn))` with at most `limit` calls in flight, results in
 * input order. Remote reads go through this so a batch of 1,000 links opens
 * at most `limit` connections to a store, not 1,000.
 *
 * Fails fast: the first rejection rejects the whole call and no further items
 * are started (calls already in flight finish on their own).
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}

/** Like {@link mapLimit} but every item settles; the results say which failed. */
export async function settleLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  return mapLimit(items, limit, async (item, i) => {
    try {
      return { status: 'fulfilled', value: await fn(item, i) } as const;
    } catch (reason) {
      return { status: 'rejected', reason } as const;
    }
  });
}
