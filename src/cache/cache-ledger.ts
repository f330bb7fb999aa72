/**
 * The bookkeeping of one disk cache: entries in least-recently-used order,
 * their total size, age limits, counters, and the persisted index they are
 * mirrored to. Files are only deleted here; fills write them elsewhere.
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fsyncDir } from '../storage/providers/local/file-io.ts';
import { CacheIndex, type Counters, type IndexRow } from './cache-index.ts';
import { clearFolder, listDataFiles } from './cache-folders.ts';
import { uniqueSuffix } from './unique-name.ts';

/** A complete fill, ready to become an entry: a file in `tmp/`, or bytes kept in the index. */
export interface FilledFile {
  readonly tmpPath: string | undefined;
  /** The bytes of a fill kept in the index (see cache-index.ts); then there is no file. */
  readonly bytes: Buffer | undefined;
  readonly size: number;
  readonly etag: string;
  readonly contentType: string;
  readonly lastModified: Date | undefined;
}

/** Limits and paths of a {@link CacheLedger}. */
export interface LedgerOptions {
  readonly dir: string;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  readonly clock: () => number;
}

const zeroCounters = (): Counters => ({ hits: 0, misses: 0, bytesServed: 0, bytesFetched: 0, evictions: 0 });

/** See the module comment. */
export class CacheLedger {
  readonly #o: LedgerOptions;
  readonly #index: CacheIndex;
  /** Map order is the LRU order: least recently used first. */
  readonly #entries = new Map<string, IndexRow>();
  readonly #touched = new Map<string, number>();
  readonly #base: Counters;
  /** Counts since the last flush; other processes add theirs to the index too. */
  delta = zeroCounters();
  #bytes = 0;
  #closed = false;
  /** File deletions started by evictions that nobody awaits. */
  readonly #deleting = new Set<Promise<void>>();

  constructor(o: LedgerOptions) {
    this.#o = o;
    this.#index = CacheIndex.open(o.dir);
    this.#base = this.#index.counters();
  }

  get bytes(): number {
    return this.#bytes;
  }

  get count(): number {
    return this.#entries.size;
  }

  now(): number {
    return this.#o.clock();
  }

  /** Loads the index; with `repair`, drops rows without files and deletes files without rows and temp files. */
  async load(repair: boolean): Promise<void> {
    const now = this.now();
    const rows = this.#index.rows();
    const files = repair ? await listDataFiles(join(this.#o.dir, 'data')) : undefined;
    const dropped: IndexRow[] = [];
    for (const row of rows) {
      if (files !== undefined && !row.inline && !files.has(row.file)) dropped.push(row);
      else if (this.#expired(row, now)) dropped.push(row);
      else this.#add(row);
    }
    if (files === undefined) return;
    await this.remove(dropped, false);
    const known = new Set(rows.map((r) => r.file));
    await Promise.all([...files].filter((f) => !known.has(f)).map((f) => rm(this.path(f), { force: true })));
    await clearFolder(join(this.#o.dir, 'tmp'));
  }

  /**
   * Makes a fill an entry: renamed into `data/` (then the folder fsynced), or
   * its bytes written to the index, and indexed, unless `wanted` is false or
   * it may not be kept, when it is deleted (its readers hold it open).
   * Returns its row either way.
   */
  async adopt(key: string, f: FilledFile, wanted: boolean): Promise<IndexRow> {
    const now = this.now();
    const file = `${createHash('sha256').update(key).digest('hex')}-${uniqueSuffix()}`;
    const row: IndexRow = {
      key, file, size: f.size, contentType: f.contentType, etag: f.etag,
      createdAt: now, lastModified: f.lastModified?.getTime() ?? now, lastAccess: now, inline: f.bytes !== undefined,
    };
    this.delta.bytesFetched += f.size;
    const keep = !this.#closed && wanted && this.keeps(f.size);
    if (f.tmpPath === undefined) {
      if (keep) this.insert(row, f.bytes);
      return row;
    }
    if (!keep) {
      await rm(f.tmpPath, { force: true });
      return row;
    }
    const path = this.path(file);
    await mkdir(dirname(path), { recursive: true });
    await rename(f.tmpPath, path);
    await fsyncDir(dirname(path));
    if (!this.#closed) this.insert(row);
    return row;
  }

  /** Whether an entry of this size may be kept at all. */
  keeps(size: number): boolean {
    return this.#o.maxAgeMs > 0 && size <= this.#o.maxBytes;
  }

  /** The entry of `key` if fresh; an expired one is removed. */
  fresh(key: string): IndexRow | undefined {
    const row = this.#entries.get(key);
    if (row === undefined || !this.#expired(row, this.now())) return row;
    this.#background(this.remove([row], true));
    return undefined;
  }

  /** Whether `row` is still the entry of its key. */
  current(row: IndexRow): boolean {
    return this.#entries.get(row.key) === row;
  }

  /** Marks an entry most recently used. */
  bump(row: IndexRow): void {
    row.lastAccess = this.now();
    this.#entries.delete(row.key);
    this.#entries.set(row.key, row);
    this.#touched.set(row.key, row.lastAccess);
  }

  /** The bytes of an inline entry; undefined once they are gone (cleared by another process). */
  body(row: IndexRow): Buffer | undefined {
    return this.#index.body(row.key, row.file);
  }

  /** Adds (or replaces) an entry, then evicts the least recently used others beyond the size limit. */
  insert(row: IndexRow, body?: Uint8Array): void {
    const old = this.#entries.get(row.key);
    if (old !== undefined) this.#background(this.remove([old], false));
    this.#index.put(row, body);
    this.#add(row);
    const victims: IndexRow[] = [];
    let bytes = this.#bytes;
    for (const r of this.#entries.values()) {
      if (bytes <= this.#o.maxBytes) break;
      if (r === row) continue;
      victims.push(r);
      bytes -= r.size;
    }
    if (victims.length > 0) this.#background(this.remove(victims, true));
  }

  /** Resolves once the file deletions started in the background are done. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#deleting]);
  }

  #background(work: Promise<void>): void {
    this.#deleting.add(work);
    void work.finally(() => this.#deleting.delete(work));
  }

  /** Drops entries from memory and the index at once, then deletes their files. */
  async remove(rows: readonly IndexRow[], evicted: boolean): Promise<void> {
    for (const r of rows) {
      if (!this.current(r)) continue;
      this.#entries.delete(r.key);
      this.#touched.delete(r.key);
      this.#bytes -= r.size;
    }
    if (evicted) this.delta.evictions += rows.length;
    // The index row goes only if it still names this file: a newer fill may have replaced it.
    if (!this.#closed) this.#index.removeMany(rows);
    await Promise.all(rows.filter((r) => !r.inline).map((r) => rm(this.path(r.file), { force: true }).catch(() => undefined)));
  }

  async clear(): Promise<void> {
    this.#index.clear();
    this.#entries.clear();
    this.#touched.clear();
    this.#bytes = 0;
    await clearFolder(join(this.#o.dir, 'data'));
  }

  /**
   * Forgets the entries another process removed from the index (`stowage
   * cache clear` beside a running server): copies of them held in memory must
   * not be served. Costs one query unless something changed.
   */
  reconcile(): void {
    if (this.#closed || !this.#index.changedElsewhere()) return;
    const kept = this.#index.entryIds();
    for (const row of [...this.#entries.values()]) {
      if (kept.has(`${row.key}\n${row.file}`)) continue;
      this.#entries.delete(row.key);
      this.#touched.delete(row.key);
      this.#bytes -= row.size;
    }
  }

  /** Evicts every expired entry. */
  sweepExpired(): void {
    const now = this.now();
    const expired = [...this.#entries.values()].filter((r) => this.#expired(r, now));
    if (expired.length > 0) this.#background(this.remove(expired, true));
  }

  /** Counters since the cache was created: saved ones plus this process's. */
  counters(): Counters {
    const out = zeroCounters();
    for (const k of Object.keys(out) as Array<keyof Counters>) out[k] = this.#base[k] + this.delta[k];
    return out;
  }

  /** Saves access times and counter deltas to the index. */
  flush(): void {
    if (this.#closed) return;
    this.#index.flush(this.#touched, this.delta);
    for (const k of Object.keys(this.delta) as Array<keyof Counters>) this.#base[k] += this.delta[k];
    this.delta = zeroCounters();
    this.#touched.clear();
  }

  close(): void {
    this.flush();
    this.#closed = true;
    this.#index.close();
  }

  get closed(): boolean {
    return this.#closed;
  }

  path(file: string): string {
    return join(this.#o.dir, 'data', file.slice(0, 2), file);
  }

  #add(row: IndexRow): void {
    this.#entries.set(row.key, row);
    this.#bytes += row.size;
  }

  #expired(row: IndexRow, now: number): boolean {
    return row.createdAt + this.#o.maxAgeMs <= now;
  }
}
