/**
 * Bounded concurrency over a stream of work: at most `limit` calls in
 * flight, items pulled from the (possibly endless, lazily listed) source
 * only as workers free up, so memory never depends on how many items there are.
 */

/**
 * Calls `fn` on every item of `items` with at most `limit` calls at once.
 * The first failure (of `fn` or of the source) stops taking new items; the
 * calls in flight are awaited, then that failure is thrown.
 */
export async function forEachLimit<T>(
  items: AsyncIterable<T> | Iterable<T>,
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const it = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : syncToAsync(items[Symbol.iterator]());
  let failure: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined) {
      let next: IteratorResult<T>;
      try {
        next = await it.next();
      } catch (err) {
        failure ??= { err };
        return;
      }
      if (next.done === true) return;
      try {
        await fn(next.value);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  if (failure !== undefined) {
    await it.return?.().catch(() => undefined);
    throw failure.err;
  }
}

function syncToAsync<T>(it: Iterator<T>): AsyncIterator<T> {
  return { next: async () => it.next() };
}

/**
 * A counting semaphore: at most `size` calls of {@link Slots.use} run at
 * once, across every caller sharing it (the parts of all objects in flight).
 */
export class Slots {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    this.#free = Math.max(1, size);
  }

  async use<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free -= 1;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next !== undefined) next();
      else this.#free += 1;
    }
  }
}
