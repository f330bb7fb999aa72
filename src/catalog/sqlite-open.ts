/**
 * Opens SQLite catalogs. One process keeps one connection per database file:
 * `node:sqlite` is synchronous, so a second connection in the same thread
 * waiting on the first one's lock would block the very event loop the first
 * needs to finish (a deadlock until busy_timeout). Catalogs opened on one
 * file in one process share its connection and lock instead.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Kysely } from 'kysely';
import type { CatalogDb } from './db-schema.ts';
import { Mutex, NodeSqliteDialect } from './node-sqlite-dialect.ts';

/** How long a write waits for another process's lock before failing (ms). */
export const SQLITE_BUSY_TIMEOUT_MS = 5_000;

interface SharedDatabase {
  database: DatabaseSync;
  mutex: Mutex;
  refs: number;
}

const open = new Map<string, SharedDatabase>();

/** A Kysely over the SQLite database at `path` (`:memory:` is never shared). */
export function openSqlite(path: string): Kysely<CatalogDb> {
  const key = path === ':memory:' ? undefined : resolve(path);
  const shared = (key !== undefined && open.get(key)) || { database: openDatabase(path), mutex: new Mutex(), refs: 0 };
  shared.refs += 1;
  if (key !== undefined) open.set(key, shared);
  const onDestroy = () => {
    shared.refs -= 1;
    if (shared.refs > 0) return;
    if (key !== undefined) open.delete(key);
    if (shared.database.isOpen) shared.database.close();
  };
  return new Kysely<CatalogDb>({ dialect: new NodeSqliteDialect({ database: shared.database, mutex: shared.mutex, onDestroy }) });
}

function openDatabase(path: string): DatabaseSync {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const database = new DatabaseSync(path, { timeout: SQLITE_BUSY_TIMEOUT_MS, enableForeignKeyConstraints: true });
  try {
    // WAL lets readers proceed during a write; NORMAL sync is durable across
    // application crashes and only risks the last commits on power loss.
    database.exec('pragma journal_mode = wal');
    database.exec('pragma synchronous = normal');
    database.exec('pragma foreign_keys = on');
    database.exec(`pragma busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    database.exec('pragma cache_size = -65536'); // 64 MiB: the hot item indexes stay in memory
    database.exec('pragma temp_store = memory');
    return database;
  } catch (err) {
    database.close();
    throw err;
  }
}
