/**
 * The persisted index of one disk cache: a small SQLite database next to the
 * files (`index.sqlite`), so a restarted Stowage serves what it cached before.
 * The cache keeps the index in memory too; this is its journal. Access times
 * and counters are written in batches (see `flush`), entries at once.
 *
 * Small entries made in memory (previews, video frames) keep their bytes in
 * the index itself instead of a file of their own: entry and bytes are then
 * written in one transaction, and a fill costs no file creation, fsyncs or
 * rename. On a file system without a journal, creating a file scans the
 * recently deleted inodes of its group (ext4), which cost about 1 ms of
 * kernel time per preview on this project's machines; SQLite's own
 * measurements find blobs under ~100 kB faster in a database than in files.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';

/** One indexed entry. Times are epoch milliseconds. */
export interface IndexRow {
  key: string;
  /** File name under `data/`, unique per fill. */
  file: string;
  size: number;
  contentType: string;
  etag: string;
  createdAt: number;
  lastModified: number;
  lastAccess: number;
  /** The bytes are in the index (see the module comment), not in a file. */
  inline: boolean;
}

/** Counters kept across restarts. */
export const COUNTER_NAMES = ['hits', 'misses', 'bytesServed', 'bytesFetched', 'evictions'] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];
export type Counters = Record<CounterName, number>;

// Bumped when the layout changes; an index of another version is discarded (it is only a cache).
const SCHEMA_VERSION = 2;
const BUSY_TIMEOUT_MS = 5_000;
const WAL_CHECKPOINT_PAGES = 256;

const SCHEMA = `
create table if not exists entries (
  key text primary key, file text not null, size integer not null, content_type text not null,
  etag text not null, created_at integer not null, last_modified integer not null, last_access integer not null,
  body blob);
create table if not exists counters (name text primary key, value integer not null);`;

/** Reads and writes `index.sqlite` of one cache folder. */
export class CacheIndex {
  readonly #db: DatabaseSync;
  readonly #upsert: StatementSync;
  readonly #remove: StatementSync;
  readonly #touch: StatementSync;
  readonly #count: StatementSync;
  readonly #body: StatementSync;
  readonly #dataVersion: StatementSync;
  #seenVersion: number;

  private constructor(db: DatabaseSync) {
    this.#db = db;
    this.#upsert = db.prepare(`insert or replace into entries (key, file, size, content_type, etag, created_at, last_modified, last_access, body)
      values (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#body = db.prepare('select body from entries where key = ? and file = ?');
    this.#dataVersion = db.prepare('pragma data_version');
    this.#seenVersion = this.#version();
    this.#remove = db.prepare('delete from entries where key = ? and file = ?');
    this.#touch = db.prepare('update entries set last_access = ? where key = ?');
    this.#count = db.prepare('insert into counters (name, value) values (?, ?) on conflict (name) do update set value = value + excluded.value');
  }

  /** Opens (creating) the index of `dir`; an unreadable or outdated one is started afresh. */
  static open(dir: string): CacheIndex {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'index.sqlite');
    try {
      return new CacheIndex(openDatabase(path));
    } catch {
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
      return new CacheIndex(openDatabase(path));
    }
  }

  /** Every entry, least recently used first. */
  rows(): IndexRow[] {
    return this.#db.prepare(`select key, file, size, content_type as contentType, etag, created_at as createdAt,
      last_modified as lastModified, last_access as lastAccess, body is not null as inline from entries order by last_access, rowid`).all()
      .map((r) => ({ ...r, inline: r['inline'] === 1 })) as unknown as IndexRow[];
  }

  /** Whether another connection (`stowage cache stats|clear`) committed changes since the last call. */
  changedElsewhere(): boolean {
    const version = this.#version();
    const changed = version !== this.#seenVersion;
    this.#seenVersion = version;
    return changed;
  }

  /** `<key>\n<file>` of every entry. */
  entryIds(): Set<string> {
    const rows = this.#db.prepare('select key, file from entries').all() as Array<{ key: string; file: string }>;
    return new Set(rows.map((r) => `${r.key}\n${r.file}`));
  }

  counters(): Counters {
    const out: Counters = { hits: 0, misses: 0, bytesServed: 0, bytesFetched: 0, evictions: 0 };
    for (const r of this.#db.prepare('select name, value from counters').all() as Array<{ name: string; value: number }>) {
      if ((COUNTER_NAMES as readonly string[]).includes(r.name)) out[r.name as CounterName] = r.value;
    }
    return out;
  }

  /** Adds or replaces an entry; `body` holds the bytes of an inline one. */
  put(r: IndexRow, body?: Uint8Array): void {
    this.#upsert.run(r.key, r.file, r.size, r.contentType, r.etag, r.createdAt, r.lastModified, r.lastAccess, body ?? null);
  }

  /** The bytes of an inline entry, or undefined once it is gone (a newer fill, a clear by another process). */
  body(key: string, file: string): Buffer | undefined {
    const row = this.#body.get(key, file) as { body: Uint8Array | null } | undefined;
    const body = row?.body;
    return body === undefined || body === null ? undefined : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  }

  /** Removes the entry only if it still names `file` (a newer fill may have replaced it). */
  remove(key: string, file: string): void {
    this.#remove.run(key, file);
  }

  removeMany(rows: ReadonlyArray<{ key: string; file: string }>): void {
    this.#batch(() => { for (const r of rows) this.#remove.run(r.key, r.file); });
  }

  /** Removes every entry, and gives the space their bytes took back to the file system. */
  clear(): void {
    this.#db.exec('delete from entries');
    this.#db.exec('pragma incremental_vacuum');
  }

  /** Writes access times and adds counter deltas, in one transaction. */
  flush(touched: ReadonlyMap<string, number>, deltas: Counters): void {
    this.#batch(() => {
      for (const [key, at] of touched) this.#touch.run(at, key);
      for (const name of COUNTER_NAMES) if (deltas[name] !== 0) this.#count.run(name, deltas[name]);
    });
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  #version(): number {
    return (this.#dataVersion.get() as { data_version: number }).data_version;
  }

  #batch(fn: () => void): void {
    this.#db.exec('begin immediate');
    try {
      fn();
      this.#db.exec('commit');
    } catch (err) {
      this.#db.exec('rollback');
      throw err;
    }
  }
}

function openDatabase(path: string): DatabaseSync {
  const db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS });
  try {
    // Before WAL, or a new database keeps auto_vacuum off: `clear` can then shrink the file.
    db.exec('pragma auto_vacuum = incremental');
    // WAL: the CLI may read the index while the server writes it.
    db.exec('pragma journal_mode = wal');
    db.exec('pragma synchronous = normal');
    // Checkpoints run in the committing call, on the event loop, and take time in proportion to the
    // WAL: at 1 MB (not SQLite's 4 MB) one stalls it about 2 ms instead of 7–8 ms, for the same total.
    db.exec(`pragma wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
    db.exec(`pragma busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const version = (db.prepare('pragma user_version').get() as { user_version: number }).user_version;
    if (version !== SCHEMA_VERSION) {
      db.exec('drop table if exists entries; drop table if exists counters;');
      // An index of an earlier layout was made without auto_vacuum; the vacuum turns it on.
      if (version !== 0) db.exec('vacuum');
      db.exec(`pragma user_version = ${SCHEMA_VERSION}`);
    }
    db.exec(SCHEMA);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
