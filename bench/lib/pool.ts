/** A fixed number of workers draining a list of tasks, as a real client with N parallel requests would. */

/**
 * Runs `task(0)` … `task(count - 1)` with at most `concurrency` in flight;
 * resolves with the results in index order. The first failure rejects (the
 * workers stop taking new tasks; tasks already started finish on their own).
 */
export async function runPool<T>(count: number, concurrency: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < count) {
      const i = next++;
      try {
        out[i] = await task(i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return out;
}
