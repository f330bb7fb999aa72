/**
 * Item writes: batched adds with the name-conflict check, removals and link
 * updates, each in one transaction that also keeps the dataset and project
 * counters (itemsCount, size) exact.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import { AppError, invalidInput, notFound } from '../errors.ts';
import type { CatalogDb, DialectName, ItemTable } from './db-schema.ts';
import { asItemDb, type ItemKind } from './item-kind.ts';
import { applyLinkMetadata } from './item-link-meta.ts';
import { nowIso, toJson } from './rows.ts';
import {
  checkCount,
  checkName,
  chunk,
  IN_CHUNK,
  inValues,
  isUniqueViolation,
  MAX_INSERT_PARAMS,
  nonUnique,
  repeatedNames,
  type NameClash,
} from './sql-util.ts';
import type { ItemBase, LinkUpdate, NewItem } from './types.ts';

/** Rows per CASE-based bulk update (two parameters per row plus the id list). */
const LINK_UPDATE_CHUNK = 500;

interface DatasetScope {
  project_id: number;
  team_id: number;
  workspace_id: number;
}

/** See {@link ItemRepo.addMany}. */
export async function addItems<T extends ItemBase, N extends NewItem>(
  db: Kysely<CatalogDb>,
  dialect: DialectName,
  kind: ItemKind<T, N>,
  datasetId: number,
  items: N[],
): Promise<T[]> {
  const names = items.map((item) => checkName(item.name));
  const total = items.reduce((sum, item) => sum + checkCount(item.size ?? 0, 'size'), 0);
  if (items.length === 0) {
    const exists = await db.selectFrom('datasets').select('id').where('id', '=', datasetId).executeTakeFirst();
    if (!exists) throw notFound('dataset', datasetId);
    return [];
  }
  try {
    const rows = await db.transaction().execute(async (trx) => {
      // Bumping the dataset's counters first also locks its row: concurrent
      // adds to one dataset queue here, so the name check below is race-free.
      const scope = await bumpDataset(trx, datasetId, items.length, total);
      if (!scope) throw notFound('dataset', datasetId);
      await assertNamesFree(trx, dialect, kind, datasetId, names);
      const inserted = await insertItems(trx, dialect, kind, datasetId, scope, items);
      // The project's row is shared by every add to any of its datasets, from
      // every instance: it is locked last, so only the commit waits while it is held.
      if ((await bumpProject(trx, scope.project_id, items.length, total)) !== kind.projectType) {
        throw invalidInput('datasetId', `dataset ${datasetId} is not in a project of ${kind.projectType}`);
      }
      return inserted;
    });
    const byName = new Map(rows.map((row) => [row.name, row]));
    return names.map((name) => kind.toDomain(byName.get(name)));
  } catch (err) {
    // A concurrent writer won the race for a name: report it like the check does.
    if (isUniqueViolation(err)) await assertNamesFree(db, dialect, kind, datasetId, names);
    throw err;
  }
}

/** Adds to a dataset's counters; returns where its items belong, or undefined if it does not exist. */
async function bumpDataset(trx: Kysely<CatalogDb>, id: number, count: number, size: number): Promise<DatasetScope | undefined> {
  const row = await trx
    .updateTable('datasets')
    .set((eb) => ({
      items_count: eb('items_count', '+', count),
      size: eb('size', '+', size),
      item_revision: eb('item_revision', '+', 1),
    }))
    .where('id', '=', id)
    .returning(['project_id', 'team_id', 'workspace_id'])
    .executeTakeFirst();
  return row && { project_id: Number(row.project_id), team_id: Number(row.team_id), workspace_id: Number(row.workspace_id) };
}

/** Adds to a project's counters; returns its type, or undefined if it does not exist. */
async function bumpProject(trx: Kysely<CatalogDb>, id: number, count: number, size: number): Promise<string | undefined> {
  const row = await trx
    .updateTable('projects')
    .set((eb) => ({
      items_count: eb('items_count', '+', count),
      size: eb('size', '+', size),
      item_revision: eb('item_revision', '+', 1),
    }))
    .where('id', '=', id)
    .returning('type')
    .executeTakeFirst();
  return row?.type;
}

/** Throws the NONUNIQUE conflict when names repeat in the batch or are taken in the dataset (one query). */
async function assertNamesFree(
  db: Kysely<CatalogDb>,
  dialect: DialectName,
  kind: ItemKind<any, any>,
  datasetId: number,
  names: string[],
): Promise<void> {
  const unique = [...new Set(names)];
  const taken = new Map<string, number>();
  for (const part of chunk(unique, IN_CHUNK)) {
    const rows = await asItemDb(db)
      .selectFrom(kind.table)
      .select(['id', 'name'])
      .where('dataset_id', '=', datasetId)
      .where(inValues(dialect, 'name', part))
      .execute();
    for (const row of rows) taken.set(row.name, Number(row.id));
  }
  const repeated = repeatedNames(names).filter((name) => !taken.has(name));
  const errors: NameClash[] = [
    ...unique.filter((name) => taken.has(name)).map((name) => ({ name, id: taken.get(name) ?? null })),
    ...repeated.map((name) => ({ name, id: null })),
  ];
  if (errors.length > 0) throw nonUnique(kind.label, errors);
}

/** PostgreSQL types of the shared item columns, for the array parameters of {@link insertUnnest}. */
const PG_COLUMN_TYPES: Readonly<Record<string, string>> = {
  dataset_id: 'bigint',
  project_id: 'bigint',
  team_id: 'bigint',
  workspace_id: 'bigint',
  size: 'bigint',
  created_by: 'bigint',
};

async function insertItems<N extends NewItem>(
  trx: Kysely<CatalogDb>,
  dialect: DialectName,
  kind: ItemKind<any, N>,
  datasetId: number,
  scope: DatasetScope,
  items: N[],
): Promise<Selectable<ItemTable>[]> {
  const now = nowIso();
  const values = items.map((item) => ({
    dataset_id: datasetId,
    project_id: scope.project_id,
    team_id: scope.team_id,
    workspace_id: scope.workspace_id,
    name: item.name,
    hash: item.hash ?? null,
    link: item.link ?? null,
    bucket: item.bucket ?? null,
    storage_key: item.storageKey ?? null,
    mime: item.mime ?? null,
    size: item.size ?? 0,
    meta: toJson(item.meta),
    description: item.description ?? '',
    created_at: now,
    updated_at: now,
    created_by: item.createdBy ?? null,
    ...kind.extraValues(item),
  }));
  if (dialect === 'postgres') return insertUnnest(trx, kind, values);
  const rowsPerInsert = Math.max(1, Math.floor(MAX_INSERT_PARAMS / kind.columnCount));
  const inserted: Selectable<ItemTable>[] = [];
  for (const part of chunk(values, rowsPerInsert)) {
    inserted.push(...(await asItemDb(trx).insertInto(kind.table).values(part).returningAll().execute()));
  }
  return inserted;
}

/**
 * PostgreSQL: one array parameter per column (`INSERT ... SELECT * FROM
 * unnest(...)`), about twice as fast as a VALUES list of 1,000 rows, whose
 * ~19,000 parameters take long to parse and plan.
 */
async function insertUnnest(
  trx: Kysely<CatalogDb>,
  kind: ItemKind<any, any>,
  values: readonly Record<string, unknown>[],
): Promise<Selectable<ItemTable>[]> {
  const columns = Object.keys(values[0] ?? {});
  const arrays = columns.map((column) => {
    const type = PG_COLUMN_TYPES[column] ?? kind.pgTypes[column] ?? 'text';
    return sql`${values.map((row) => row[column] ?? null)}::${sql.raw(type)}[]`;
  });
  const { rows } = await sql<Selectable<ItemTable>>`insert into ${sql.table(kind.table)} (${sql.join(columns.map((c) => sql.ref(c)))})
    select * from unnest(${sql.join(arrays)}) returning *`.execute(trx);
  return rows;
}

/** See {@link ItemRepo.removeMany}. */
export async function removeItems(db: Kysely<CatalogDb>, dialect: DialectName, kind: ItemKind<any, any>, ids: number[]): Promise<number> {
  const unique = [...new Set(ids.map((id) => checkCount(id, 'ids')))];
  if (unique.length === 0) return 0;
  return db.transaction().execute(async (trx) => {
    const deleted: { dataset_id: number; project_id: number; size: number }[] = [];
    for (const part of chunk(unique, IN_CHUNK)) {
      deleted.push(
        ...(await asItemDb(trx)
          .deleteFrom(kind.table)
          .where(inValues(dialect, 'id', part))
          .returning(['dataset_id', 'project_id', 'size'])
          .execute()),
      );
    }
    await applyRemovals(trx, 'datasets', deleted.map((r) => ({ owner: Number(r.dataset_id), size: Number(r.size) })));
    await applyRemovals(trx, 'projects', deleted.map((r) => ({ owner: Number(r.project_id), size: Number(r.size) })));
    return deleted.length;
  });
}

/** Lowers counters per owner, in id order so concurrent removals lock rows in one order. */
async function applyRemovals(trx: Kysely<CatalogDb>, table: 'datasets' | 'projects', removed: { owner: number; size: number }[]) {
  const totals = new Map<number, { count: number; size: number }>();
  for (const { owner, size } of removed) {
    const t = totals.get(owner) ?? { count: 0, size: 0 };
    t.count += 1;
    t.size += size;
    totals.set(owner, t);
  }
  for (const [id, t] of [...totals].sort((a, b) => a[0] - b[0])) {
    await (table === 'datasets' ? bumpDataset : bumpProject)(trx, id, -t.count, -t.size);
  }
}

/** See {@link ItemRepo.updateLinks}. */
export async function updateItemLinks<T extends ItemBase>(
  db: Kysely<CatalogDb>,
  dialect: DialectName,
  kind: ItemKind<T, any>,
  updates: LinkUpdate[],
): Promise<T[]> {
  const links = new Map<number, string>();
  for (const u of updates) links.set(checkCount(u.id, 'id'), checkName(u.link, 'link'));
  const ids = [...links.keys()];
  if (ids.length === 0) return [];
  const rows = await db.transaction().execute(async (trx) => {
    const now = nowIso();
    const out: Selectable<ItemTable>[] = [];
    for (const part of chunk(ids, LINK_UPDATE_CHUNK)) {
      const cases = part.map((id) => sql`when ${id} then ${links.get(id) ?? null}`);
      out.push(
        ...(await asItemDb(trx)
          .updateTable(kind.table)
          .set({ link: sql<string>`case id ${sql.join(cases, sql` `)} end`, bucket: null, storage_key: null, updated_at: now })
          .where(inValues(dialect, 'id', part))
          .returningAll()
          .execute()),
      );
    }
    // Checking after updating needs no extra query and no row locks; throwing
    // here rolls every update back.
    const updated = new Set(out.map((r) => Number(r.id)));
    const missing = ids.filter((id) => !updated.has(id));
    if (missing.length > 0) throw new AppError('NotFound', `${kind.label}s not found: ${missing.join(', ')}`, { ids: missing });
    if (updates.some((u) => u.metadata !== undefined)) {
      await applyLinkMetadata(trx, dialect, kind, updates);
      return reselect(trx, dialect, kind, ids);
    }
    return out;
  });
  const byId = new Map(rows.map((r) => [Number(r.id), r]));
  return ids.map((id) => kind.toDomain(byId.get(id)));
}

/** Rows as they are now (after the metadata half of a link update). */
async function reselect(trx: Kysely<CatalogDb>, dialect: DialectName, kind: ItemKind<any, any>, ids: number[]): Promise<Selectable<ItemTable>[]> {
  const out: Selectable<ItemTable>[] = [];
  for (const part of chunk(ids, IN_CHUNK)) out.push(...(await asItemDb(trx).selectFrom(kind.table).selectAll().where(inValues(dialect, 'id', part)).execute()));
  return out;
}
