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
    // Without filters the total is a counter the writes keep exact: no
    // COUNT(*) over up to millions of rows on every page.
    unfilteredTotal: scope ? () => counterRow(ctx.db, scope).then((r) => r.count) : recursive ? () => treeTotal(ctx.db, datasetId) : undefined,
  });
}

function counterScope(q: ItemListQuery): CounterScope | undefined {
  if (q.datasetId !== undefined && q.projectId !== undefined) return undefined;
  if (q.datasetId !== undefined) return q.recursive ? undefined : { table: 'datasets', column: 'dataset_id', id: q.datasetId };
  if (q.projectId !== undefined) return { table: 'projects', column: 'project_id', id: q.projectId };
  return undefined;
}

async function counterRow(db: Kysely<CatalogDb>, scope: CounterScope): Promise<{ count: number; revision: number }> {
  const row = await db.selectFrom(scope.table).select(['items_count', 'item_revision']).where('id', '=', scope.id).executeTakeFirst();
  return { count: Number(row?.items_count ?? 0), revision: Number(row?.item_revision ?? 0) };
}

/**
 * A deep unfiltered page in id order, read from the nearest checkpoint (see
 * offset-seek.ts); undefined when the plain query should answer instead.
 */
async function seekPage<T extends ItemBase>(
  ctx: ItemListContext,
  kind: ItemKind<T, any>,
  q: ItemListQuery,
  scope: CounterScope,
): Promise<ListResult<T> | undefined> {
  const offset = q.offset ?? 0;
  const plain = (q.filters?.length ?? 0) > 0 || (q.sort ?? 'id') !== 'id' || q.afterId !== undefined;
  if (plain || offset < ctx.checkpoints.step) return undefined;
  const { count: total, revision } = await counterRow(ctx.db, scope);
  // The page as positions in ascending id order (a descending page is read ascending, then reversed).
  const desc = q.sortOrder === 'desc';
  const first = desc ? Math.max(0, total - offset - q.limit) : offset;
  const end = desc ? total - offset : Math.min(total, offset + q.limit);
  if (end <= first) return { total, rows: [] };
  const idb = asItemDb(ctx.db);
  const inScope = () => idb.selectFrom(kind.table).where(scope.column, '=', scope.id);
  const seek: SeekFn = async (fromId, skip) => {
    const qb = fromId === null ? inScope() : inScope().where('id', '>=', fromId);
    const row = await qb.select('id').orderBy('id').limit(1).offset(skip).executeTakeFirst();
    return row && Number(row.id);
  };
  const checkpoint = await ctx.checkpoints.before(`${kind.table}:${scope.column}:${scope.id}`, revision, first, seek);
  if (!checkpoint) return undefined;
  const rows = await inScope()
    .selectAll()
    .where('id', '>=', checkpoint.id)
    .orderBy('id')
    .limit(end - first)
    .offset(first - checkpoint.position)
    .execute();
  if (desc) rows.reverse();
  return { total, rows: rows.map(kind.toDomain) };
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

async function treeTotal(db: Kysely<CatalogDb>, rootId: number): Promise<number> {
  const row = await withTree(db, rootId)
    .selectFrom('datasets')
    .select(sql<number>`coalesce(sum(items_count), 0)`.as('n'))
    .where('id', 'in', (eb) => eb.selectFrom('tree').select('tree.id'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
