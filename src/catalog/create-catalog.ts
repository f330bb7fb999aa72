/**
 * Opens the catalog: embedded SQLite (`sqlite:<path>`, `sqlite::memory:`) or
 * PostgreSQL (`postgres://…`, `postgresql://…`, optional `?schema=<name>`),
 * applies pending migrations and returns the {@link Catalog}.
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { invalidInput } from '../errors.ts';
import { createDatasetRepo } from './dataset-repo.ts';
import type { CatalogDb, DialectName } from './db-schema.ts';
import { IMAGE_KIND, VIDEO_KIND } from './item-kind.ts';
import { createItemRepo } from './item-repo.ts';
import { migrate } from './migrations.ts';
import { PgMaintenance } from './pg-maintenance.ts';
import { createProjectRepo } from './project-repo.ts';
import { createApiKeyRepo, createBlobRepo, createSettingsRepo } from './small-repos.ts';
import { createConnectionRepo } from './connection-repo.ts';
import { createMigrationJobRepo } from './migration-job-repo.ts';
import { openSqlite } from './sqlite-open.ts';
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
    const maintenance = target.dialect === 'postgres' ? await PgMaintenance.create(db, opts.logger?.info.bind(opts.logger)) : undefined;
    return assemble(db, target.dialect, maintenance);
  } catch (err) {
    await db.destroy();
    throw err;
  }
}

function assemble(db: Kysely<CatalogDb>, dialect: DialectName, maintenance: PgMaintenance | undefined): Catalog {
  let closing: Promise<void> | undefined;
  const onWrite = maintenance && ((table: 'images' | 'videos', rows: number) => maintenance.noteWrites(table, rows));
  return {
    dialect,
    projects: createProjectRepo(db, dialect),
    datasets: createDatasetRepo(db, dialect),
    images: createItemRepo(db, dialect, IMAGE_KIND, onWrite),
    videos: createItemRepo(db, dialect, VIDEO_KIND, onWrite),
    blobs: createBlobRepo(db, dialect),
    apiKeys: createApiKeyRepo(db),
    settings: createSettingsRepo(db),
    connections: createConnectionRepo(db),
    migrationJobs: createMigrationJobRepo(db),
    close: () => (closing ??= (async () => {
      await maintenance?.idle();
      await db.destroy();
    })()),
  };
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
