/** Projects: create, get, list. Counters are maintained by the dataset and item repos. */
import type { Kysely } from 'kysely';
import { invalidInput, notFound } from '../errors.ts';
import type { CatalogDb, DialectName } from './db-schema.ts';
import { runList, type ListSpec } from './list-query.ts';
import { nowIso, toJson, toProject } from './rows.ts';
import { checkName, isUniqueViolation, nonUnique } from './sql-util.ts';
import type { Catalog, ListQuery, ListResult, NewProject, Project } from './types.ts';

/** What project lists accept. */
export const PROJECT_LIST_SPEC: ListSpec = {
  filterFields: {
    id: { column: 'id', kind: 'int' },
    name: { column: 'name', kind: 'text' },
    createdAt: { column: 'created_at', kind: 'time' },
    updatedAt: { column: 'updated_at', kind: 'time' },
  },
  sortFields: { id: 'id', name: 'name', createdAt: 'created_at', updatedAt: 'updated_at', size: 'size' },
};

/** The `projects` part of the catalog. */
export function createProjectRepo(db: Kysely<CatalogDb>, dialect: DialectName): Catalog['projects'] {
  return {
    async create(p: NewProject): Promise<Project> {
      const name = checkName(p.name);
      if (p.type !== 'images' && p.type !== 'videos') throw invalidInput('type', 'type must be "images" or "videos"');
      try {
        const row = await db.transaction().execute(async (trx) => {
          const ws = await trx.selectFrom('workspaces').select('team_id').where('id', '=', p.workspaceId).executeTakeFirst();
          if (!ws) throw notFound('workspace', p.workspaceId);
          await assertNameFree(trx, p.workspaceId, name);
          const now = nowIso();
          return trx
            .insertInto('projects')
            .values({
              workspace_id: p.workspaceId,
              team_id: ws.team_id,
              name,
              description: p.description ?? '',
              type: p.type,
              readme: p.readme ?? '',
              custom_data: toJson(p.customData),
              settings: toJson(p.settings),
              created_at: now,
              updated_at: now,
              created_by: p.createdBy ?? null,
            })
            .returningAll()
            .executeTakeFirstOrThrow();
        });
        return toProject(row);
      } catch (err) {
        // Another writer took the name between our check and our insert.
        if (isUniqueViolation(err)) await assertNameFree(db, p.workspaceId, name);
        throw err;
      }
    },

    async get(id: number): Promise<Project | undefined> {
      const row = await db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toProject(row);
    },

    async list(q: ListQuery & { workspaceId?: number; teamId?: number }): Promise<ListResult<Project>> {
      return runList({
        dialect,
        spec: PROJECT_LIST_SPEC,
        query: q,
        map: toProject,
        base: () => {
          let qb = db.selectFrom('projects');
          if (q.workspaceId !== undefined) qb = qb.where('workspace_id', '=', q.workspaceId);
          if (q.teamId !== undefined) qb = qb.where('team_id', '=', q.teamId);
          return qb;
        },
      });
    },
  };
}

async function assertNameFree(db: Kysely<CatalogDb>, workspaceId: number, name: string): Promise<void> {
  const clash = await db
    .selectFrom('projects')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('name', '=', name)
    .executeTakeFirst();
  if (clash) throw nonUnique('project', [{ name, id: Number(clash.id) }]);
}
