/** The generic item repository behind `catalog.images` and `catalog.videos`. */
import { sql, type Kysely, type QueryCreator } from 'kysely';
import { invalidInput } from '../errors.ts';
import type { CatalogDb, DialectName } from './db-schema.ts';
import { asItemDb, type ItemDb, type ItemKind } from './item-kind.ts';
import { addItems, removeItems, updateItemLinks } from './item-writes.ts';
import { runList, type ListSpec } from './list-query.ts';
import { checkCount, chunk, IN_CHUNK } from './sql-util.ts';
import type { ItemBase, ItemListQuery, ItemRepo, ListResult, NewItem } from './types.ts';

/** What item lists accept. */
export const ITEM_LIST_SPEC: ListSpec = {
  filterFields: {
    id: { column: 'id', kind: 'int' },
    name: { column: 'name', kind: 'text' },
    createdAt: { column: 'created_at', kind: 'time' },
    updatedAt: { column: 'updated_at', kind: 'time' },
    hash: { column: 'hash', kind: 'nullableText' },
    link: { column: 'link', kind: 'nullableText' },
  },
  sortFields: { id: 'id', name: 'name', createdAt: 'created_at', updatedAt: 'updated_at', size: 'size' },
};

/** An {@link ItemRepo} for one kind of item. */
export function createItemRepo<T extends ItemBase, N extends NewItem>(
  db: Kysely<CatalogDb>,
  dialect: DialectName,
  kind: ItemKind<T, N>,
): ItemRepo<T, N> {
  const idb = asItemDb(db);
  return {
    addMany: (datasetId, items) => addItems(db, kind, datasetId, items),

    async get(id) {
      const row = await idb.selectFrom(kind.table).selectAll().where('id', '=', id).executeTakeFirst();
      return row && kind.toDomain(row);
    },

    async getMany(ids) {
      const unique = [...new Set(ids.map((id) => checkCount(id, 'ids')))];
      const out: T[] = [];
      for (const part of chunk(unique, IN_CHUNK)) {
        const rows = await idb.selectFrom(kind.table).selectAll().where('id', 'in', part).execute();
        out.push(...rows.map(kind.toDomain));
      }
      return out;
    },

    list: (query) => listItems(db, dialect, kind, query),
    removeMany: (ids) => removeItems(db, kind, ids),
    updateLinks: (updates) => updateItemLinks(db, kind, updates),
  };
}

/** Items of a dataset (optionally with its sub-datasets) or of a project. */
async function listItems<T extends ItemBase>(
  db: Kysely<CatalogDb>,
  dialect: DialectName,
  kind: ItemKind<T, any>,
  q: ItemListQuery,
): Promise<ListResult<T>> {
  const { datasetId, projectId } = q;
  if (datasetId === undefined && projectId === undefined) {
    throw invalidInput('datasetId', 'listing items needs a datasetId or a projectId');
  }
  const recursive = q.recursive === true && datasetId !== undefined;
  // Non-recursive lists never touch `tree`; one creator type keeps the builder below simple.
  const qc = (recursive ? withTree(db, datasetId) : db) as unknown as ItemTreeCreator;
  return runList({
    dialect,
    spec: ITEM_LIST_SPEC,
    query: q,
    map: kind.toDomain,
    base: () => {
      let qb = qc.selectFrom(kind.table);
      if (recursive) qb = qb.where('dataset_id', 'in', (eb) => eb.selectFrom('tree').select('tree.id'));
      else if (datasetId !== undefined) qb = qb.where('dataset_id', '=', datasetId);
      if (projectId !== undefined) qb = qb.where('project_id', '=', projectId);
      return qb;
    },
    unfilteredTotal: counterTotal(db, q, recursive),
  });
}

/** The dataset and its descendants as a recursive CTE named `tree`. */
function withTree(db: Kysely<CatalogDb>, rootId: number) {
  return db.withRecursive('tree(id)', (qc) =>
    qc
      .selectFrom('datasets')
      .select('id')
      .where('id', '=', rootId)
      .union(qc.selectFrom('datasets as d').innerJoin('tree', 'tree.id', 'd.parent_id').select('d.id')),
  );
}

/** {@link withTree} with the item tables addressed as {@link ItemDb}. */
type ItemTreeCreator = QueryCreator<ItemDb & { tree: { id: number } }>;

/**
 * Without filters the total is a counter the writes keep exact: reading it
 * avoids a COUNT(*) over up to millions of rows on every page.
 */
function counterTotal(db: Kysely<CatalogDb>, q: ItemListQuery, recursive: boolean): (() => Promise<number>) | undefined {
  const { datasetId, projectId } = q;
  if (datasetId !== undefined && projectId !== undefined) return undefined;
  if (recursive && datasetId !== undefined) {
    return async () => {
      const row = await withTree(db, datasetId)
        .selectFrom('datasets')
        .select(sql<number>`coalesce(sum(items_count), 0)`.as('n'))
        .where('id', 'in', (eb) => eb.selectFrom('tree').select('tree.id'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    };
  }
  const table = datasetId !== undefined ? 'datasets' : 'projects';
  const id = datasetId ?? projectId ?? 0;
  return async () => {
    const row = await db.selectFrom(table).select('items_count').where('id', '=', id).executeTakeFirst();
    return row ? Number(row.items_count) : 0;
  };
}
