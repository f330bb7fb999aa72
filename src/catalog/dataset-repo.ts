/** Datasets: create (nested via parentId), get, list, descendants. */
import { sql, type Kysely } from 'kysely';
import { invalidInput, notFound } from '../errors.ts';
import type { CatalogDb, DialectName } from './db-schema.ts';
import { runList, type ListSpec } from './list-query.ts';
import { nowIso, toDataset, toJson } from './rows.ts';
import { checkName, isUniqueViolation, nonUnique } from './sql-util.ts';
import type { Catalog, Dataset, ListQuery, ListResult, NewDataset } from './types.ts';

/** What dataset lists accept. */
export const DATASET_LIST_SPEC: ListSpec = {
  filterFields: {
    id: { column: 'id', kind: 'int' },
    name: { column: 'name', kind: 'text' },
    parentId: { column: 'parent_id', kind: 'nullableInt' },
    createdAt: { column: 'created_at', kind: 'time' },
    updatedAt: { column: 'updated_at', kind: 'time' },
  },
  sortFields: { id: 'id', name: 'name', createdAt: 'created_at', updatedAt: 'updated_at', size: 'size' },
};

/** The `datasets` part of the catalog. */
export function createDatasetRepo(db: Kysely<CatalogDb>, dialect: DialectName): Catalog['datasets'] {
  return {
    async create(d: NewDataset): Promise<Dataset> {
      const name = checkName(d.name);
      const parentId = d.parentId ?? null;
      try {
        return toDataset(await insertDataset(db, d, name, parentId));
      } catch (err) {
        // Another writer took the name between our check and our insert.
        if (isUniqueViolation(err)) await assertNameFree(db, d.projectId, parentId, name);
        throw err;
      }
    },

    async get(id: number): Promise<Dataset | undefined> {
      const row = await db.selectFrom('datasets').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toDataset(row);
    },

    async list(q: ListQuery & { projectId: number; recursive?: boolean }): Promise<ListResult<Dataset>> {
      const byParent = (q.filters ?? []).some((f) => f.field === 'parentId');
      return runList({
        dialect,
        spec: DATASET_LIST_SPEC,
        query: q,
        map: toDataset,
        base: () => {
          const qb = db.selectFrom('datasets').where('project_id', '=', q.projectId);
          return q.recursive || byParent ? qb : qb.where('parent_id', 'is', null);
        },
      });
    },

    descendantIds: (id: number) => descendantIds(db, id),
  };
}

async function insertDataset(db: Kysely<CatalogDb>, d: NewDataset, name: string, parentId: number | null) {
  return db.transaction().execute(async (trx) => {
    // Bumping the counter first also locks the project row, which serialises
    // dataset creation per project and makes the name check below race-free.
    const project = await trx
      .updateTable('projects')
      .set((eb) => ({ datasets_count: eb('datasets_count', '+', 1) }))
      .where('id', '=', d.projectId)
      .returning(['team_id', 'workspace_id'])
      .executeTakeFirst();
    if (!project) throw notFound('project', d.projectId);
    if (parentId !== null) {
      const parent = await trx.selectFrom('datasets').select('project_id').where('id', '=', parentId).executeTakeFirst();
      if (!parent) throw notFound('dataset', parentId);
      if (Number(parent.project_id) !== d.projectId) {
        throw invalidInput('parentId', `dataset ${parentId} belongs to another project`);
      }
    }
    await assertNameFree(trx, d.projectId, parentId, name);
    const now = nowIso();
    return trx
      .insertInto('datasets')
      .values({
        project_id: d.projectId,
        parent_id: parentId,
        name,
        description: d.description ?? '',
        custom_data: toJson(d.customData),
        team_id: project.team_id,
        workspace_id: project.workspace_id,
        created_at: now,
        updated_at: now,
        created_by: d.createdBy ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

async function assertNameFree(db: Kysely<CatalogDb>, projectId: number, parentId: number | null, name: string): Promise<void> {
  const clash = await db
    .selectFrom('datasets')
    .select('id')
    .where('project_id', '=', projectId)
    .where('parent_id', parentId === null ? 'is' : '=', parentId)
    .where('name', '=', name)
    .executeTakeFirst();
  if (clash) throw nonUnique('dataset', [{ name, id: Number(clash.id) }]);
}

/** Ids of a dataset and every dataset below it: the dataset first, then ascending; [] if it does not exist. */
export async function descendantIds(db: Kysely<CatalogDb>, id: number): Promise<number[]> {
  const rows = await db
    .withRecursive('tree(id)', (qc) =>
      qc
        .selectFrom('datasets')
        .select('id')
        .where('id', '=', id)
        // UNION (not UNION ALL) stops at rows already seen, should a cycle ever exist.
        .union(qc.selectFrom('datasets as d').innerJoin('tree', 'tree.id', 'd.parent_id').select('d.id')),
    )
    .selectFrom('tree')
    .select('id')
    .orderBy(sql`case when id = ${id} then 0 else 1 end`)
    .orderBy('id')
    .execute();
  return rows.map((r) => Number(r.id));
}
