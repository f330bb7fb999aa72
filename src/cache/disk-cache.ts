/**
 * A bounded, persistent cache of byte blobs on local disk (one per tier:
 * remote originals, previews, conversions). Least recently used entries are
 * evicted to stay under `maxBytes`; entries older than `maxAgeMs` are never
 * served. Fills are single-flight and written atomically (temp file, fsync,
 * rename); the index survives restarts (see ./cache-index.ts).
 *
 * Layout of `dir`: `index.sqlite`, `data/<h[0:2]>/<h>-<random>` (h: SHA-256 of
 * the key), `tmp/` (fills in progress). Small fills made in memory are kept
 * in `index.sqlite` instead of `data/` (see ./cache-index.ts).
 */
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from '../storage/errors.ts';
import { cacheFileError, FileRangeReader, FileRef } from './cache-files.ts';
import { bytesReader, cachedEntry, infoOf, resolveRange, startInfo, type CacheEntryInfo, type CacheStats, type CachedEntry, type LookupOptions, type StreamedEntry } from './cache-entry.ts';
import type { IndexRow } from './cache-index.ts';
import { CacheLedger } from './cache-ledger.ts';
import { Flight, type FillResult, type FillSource, type FillStart } from './fill-flight.ts';

export type { CacheEntryInfo, CachedEntry, CacheStats, LookupOptions, StreamedEntry } from './cache-entry.ts';
export type { FillMeta, FillResult } from './fill-flight.ts';

/** Options of {@link DiskCache.open}. */
export interface DiskCacheOptions {
  /** The cache's folder (created). */
  dir: string;
  /** Size limit of the files; `0` keeps nothing (fills still serve their callers). */
  maxBytes: number;
  /** Entries older than this are never served; `0` keeps nothing. */
  maxAgeMs: number;
  /** Tier name in stats and metrics: `storage`, `previews` or `converter`. */
  name: string;
  /**
   * Remove temp files and files the index does not know at open. Default true;
   * false for a second process (the CLI) next to a running server.
   */
  repair?: boolean | undefined;
  /** Current time in epoch ms; tests replace it. Default `Date.now`. */
  clock?: (() => number) | undefined;
  /**
   * Fills made in memory up to this size are kept in the index instead of a
   * file of their own. Default {@link INLINE_MAX_BYTES}; `0` keeps every entry in a file.
   */
  inlineMaxBytes?: number | undefined;
}

/** Default of {@link DiskCacheOptions.inlineMaxBytes}: previews and video frames, not originals. */
export const INLINE_MAX_BYTES = 256 * 1024;

const FLUSH_INTERVAL_MS = 10_000;
/** How often entries removed by another process are looked for (see `CacheLedger.reconcile`). */
const RECONCILE_INTERVAL_MS = 1000;
type Range = { start: number; end?: number | undefined };

/** See the module comment. */
export class DiskCache {
  readonly name: string;
  readonly #o: DiskCacheOptions;
  readonly #ledger: CacheLedger;
  readonly #flights = new Map<string, { flight: Flight; complete: Promise<IndexRow> }>();
  #timer: NodeJS.Timeout | undefined;

  private constructor(o: DiskCacheOptions) {
    this.name = o.name;
    this.#o = o;
    this.#ledger = new CacheLedger({ dir: o.dir, maxBytes: o.maxBytes, maxAgeMs: o.maxAgeMs, clock: o.clock ?? Date.now });
  }

  /** Opens the cache in `o.dir`, loading (and, unless `repair: false`, checking) its index. */
  static async open(o: DiskCacheOptions): Promise<DiskCache> {
    await mkdir(join(o.dir, 'data'), { recursive: true });
    await mkdir(join(o.dir, 'tmp'), { recursive: true });
    const cache = new DiskCache(o);
    await cache.#ledger.load(o.repair !== false);
    let ticks = 0;
    cache.#timer = setInterval(() => {
      cache.#ledger.reconcile();
      if (++ticks % (FLUSH_INTERVAL_MS / RECONCILE_INTERVAL_MS) !== 0) return;
      cache.#ledger.sweepExpired();
      cache.#ledger.flush();
    }, RECONCILE_INTERVAL_MS).unref();
    return cache;
  }

  /** The size limit of the files. */
  get maxBytes(): number {
    return this.#o.maxBytes;
  }

  /** The fresh entry of `key` (its file held open), bumped in the LRU order; counts a hit or miss. */
  async get(key: string, o: LookupOptions = {}): Promise<CachedEntry | undefined> {
    const entry = await this.#lookup(key, o);
    this.#countLookup(entry !== undefined, o);
    return entry;
  }

  /** Metadata of a fresh entry, without counting, bumping or opening it. */
  /**
   * Records a hit served from an in-memory copy of `key`'s entry: counted
   * and marked recently used as a read from disk would be. False when the
   * entry expired or was removed: the copy must not be served then.
   */
  memoryHit(key: string, bytes: number): boolean {
    const row = this.#ledger.fresh(key);
    if (row === undefined) return false;
    this.#ledger.bump(row);
    this.#ledger.delta.hits += 1;
    this.#ledger.delta.bytesServed += bytes;
    return true;
  }

  peek(key: string): CacheEntryInfo | undefined {
    const row = this.#ledger.fresh(key);
    return row === undefined ? undefined : infoOf(row);
  }

  /**
   * The entry of `key`, filled by `fill` when missing. Concurrent callers of
   * one key share one fill; its error reaches each of them and nothing is
   * cached. A caller that goes away never cancels the fill for the others.
   */
  async getOrFill(key: string, fill: () => Promise<FillResult>, o: LookupOptions = {}): Promise<{ entry: CachedEntry; hit: boolean }> {
    const cached = await this.#lookup(key, o);
    this.#countLookup(cached !== undefined, o);
    if (cached !== undefined) return { entry: cached, hit: true };
    const { flight, complete, leader } = this.#join(key, fill);
    const ref = await this.#take(flight);
    try {
      const row = await complete;
      return { entry: cachedEntry(infoOf(row), ref, this.#ledger.path(row.file), this.#servedBy(leader)), hit: false };
    } catch (err) {
      release(ref);
      throw err;
    }
  }

  /**
   * Like {@link getOrFill}, but streams (a range of) the bytes as soon as the
   * fill has started when it announces its size and ETag: callers read the
   * file as it grows instead of waiting for the whole object.
   */
  async streamOrFill(key: string, fill: () => Promise<FillResult>, o: LookupOptions & { range?: Range | undefined } = {}): Promise<StreamedEntry> {
    const cached = await this.#lookup(key, o);
    this.#countLookup(cached !== undefined, o);
    if (cached !== undefined) {
      try {
        const range = o.range === undefined ? undefined : resolveRange(o.range, cached.size);
        return { entry: cached, body: cached.open(range), range, hit: true };
      } catch (err) {
        cached.release();
        throw err;
      }
    }
    const { flight, complete, leader } = this.#join(key, fill);
    const ref = await this.#take(flight);
    try {
      const start = await flight.started;
      const info = start.size !== undefined && start.etag !== undefined ? startInfo(key, start, this.#ledger.now()) : infoOf(await complete);
      const range = o.range === undefined ? undefined : resolveRange(o.range, info.size);
      const r = range ?? { start: 0, end: info.size - 1 };
      const onClose = this.#servedBy(leader);
      const body = ref instanceof FileRef ? new FileRangeReader({ file: ref, start: r.start, end: r.end, follow: flight, onClose }) : bytesReader(ref, r, onClose);
      return { entry: info, body, range, hit: false };
    } catch (err) {
      release(ref);
      throw err;
    }
  }

  /**
   * Forgets an entry. A fill of it in progress still serves its callers but is
   * not kept (it may hold the old bytes); later lookups start a new fill.
   */
  async delete(key: string): Promise<void> {
    const running = this.#flights.get(key);
    if (running !== undefined) {
      running.flight.discard = true;
      this.#flights.delete(key);
    }
    const row = this.#ledger.fresh(key);
    if (row !== undefined) await this.#ledger.remove([row], false);
  }

  /** Removes every entry and file. */
  clear(): Promise<void> {
    return this.#ledger.clear();
  }

  stats(): CacheStats {
    this.#ledger.sweepExpired();
    return { name: this.name, ...this.#ledger.counters(), sizeBytes: this.#ledger.bytes, entries: this.#ledger.count, maxBytes: this.#o.maxBytes };
  }

  /** Resolves once the fills running now have completed (kept or not) and evicted files are deleted. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#flights.values()].map((f) => f.complete));
    await this.#ledger.settled();
  }

  /** Saves access times and counters; fills still running are abandoned. */
  async close(): Promise<void> {
    if (this.#ledger.closed) return;
    clearInterval(this.#timer);
    for (const { flight } of this.#flights.values()) flight.abort(new StorageError('Unavailable', `cache ${this.name} closed during a fill`));
    await this.drain();
    this.#ledger.close();
  }

  async #lookup(key: string, o: LookupOptions): Promise<CachedEntry | undefined> {
    const row = this.#ledger.fresh(key);
    if (row === undefined) return undefined;
    if (o.accept !== undefined && !(await o.accept(infoOf(row)))) {
      if (this.#ledger.current(row)) await this.#ledger.remove([row], false);
      return undefined;
    }
    const ref = await this.#openChecked(row);
    if (ref === undefined) return undefined;
    this.#ledger.bump(row);
    return cachedEntry(infoOf(row), ref, this.#ledger.path(row.file), this.#servedBy(false));
  }

  /** Opens an entry's file, or reads its inline bytes; a missing or truncated one (say, cleared by the CLI) is dropped. */
  async #openChecked(row: IndexRow): Promise<FillSource | undefined> {
    const source = row.inline ? this.#inlineBytes(row) : await this.#openFile(row);
    if (source === undefined && this.#ledger.current(row)) await this.#ledger.remove([row], false);
    return source;
  }

  /** The bytes of an inline entry, if they are there with the indexed size. */
  #inlineBytes(row: IndexRow): Buffer | undefined {
    const body = this.#ledger.body(row);
    return body?.length === row.size ? body : undefined;
  }

  /** The entry's file, open, if it is there with the indexed size. */
  async #openFile(row: IndexRow): Promise<FileRef | undefined> {
    try {
      const handle = await open(this.#ledger.path(row.file), 'r');
      if ((await handle.stat()).size === row.size) return new FileRef(handle);
      await handle.close();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw cacheFileError(err, 'open');
    }
    return undefined;
  }

  #join(key: string, fill: () => Promise<FillResult>): { flight: Flight; complete: Promise<IndexRow>; leader: boolean } {
    if (this.#ledger.closed) throw new StorageError('Unavailable', `cache ${this.name} is closed`);
    const running = this.#flights.get(key);
    if (running !== undefined) {
      running.flight.claim();
      return { ...running, leader: false };
    }
    const flight = new Flight(join(this.#o.dir, 'tmp'), fill, this.#o.inlineMaxBytes ?? INLINE_MAX_BYTES);
    flight.claim();
    const complete = this.#complete(key, flight);
    complete.catch(() => undefined);
    this.#flights.set(key, { flight, complete });
    return { flight, complete, leader: true };
  }

  async #take(flight: Flight): Promise<FillSource> {
    try {
      await flight.started;
    } catch (err) {
      flight.unclaim();
      throw err;
    }
    const ref = flight.take();
    if (ref === undefined) throw new StorageError('Internal', `cache ${this.name}: fill file is gone`);
    return ref;
  }

  /** Hands a finished fill to the ledger, then lets later lookups start fills of their own. */
  async #complete(key: string, flight: Flight): Promise<IndexRow> {
    try {
      const out = await flight.done;
      const start = await flight.started;
      return await this.#ledger.adopt(key, { ...out, contentType: start.contentType, lastModified: start.lastModified }, !flight.discard);
    } catch (err) {
      throw cacheFileError(err, 'fill');
    } finally {
      if (this.#flights.get(key)?.flight === flight) this.#flights.delete(key);
      flight.settle();
    }
  }

  #countLookup(hit: boolean, o: LookupOptions): void {
    if (o.count === false) return;
    if (hit) this.#ledger.delta.hits += 1;
    else this.#ledger.delta.misses += 1;
  }

  /** Counts the bytes a reader took, unless it is the caller whose miss filled the entry. */
  #servedBy(leader: boolean): ((bytes: number) => void) | undefined {
    return leader ? undefined : (bytes) => { this.#ledger.delta.bytesServed += bytes; };
  }
}

/** Lets go of a reader's hold on a fill (inline bytes need nothing). */
function release(source: FillSource): void {
  if (source instanceof FileRef) source.release();
}

