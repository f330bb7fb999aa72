/**
 * Catalog backends for tests: every catalog test (and every HTTP API test)
 * loops over {@link catalogBackends} so it runs on embedded SQLite and on
 * PostgreSQL.
 *
 * ```ts
 * for (const backend of catalogBackends()) {
 *   describe(`thing (${backend.name})`, () => {
 *     test('works', () => withCatalog(backend, async (catalog) => { ... }));
 *   });
 * }
 * ```
 *
 * Each `url()` is a fresh, empty catalog: SQLite in its own temp dir, or its
 * own PostgreSQL schema (`?schema=t_<random>`). They are removed when the test
 * file ends (a root-level `after` hook), or at once by `withCatalog`.
 * PostgreSQL being down makes `url()` throw, so tests FAIL naming the peer;
 * they are never skipped.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import pg from 'pg';
import { createCatalog } from '../../src/catalog/create-catalog.ts';
import type { Catalog } from '../../src/catalog/types.ts';

export type CatalogBackendName = 'sqlite' | 'postgres';

/** One backend: its name and a factory of fresh catalog URLs. */
export interface CatalogBackend {
  name: CatalogBackendName;
  /** URL of a new, empty catalog; throws if the backend's server is not reachable. */
  url: () => string;
}

/** The PostgreSQL peer of ../shared/peers.md (trust auth). */
export const PG_HOST = '127.0.0.1';
export const PG_PORT = 5432;
export const PG_DATABASE = 'test';
export const PG_BASE_URL = `postgres://root@${PG_HOST}:${PG_PORT}/${PG_DATABASE}`;

const PG_DOWN_MESSAGE =
  `PostgreSQL at ${PG_HOST}:${PG_PORT} (database ${PG_DATABASE}) is not reachable: start it with ` +
  '`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` — see ../shared/peers.md';

/** Resources made by url(), removed by the root `after` hook (or by withCatalog). */
const pending = new Map<string, () => Promise<void>>();

/** Why PostgreSQL cannot be used (undefined when it can), checked once per test file. */
const pgProblem: string | undefined = await probePostgres();

after(async () => {
  const cleanups = [...pending.values()];
  pending.clear();
  for (const cleanup of cleanups) await cleanup();
});

/** Both backends, SQLite first. */
export function catalogBackends(): CatalogBackend[] {
  return [
    { name: 'sqlite', url: sqliteUrl },
    { name: 'postgres', url: postgresUrl },
  ];
}

/** The backend with this name. */
export function catalogBackend(name: CatalogBackendName): CatalogBackend {
  const backend = catalogBackends().find((b) => b.name === name);
  if (!backend) throw new Error(`no catalog backend ${name}`);
  return backend;
}

/** Throws the "start PostgreSQL" message when the peer is down. */
export function assertPostgresReachable(): void {
  if (pgProblem !== undefined) throw new Error(`${PG_DOWN_MESSAGE} (${pgProblem})`);
}

/**
 * Runs `fn` with a catalog on a fresh database of the backend, then closes it
 * and removes the database, whatever `fn` did.
 */
export async function withCatalog<T>(
  backend: CatalogBackendName | CatalogBackend,
  fn: (catalog: Catalog, url: string) => Promise<T>,
): Promise<T> {
  const url = (typeof backend === 'string' ? catalogBackend(backend) : backend).url();
  try {
    const catalog = await createCatalog({ url });
    try {
      return await fn(catalog, url);
    } finally {
      await catalog.close();
    }
  } finally {
    await dropCatalog(url);
  }
}

/** Removes a database made by a backend's url() now instead of at the end of the file. */
export async function dropCatalog(url: string): Promise<void> {
  const cleanup = pending.get(url);
  pending.delete(url);
  await cleanup?.();
}

function sqliteUrl(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stowage-catalog-'));
  const url = `sqlite:${join(dir, 'catalog.db')}`;
  pending.set(url, async () => rmSync(dir, { recursive: true, force: true }));
  return url;
}

function postgresUrl(): string {
  assertPostgresReachable();
  const schema = `t_${randomBytes(8).toString('hex')}`;
  const url = `${PG_BASE_URL}?schema=${schema}`;
  pending.set(url, () => withPgClient((c) => c.query(`drop schema if exists "${schema}" cascade`)));
  return url;
}

async function withPgClient(fn: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: PG_BASE_URL, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    await fn(client);
  } finally {
    await client.end();
  }
}

async function probePostgres(): Promise<string | undefined> {
  try {
    await withPgClient((c) => c.query('select 1'));
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
