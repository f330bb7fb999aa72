/** The generic item repository behind `catalog.images` and `catalog.videos`. */
import type { Kysely } from 'kysely';
import type { CatalogDb, DialectName } from './db-schema.ts';
import { asItemDb, type ItemKind } from './item-kind.ts';
import { listItems } from './item-list.ts';
import { addItems, removeItems, updateItemLinks } from './item-writes.ts';
import { OffsetCheckpoints } from './offset-seek.ts';
import { checkCount, chunk, IN_CHUNK, inValues } from './sql-util.ts';
import type { ItemBase, ItemRepo, NewItem } from './types.ts';

/** An {@link ItemRepo} for one kind of item. */
export function createItemRepo<T extends ItemBase, N extends NewItem>(
  db: Kysely<CatalogDb>,
  dialect: DialectName,
  kind: ItemKind<T, N>,
  /** Told about committed inserts and deletes (rows), e.g. to schedule maintenance. */
  onWrite?: (table: 'images' | 'videos', rows: number) => void,
): ItemRepo<T, N> {
  const idb = asItemDb(db);
  const list = { db, dialect, checkpoints: new OffsetCheckpoints() };
  return {
    async addMany(datasetId, items) {
      const added = await addItems(db, dialect, kind, datasetId, items);
      onWrite?.(kind.table, added.length);
      return added;
    },

    async get(id) {
      const row = await idb.selectFrom(kind.table).selectAll().where('id', '=', id).executeTakeFirst();
      return row && kind.toDomain(row);
    },

    async getMany(ids) {
      const unique = [...new Set(ids.map((id) => checkCount(id, 'ids')))];
      const out: T[] = [];
      for (const part of chunk(unique, IN_CHUNK)) {
        const rows = await idb.selectFrom(kind.table).selectAll().where(inValues(dialect, 'id', part)).execute();
        out.push(...rows.map(kind.toDomain));
      }
      return out;
    },

    list: (query) => listItems(list, kind, query),
    async removeMany(ids) {
      const removed = await removeItems(db, dialect, kind, ids);
      onWrite?.(kind.table, removed);
      return removed;
    },
    updateLinks: (updates) => updateItemLinks(db, dialect, kind, updates),
  };
}

