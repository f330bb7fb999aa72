/** The `connections` part of the catalog: remote connections added through the API. */
import type { Kysely, Selectable } from 'kysely';
import type { CatalogDb, ConnectionTable } from './db-schema.ts';
import { fromJson, nowIso, toJson } from './rows.ts';
import { checkName, isUniqueViolation, nonUnique } from './sql-util.ts';
import type { ConnectionRepo, StoredConnection } from './types.ts';

function toConnection(r: Selectable<ConnectionTable>): StoredConnection {
  return {
    id: Number(r.id),
    name: r.name,
    provider: r.provider,
    settings: fromJson(r.settings),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** The `connections` repository (same code on SQLite and PostgreSQL). */
export function createConnectionRepo(db: Kysely<CatalogDb>): ConnectionRepo {
  const get = async (name: string): Promise<StoredConnection | undefined> => {
    const row = await db.selectFrom('connections').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toConnection(row);
  };
  return {
    get,

    async list() {
      const rows = await db.selectFrom('connections').selectAll().orderBy('name').execute();
      return rows.map(toConnection);
    },

    async create(c) {
      checkName(c.name);
      checkName(c.provider, 'provider');
      const now = nowIso();
      try {
        const row = await db
          .insertInto('connections')
          .values({ name: c.name, provider: c.provider, settings: toJson(c.settings), created_at: now, updated_at: now })
          .returningAll()
          .executeTakeFirstOrThrow();
        return toConnection(row);
      } catch (err) {
        // The unique index decides races between instances sharing the database.
        if (isUniqueViolation(err)) throw nonUnique('connection', [{ name: c.name, id: (await get(c.name))?.id ?? null }]);
        throw err;
      }
    },

    async update(name, c) {
      checkName(c.provider, 'provider');
      const row = await db
        .updateTable('connections')
        .set({ provider: c.provider, settings: toJson(c.settings), updated_at: nowIso() })
        .where('name', '=', name)
        .returningAll()
        .executeTakeFirst();
      return row && toConnection(row);
    },

    async remove(name) {
      const result = await db.deleteFrom('connections').where('name', '=', name).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
