/** The small repositories: content-addressed blobs, API keys, settings. */
import { sql, type Kysely, type SqlBool } from 'kysely';
import { invalidInput } from '../errors.ts';
import type { CatalogDb, DialectName } from './db-schema.ts';
import { nowIso, toApiKey, toApiKeyRecord, toBlob, toJson } from './rows.ts';
import { checkCount, checkName, chunk, IN_CHUNK, inValues } from './sql-util.ts';
import type { Catalog } from './types.ts';

/** The `blobs` part of the catalog. */
export function createBlobRepo(db: Kysely<CatalogDb>, dialect: DialectName): Catalog['blobs'] {
  return {
    async get(hash) {
      const row = await db.selectFrom('blobs').selectAll().where('hash', '=', hash).executeTakeFirst();
      return row && toBlob(row);
    },

    async existing(hashes) {
      const found: string[] = [];
      for (const part of chunk([...new Set(hashes)], IN_CHUNK)) {
        const rows = await db.selectFrom('blobs').select('hash').where(inValues(dialect, 'hash', part)).execute();
        found.push(...rows.map((r) => r.hash));
      }
      return found;
    },

    async put(b) {
      checkName(b.hash, 'hash');
      if (b.kind !== 'image' && b.kind !== 'video') throw invalidInput('kind', 'kind must be "image" or "video"');
      // The first record of a hash wins: its bytes are already in place.
      await db
        .insertInto('blobs')
        .values({
          hash: b.hash,
          kind: b.kind,
          bucket: b.bucket,
          key: b.key,
          size: checkCount(b.size, 'size'),
          mime: b.mime,
          info: toJson(b.info),
          created_at: nowIso(),
        })
        .onConflict((oc) => oc.column('hash').doNothing())
        .execute();
      return toBlob(await db.selectFrom('blobs').selectAll().where('hash', '=', b.hash).executeTakeFirstOrThrow());
    },

    async unreferenced(limit, afterHash) {
      let q = db.selectFrom('blobs').selectAll().where(UNREFERENCED);
      if (afterHash !== undefined) q = q.where('hash', '>', afterHash);
      const rows = await q.orderBy('hash').limit(checkCount(limit, 'limit')).execute();
      return rows.map(toBlob);
    },

    async remove(hash) {
      // The reference check sits in the DELETE itself: an item added since the
      // blob was listed keeps it.
      const result = await db.deleteFrom('blobs').where('hash', '=', hash).where(UNREFERENCED).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

/**
 * No item keeps its bytes in the blob: linked items (storage key cleared by
 * `*.update.links`) may keep the hash but no longer read our copy. Served by
 * the partial indexes `images_stored_hash`/`videos_stored_hash`.
 */
const UNREFERENCED = sql<SqlBool>`not exists (select 1 from images i where i.hash = blobs.hash and i.storage_key is not null)
  and not exists (select 1 from videos v where v.hash = blobs.hash and v.storage_key is not null)`;

/** The `apiKeys` part of the catalog. */
export function createApiKeyRepo(db: Kysely<CatalogDb>): Catalog['apiKeys'] {
  return {
    async create(k) {
      checkName(k.name);
      if (k.role !== 'admin' && k.role !== 'user') throw invalidInput('role', 'role must be "admin" or "user"');
      const row = await db
        .insertInto('api_keys')
        .values({ name: k.name, role: k.role, prefix: k.prefix, key_hash: k.keyHash, created_at: nowIso() })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toApiKey(row);
    },

    async findActiveByHash(keyHash) {
      const row = await db
        .selectFrom('api_keys')
        .selectAll()
        .where('key_hash', '=', keyHash)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return row && toApiKeyRecord(row);
    },

    async list() {
      const rows = await db.selectFrom('api_keys').selectAll().orderBy('id').execute();
      return rows.map(toApiKey);
    },

    async revoke(idOrName) {
      const result = await db
        .updateTable('api_keys')
        .set({ revoked_at: nowIso() })
        .where(typeof idOrName === 'number' ? 'id' : 'name', '=', idOrName)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    async touch(id) {
      await db.updateTable('api_keys').set({ last_used_at: nowIso() }).where('id', '=', id).execute();
    },
  };
}

/** The `settings` part of the catalog. */
export function createSettingsRepo(db: Kysely<CatalogDb>): Catalog['settings'] {
  return {
    async get(name) {
      const row = await db.selectFrom('settings').select('value').where('name', '=', name).executeTakeFirst();
      return row?.value;
    },

    async setIfAbsent(name, value) {
      // ON CONFLICT DO NOTHING makes the race atomic: the loser's insert is a
      // no-op and both then read the winner's value.
      await db
        .insertInto('settings')
        .values({ name, value })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
      const row = await db.selectFrom('settings').select('value').where('name', '=', name).executeTakeFirstOrThrow();
      return row.value;
    },
  };
}
