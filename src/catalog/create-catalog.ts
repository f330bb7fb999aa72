/**
 * Opens the catalog: embedded SQLite (`sqlite:<path>`, `sqlite::memory:`) or
 * PostgreSQL (`postgres://…`, `postgresql://…`, optional `?schema=<name>`),
 * applies pending migrations and returns the {@link Catalog}.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { invalidInput } from '../errors.ts';
import { createDatasetRepo } from './dataset-repo.ts';
import type { CatalogDb, DialectName } from './db-schema.ts';
import { IMAGE_KIND, VIDEO_KIND } from './item-kind.ts';
import { createItemRepo } from './item-repo.ts';
import { migrate } from './migrations.ts';
import { NodeSqliteDialect } from './node-sqlite-dialect.ts';
import { createProjectRepo } from './project-repo.ts';
import { createApiKeyRepo, createBlobRepo, createSettingsRepo } from './small-repos.ts';
import type { Catalog } from './types.ts';

/** Where log lines go (a pino logger fits). */
export interface CatalogLogger {
  info(obj: object, msg?: string): void;
}

/** Options of {@link createCatalog}. */
export interface CreateCatalogOptions {
  /** `sqlite:<file path>`, `sqlite::memory:`, or `postgres[ql]://user@host:port/db[?schema=name]`. */
  url: string;
  logger?: CatalogLogger;
}

/** How long SQLite waits for another process's write lock before failing (ms). */
const SQLITE_BUSY_TIMEOUT_MS = 10_000;
/** Connections per PostgreSQL pool. */
const PG_POOL_SIZE = 10;
/** PostgreSQL schemas we create and put on search_path: lowercase so no quoting rules differ. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Target of a catalog URL. */
export type CatalogTarget =
  | { dialect: 'sqlite'; path: string }
  | { dialect: 'postgres'; connectionString: string; schema: string | undefined };

/** Parses a catalog URL (see {@link CreateCatalogOptions.url}). */
export function parseCatalogUrl(url: string): CatalogTarget {
  if (url.startsWith('sqlite:')) {
    let path = url.slice('sqlite:'.length);
    if (path.startsWith('//')) path = path.slice(2); // sqlite:///abs/path
    if (path === '') throw invalidInput('url', 'sqlite: URL needs a file path or :memory:');
    return { dialect: 'sqlite', path };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const parsed = new URL(url);
    const schema = parsed.searchParams.get('schema') ?? undefined;
    if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
      throw invalidInput('url', `schema "${schema}" must match ${SCHEMA_NAME.source}`);
    }
    parsed.searchParams.delete('schema');
    return { dialect: 'postgres', connectionString: parsed.toString(), schema };
  }
  throw invalidInput('url', 'catalog URL must start with sqlite: or postgres://');
}

/**
 * Opens the catalog at `opts.url` and brings its schema up to date. Safe to
 * call from several processes at once on one database.
 */
export async function createCatalog(opts: CreateCatalogOptions): Promise<Catalog> {
  const target = parseCatalogUrl(opts.url);
  const db = target.dialect === 'sqlite' ? openSqlite(target.path) : openPostgres(target, opts.logger);
  try {
    const applied = await migrate(db, {
      dialect: target.dialect,
      schema: target.dialect === 'postgres' ? target.schema : undefined,
      logger: opts.logger,
    });
    opts.logger?.info({ dialect: target.dialect, applied }, 'catalog ready');
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return assemble(db, target.dialect);
}

function assemble(db: Kysely<CatalogDb>, dialect: DialectName): Catalog {
  let closing: Promise<void> | undefined;
  return {
    dialect,
    projects: createProjectRepo(db, dialect),
    datasets: createDatasetRepo(db, dialect),
    images: createItemRepo(db, dialect, IMAGE_KIND),
    videos: createItemRepo(db, dialect, VIDEO_KIND),
    blobs: createBlobRepo(db),
    apiKeys: createApiKeyRepo(db),
    settings: createSettingsRepo(db),
    close: () => (closing ??= db.destroy()),
  };
}

function openSqlite(path: string): Kysely<CatalogDb> {
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
  } catch (err) {
    database.close();
    throw err;
  }
  return new Kysely<CatalogDb>({ dialect: new NodeSqliteDialect({ database }) });
}

/** int8 (ids, counters, COUNT) and numeric (SUM) as JS numbers: the catalog's values stay below 2^53. */
const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if ((oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC) && format !== 'binary') {
      return (value: string) => Number(value);
    }
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

function openPostgres(target: { connectionString: string; schema: string | undefined }, logger?: CatalogLogger): Kysely<CatalogDb> {
  const pool = new pg.Pool({
    connectionString: target.connectionString,
    max: PG_POOL_SIZE,
    types: pgTypes,
    // Set at connection start-up, so every pooled connection sees only our schema.
    ...(target.schema !== undefined ? { options: `-c search_path=${target.schema}` } : {}),
  });
  // An idle client losing its server must not crash the process; the pool replaces it.
  pool.on('error', (err) => logger?.info({ err }, 'catalog: idle PostgreSQL connection failed'));
  return new Kysely<CatalogDb>({ dialect: new PostgresDialect({ pool }) });
}
