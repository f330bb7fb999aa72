/**
 * The `migrationJobs` part of the catalog: long jobs (project and storage
 * migrations, background link imports). Every write of a running job is
 * fenced by its owner, so a run that lost its job to another process (after
 * being presumed dead) can no longer touch it. Taking a job over is one
 * conditional UPDATE (owner and heartbeat in its WHERE): on PostgreSQL a
 * second UPDATE racing for the same row waits for the first's row lock and
 * then re-checks the WHERE against the new owner, so exactly one wins; on
 * SQLite writers are serialised anyway.
 */
import { sql, type Kysely, type Selectable, type SqlBool } from 'kysely';
import type { CatalogDb, MigrationJobTable } from './db-schema.ts';
import { fromJson, nowIso, toJson } from './rows.ts';
import { checkCount, checkName } from './sql-util.ts';
import type { MigrationJob, MigrationJobKind, MigrationJobRepo, MigrationJobStatus } from './types.ts';

function toJob(r: Selectable<MigrationJobTable>): MigrationJob {
  return {
    id: Number(r.id),
    kind: r.kind as MigrationJobKind,
    projectId: Number(r.project_id),
    target: r.target,
    options: fromJson(r.options),
    status: r.status as MigrationJobStatus,
    progress: fromJson(r.progress),
    cursor: Number(r.resume_after),
    error: r.error,
    owner: r.owner,
    cancelRequested: Number(r.cancel_requested) !== 0,
    heartbeatAt: r.heartbeat_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
  };
}

const FINISHED: readonly MigrationJobStatus[] = ['done', 'failed', 'cancelled'];

/** The `migration_jobs` repository (same code on SQLite and PostgreSQL). */
export function createMigrationJobRepo(db: Kysely<CatalogDb>): MigrationJobRepo {
  const get = async (id: number): Promise<MigrationJob | undefined> => {
    const row = await db.selectFrom('migration_jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toJob(row);
  };
  return {
    get,

    async create(j) {
      checkCount(j.projectId, 'projectId');
      checkName(j.target, 'target');
      const now = nowIso();
      const row = await db
        .insertInto('migration_jobs')
        .values({
          kind: j.kind ?? 'project', project_id: j.projectId, target: j.target, options: toJson(j.options), status: 'running',
          progress: '{}', resume_after: 0, owner: j.owner, cancel_requested: 0, heartbeat_at: now, created_at: now, updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toJob(row);
    },

    async list(limit) {
      const rows = await db.selectFrom('migration_jobs').selectAll().orderBy('id', 'desc').limit(checkCount(limit, 'limit')).execute();
      return rows.map(toJob);
    },

    async findUnfinished(projectId, target, kind = 'project') {
      const row = await db.selectFrom('migration_jobs').selectAll()
        .where('kind', '=', kind).where('project_id', '=', projectId).where('target', '=', target).where('status', '<>', 'done')
        .orderBy('id', 'desc').limit(1).executeTakeFirst();
      return row && toJob(row);
    },

    async claim(id, owner, staleBefore, deadOwner) {
      const free = sql<SqlBool>`(status <> 'running' or owner is null or owner = ${owner} or heartbeat_at is null
        or heartbeat_at < ${staleBefore} or owner = ${deadOwner ?? owner})`;
      const now = nowIso();
      const row = await db.updateTable('migration_jobs')
        .set({ status: 'running', owner, heartbeat_at: now, updated_at: now, cancel_requested: 0, error: null, finished_at: null })
        .where('id', '=', id).where('status', '<>', 'done').where(free)
        .returningAll().executeTakeFirst();
      return row && toJob(row);
    },

    async findAbandoned(staleBefore, limit) {
      const rows = await db.selectFrom('migration_jobs').selectAll().where('status', '=', 'running')
        .where((eb) => eb.or([eb('owner', 'is', null), eb('heartbeat_at', 'is', null), eb('heartbeat_at', '<', staleBefore)]))
        .orderBy('id', 'asc').limit(checkCount(limit, 'limit')).execute();
      return rows.map(toJob);
    },

    async takeOver(id, owner, staleBefore) {
      const now = nowIso();
      const row = await db.updateTable('migration_jobs')
        .set({ owner, heartbeat_at: now, updated_at: now })
        .where('id', '=', id).where('status', '=', 'running')
        .where((eb) => eb.or([eb('owner', 'is', null), eb('heartbeat_at', 'is', null), eb('heartbeat_at', '<', staleBefore)]))
        .returningAll().executeTakeFirst();
      return row && toJob(row);
    },

    async release(id, owner, u) {
      const now = nowIso();
      const row = await db.updateTable('migration_jobs')
        .set({
          owner: null, heartbeat_at: null, updated_at: now,
          ...(u.progress === undefined ? {} : { progress: toJson(u.progress) }),
          ...(u.cursor === undefined ? {} : { resume_after: checkCount(u.cursor, 'cursor') }),
        })
        .where('id', '=', id).where('owner', '=', owner).where('status', '=', 'running')
        .returningAll().executeTakeFirst();
      return row && toJob(row);
    },

    async save(id, owner, u) {
      const now = nowIso();
      const finished = u.status !== undefined && FINISHED.includes(u.status);
      const row = await db.updateTable('migration_jobs')
        .set({
          heartbeat_at: now, updated_at: now,
          ...(u.progress === undefined ? {} : { progress: toJson(u.progress) }),
          ...(u.cursor === undefined ? {} : { resume_after: checkCount(u.cursor, 'cursor') }),
          ...(u.status === undefined ? {} : { status: u.status }),
          ...(u.error === undefined ? {} : { error: u.error }),
          ...(finished ? { finished_at: now, owner: null } : {}),
        })
        .where('id', '=', id).where('owner', '=', owner)
        .returningAll().executeTakeFirst();
      return row && toJob(row);
    },

    async requestCancel(id) {
      const row = await db.updateTable('migration_jobs').set({ cancel_requested: 1, updated_at: nowIso() })
        .where('id', '=', id).where('status', '=', 'running').returningAll().executeTakeFirst();
      return row ? toJob(row) : get(id);
    },

    async markCancelled(id, owner) {
      const now = nowIso();
      const row = await db.updateTable('migration_jobs')
        .set({ status: 'cancelled', owner: null, cancel_requested: 0, updated_at: now, finished_at: now })
        .where('id', '=', id).where('status', '=', 'running')
        .where((eb) => (owner === null ? eb('owner', 'is', null) : eb.or([eb('owner', 'is', null), eb('owner', '=', owner)])))
        .returningAll().executeTakeFirst();
      return row && toJob(row);
    },
  };
}
