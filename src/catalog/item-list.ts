/**
 * Item listing: by dataset (optionally with its sub-datasets) or by project,
 * with counters for the total and checkpoints for deep pages.
 */
import { sql, type Kysely, type QueryCreator } from 'kysely';
import { invalidInput } from '../errors.ts';
import type { CatalogDb, DialectName } from './db-schema.ts';
import { asItemDb, type ItemDb, type ItemKind } from './item-kind.ts';
import { checkPaging, runList, type ListSpec } from './list-query.ts';
import type { OffsetCheckpoints, SeekFn } from './offset-seek.ts';
import type { ItemBase, ItemListQuery, ListResult } from './types.ts';

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

/** What a list needs besides the query. */
export interface ItemListContext {
  db: Kysely<CatalogDb>;
  dialect: DialectName;
  checkpoints: OffsetCheckpoints;
}

/** A scope whose row count a counter holds exactly: one dataset (not recursive) or one project. */
interface CounterScope {
  table: 'datasets' | 'projects';
  column: 'dataset_id' | 'project_id';
  id: number;
}

/** {@link withTree} with the item tables addressed as {@link ItemDb}. */
type ItemTreeCreator = QueryCreator<ItemDb & { tree: { id: number } }>;

/** Items of a dataset (optionally with its sub-datasets) or of a project. */
export async function listItems<T extends ItemBase>(
  ctx: ItemListContext,
  kind: ItemKind<T, any>,
  q: ItemListQuery,
): Promise<ListResult<T>> {
  const { datasetId, projectId } = q;
  if (datasetId === undefined && projectId === undefined) {
    throw invalidInput('datasetId', 'listing items needs a datasetId or a projectId');
  }
  checkPaging(q);
  const scope = counterScope(q);
  const seeked = scope && (await seekPage(ctx, kind, q, scope));
  if (seeked) return seeked;
  const recursive = q.recursive === true && datasetId !== undefined;
  // Non-recursive lists never touch `tree`; one creator type keeps the builder below simple.
  const qc = (recursive ? withTree(ctx.db, datasetId) : ctx.db) as unknown as ItemTreeCreator;
  return runList({
    dialect: ctx.dialect,
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
    unfilteredTotal: counterTotal(ctx.db, kind, scope, recursive ? datasetId : undefined),
  });
}

/**
 * Without filters the total is a counter the writes keep exact: no COUNT(*)
 * over up to millions of rows on every page.
 */
function counterTotal(
  db: Kysely<CatalogDb>,
  kind: ItemKind<any, any>,
  scope: CounterScope | undefined,
  treeRootId: number | undefined,
): (() => Promise<number>) | undefined {
  if (scope) return async () => (await counterRow(db, scope, kind)).count;
  if (treeRootId !== undefined) return () => treeTotal(db, kind, treeRootId);
  return undefined;
}

function counterScope(q: ItemListQuery): CounterScope | undefined {
  if (q.datasetId !== undefined && q.projectId !== undefined) return undefined;
  if (q.datasetId !== undefined) return q.recursive ? undefined : { table: 'datasets', column: 'dataset_id', id: q.datasetId };
  if (q.projectId !== undefined) return { table: 'projects', column: 'project_id', id: q.projectId };
  return undefined;
}

/**
 * The scope's item count and revision. A scope in a project of the other
 * type holds none of this kind (adds refuse them), whatever its counter says.
 */
async function counterRow(
  db: Kysely<CatalogDb>,
  scope: CounterScope,
  kind: ItemKind<any, any>,
): Promise<{ count: number; revision: number }> {
  const row =
    scope.table === 'projects'
      ? await db.selectFrom('projects').select(['items_count', 'item_revision', 'type']).where('id', '=', scope.id).executeTakeFirst()
      : await db
          .selectFrom('datasets as d')
          .innerJoin('projects as p', 'p.id', 'd.project_id')
          .select(['d.items_count', 'd.item_revision', 'p.type'])
          .where('d.id', '=', scope.id)
          .executeTakeFirst();
  if (!row || row.type !== kind.projectType) return { count: 0, revision: 0 };
  return { count: Number(row.items_count), revision: Number(row.item_revision) };
}

/**
 * A deep unfiltered page in a unique key order (id; name within a dataset),
 * read from the nearest checkpoint (see offset-seek.ts); undefined when the
 * plain query should answer instead.
 */
async function seekPage<T extends ItemBase>(
  ctx: ItemListContext,
  kind: ItemKind<T, any>,
  q: ItemListQuery,
  scope: CounterScope,
): Promise<ListResult<T> | undefined> {
  const offset = q.offset ?? 0;
  const key = seekKey(q, scope);
  if (!key || (q.filters?.length ?? 0) > 0 || q.afterId !== undefined || offset < ctx.checkpoints.step) return undefined;
  const { count: total, revision } = await counterRow(ctx.db, scope, kind);
  // The page as positions in ascending key order (a descending page is read ascending, then reversed).
  const desc = q.sortOrder === 'desc';
  const first = desc ? Math.max(0, total - offset - q.limit) : offset;
  const end = desc ? total - offset : Math.min(total, offset + q.limit);
  if (end <= first) return { total, rows: [] };
  const idb = asItemDb(ctx.db);
  const inScope = () => idb.selectFrom(kind.table).where(scope.column, '=', scope.id);
  const seek: SeekFn = async (from, skip) => {
    const qb = from === null ? inScope() : inScope().where(key, '>=', from);
    const row = await qb.select(key).orderBy(key).limit(1).offset(skip).executeTakeFirst();
    return row?.[key];
  };
  const checkpoint = await ctx.checkpoints.before(`${kind.table}:${scope.column}:${scope.id}:${key}`, revision, first, seek);
  if (!checkpoint) return undefined;
  const rows = await inScope()
    .selectAll()
    .where(key, '>=', checkpoint.key)
    .orderBy(key)
    .limit(end - first)
    .offset(first - checkpoint.position)
    .execute();
  if (desc) rows.reverse();
  return { total, rows: rows.map(kind.toDomain) };
}

/** The column a seek may order by: unique within the scope, so it alone fixes the order. */
function seekKey(q: ItemListQuery, scope: CounterScope): 'id' | 'name' | undefined {
  const sort = q.sort ?? 'id';
  if (sort === 'id') return 'id';
  return sort === 'name' && scope.column === 'dataset_id' ? 'name' : undefined;
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

async function treeTotal(db: Kysely<CatalogDb>, kind: ItemKind<any, any>, rootId: number): Promise<number> {
  const row = await withTree(db, rootId)
    .selectFrom('datasets as d')
    .innerJoin('projects as p', 'p.id', 'd.project_id')
    .select(sql<number>`coalesce(sum(d.items_count), 0)`.as('n'))
    .where('d.id', 'in', (eb) => eb.selectFrom('tree').select('tree.id'))
    .where('p.type', '=', kind.projectType)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
