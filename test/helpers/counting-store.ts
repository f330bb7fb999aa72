/**
 * An {@link ObjectStore} wrapper that counts reads: how many gets, and how
 * many body bytes came through them. Tests and the links benchmark use it to
 * check that describing a linked object reads only its start.
 */
import { Transform } from 'node:stream';
import type { GetOptions, GetResult, ObjectStore } from '../../src/storage/object-store.ts';

/** Counters of a {@link countingStore}. */
export interface ReadStats {
  gets: number;
  bytes: number;
  /** Gets that asked for a range. */
  ranged: number;
}

/** The store with `stats` and `reset()`; every other call goes straight through. */
export type CountingStore = ObjectStore & { readonly stats: ReadStats; reset(): void };

/**
 * Wraps `inner`. With `ignoreRanges`, gets drop the range (as a web server
 * without range support would), to test callers that must cope.
 */
export function countingStore(inner: ObjectStore, opts: { ignoreRanges?: boolean } = {}): CountingStore {
  const stats: ReadStats = { gets: 0, bytes: 0, ranged: 0 };
  const get = async (bucket: string, key: string, options: GetOptions = {}): Promise<GetResult> => {
    stats.gets += 1;
    if (options.range !== undefined) stats.ranged += 1;
    const res = await inner.get(bucket, key, opts.ignoreRanges === true ? { ...options, range: undefined } : options);
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        stats.bytes += chunk.length;
        done(null, chunk);
      },
    });
    res.body.on('error', (err) => tap.destroy(err));
    // Destroying a body that ended would only cost the store its connection.
    tap.on('close', () => { if (!res.body.readableEnded) res.body.destroy(); });
    res.body.pipe(tap);
    return { ...res, body: tap };
  };
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'stats') return stats;
      if (prop === 'reset') return () => Object.assign(stats, { gets: 0, bytes: 0, ranged: 0 });
      if (prop === 'get') return get;
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as CountingStore;
}
