/**
 * `migrations.plan` (admin key only): the dry run shown before a migration
 * is started; it writes nothing.
 *
 * - `{projectId, to, keepTree?}`: a project migration (`migrations.start
 *   {projectId, to}`): the project and target are checked as `start` checks
 *   them (`resolveProjectTarget`), then the items are walked page by page:
 *   how many there are, how many are linked already, how many (and how many
 *   bytes) would be uploaded, and how many of those are already at their
 *   target key with the same size (a real run skips those after comparing
 *   MD5 too). Presence is looked up for the first {@link MAX_PRESENCE_LOOKUPS}
 *   candidates only; the reply says how many were looked up.
 * - `{kind: 'storage', to: <connection>, bucketPrefix?}`: a storage migration
 *   of both primary buckets to `<prefix>-public|-private` of the connection,
 *   run through `migrateStorage` with `dryRun: true` (objects, bytes,
 *   already present, conflicts).
 */
import { z } from 'zod';
import type { ItemBase } from '../../catalog/types.ts';
import { AppError } from '../../errors.ts';
import { describeError, MigrationAborted, type BackoffOptions } from '../../migrate/backoff.ts';
import { forEachLimit } from '../../migrate/pool.ts';
import { PROJECT_PAGE, projectKind } from '../../migrate/project-migration.ts';
import { datasetPaths } from '../../migrate/project-stats.ts';
import { itemPlace, resolveProjectTarget, type ProjectTarget } from '../../migrate/project-target.ts';
import { connectionStore, storageBuckets } from '../../migrate/storage-job.ts';
import { migrateStorage, type StorageMigrationReport } from '../../migrate/storage-migration.ts';
import { isStorageError } from '../../storage/errors.ts';
import type { Services } from '../../services/services.ts';
import { defineMethod, type ApiMethod } from '../api-method.ts';
import { id, wireBool } from '../wire-types.ts';

/** Target lookups of one project plan at most: a plan must answer while a person waits. */
export const MAX_PRESENCE_LOOKUPS = 2000;
const LOOKUP_CONCURRENCY = 8;
const PLAN_BACKOFF: BackoffOptions = { attempts: 2, minDelayMs: 200, maxDelayMs: 1000 };

/** The dry run of a project migration. */
export interface ProjectPlan {
  kind: 'project';
  dryRun: true;
  projectId: number;
  itemType: 'image' | 'video';
  /** The target as a job would record it, and the connection serving its bucket. */
  target: string;
  connection: string;
  items: number;
  alreadyLinked: number;
  /** Items not linked yet: uploaded (or found at the target) and re-pointed. */
  toMigrate: number;
  bytes: number;
  /** Candidates looked up at the target, and of those already there with the same size. */
  lookedUp: number;
  alreadyAtTarget: number;
  alreadyAtTargetBytes: number;
  /** Items with neither stored bytes nor a link: a run would report them as failed. */
  missingBytes: number;
  /** Why lookups at the target failed (credentials, permissions), if they did. */
  targetProblem: string | null;
}

/** The dry run of a storage migration. */
export interface StoragePlan extends StorageMigrationReport {
  kind: 'storage';
  to: string;
  buckets: Array<{ from: string; to: string }>;
}

const projectInput = z.object({ kind: z.literal('project').optional(), projectId: id, to: z.string().min(1).max(2048), keepTree: wireBool.default(false) });
const storageInput = z.object({
  kind: z.literal('storage'),
  to: z.string({ error: 'to: expected a connection name' }).min(1, 'to: expected a connection name').max(63),
  bucketPrefix: z.string().regex(/^[a-z0-9][a-z0-9.-]{0,50}$/, 'expected 1-51 lowercase letters, digits, "." or "-"').optional(),
  sizeOnly: wireBool.default(false),
});
const input = z.union([storageInput, projectInput], { error: 'expected {projectId, to} or {kind: "storage", to}' });

/** Counters of a project plan while its pages are walked. */
type Tally = Omit<ProjectPlan, 'kind' | 'dryRun' | 'projectId' | 'itemType' | 'target' | 'connection'>;

async function lookUp(t: ProjectTarget, key: string, size: number, tally: Tally): Promise<void> {
  try {
    const head = await t.store.head(t.bucket, key);
    if (head.size === size) {
      tally.alreadyAtTarget += 1;
      tally.alreadyAtTargetBytes += size;
    }
  } catch (err) {
    if (!isStorageError(err, 'NotFound')) tally.targetProblem ??= describeError(err);
  }
}

/** Walks the project's items a page at a time, counting and looking candidates up at the target. */
async function tallyProject(services: Services, projectId: number, kind: 'image' | 'video', t: ProjectTarget, keepTree: boolean): Promise<Tally> {
  const tally: Tally = { items: 0, alreadyLinked: 0, toMigrate: 0, bytes: 0, lookedUp: 0, alreadyAtTarget: 0, alreadyAtTargetBytes: 0, missingBytes: 0, targetProblem: null };
  const repo = kind === 'image' ? services.catalog.images : services.catalog.videos;
  const paths = keepTree ? await datasetPaths(services.catalog, projectId) : new Map<number, string[]>();
  const type = kind === 'image' ? 'images' : 'videos';
  for (let afterId = 0; ;) {
    const { rows } = await repo.list({ projectId, limit: PROJECT_PAGE, afterId, sort: 'id', sortOrder: 'asc' });
    const last = rows.at(-1);
    if (last === undefined) return tally;
    const todo = (rows as ItemBase[]).filter((r) => r.link === null);
    tally.items += rows.length;
    tally.alreadyLinked += rows.length - todo.length;
    tally.toMigrate += todo.length;
    for (const r of todo) tally.bytes += r.size;
    tally.missingBytes += todo.filter((r) => r.storageKey === null).length;
    // Once the target refused a lookup, every further one would fail the same way.
    const look = tally.targetProblem === null ? todo.slice(0, Math.max(0, MAX_PRESENCE_LOOKUPS - tally.lookedUp)) : [];
    tally.lookedUp += look.length;
    await forEachLimit(look, LOOKUP_CONCURRENCY, (item) =>
      lookUp(t, itemPlace(t, type, projectId, item, keepTree, paths.get(item.datasetId) ?? []).key, item.size, tally));
    afterId = last.id;
  }
}

async function planProject(services: Services, i: z.output<typeof projectInput>): Promise<ProjectPlan> {
  const { kind } = await projectKind(services.catalog, i.projectId);
  const target = resolveProjectTarget(i.to, services.links);
  const tally = await tallyProject(services, i.projectId, kind, target, i.keepTree);
  return { kind: 'project', dryRun: true, projectId: i.projectId, itemType: kind, target: target.to, connection: target.connection, ...tally };
}

async function planStorage(services: Services, i: z.output<typeof storageInput>): Promise<StoragePlan> {
  const target = connectionStore(services.links, i.to);
  const { storage } = services.config;
  const buckets = storageBuckets({ storage }, i.bucketPrefix ?? storage.bucketPrefix);
  const run = migrateStorage({
    source: services.store, target, buckets, filter: { include: [], exclude: [] },
    concurrency: LOOKUP_CONCURRENCY, backoff: PLAN_BACKOFF, dryRun: true, sizeOnly: i.sizeOnly,
  });
  try {
    return { kind: 'storage', to: i.to, buckets, ...(await run.done) };
  } catch (err) {
    if (err instanceof MigrationAborted) throw new AppError('Unavailable', `dry run against ${i.to}: ${err.message}`, { field: 'to' });
    throw err;
  }
}

const plan = defineMethod({
  name: 'migrations.plan',
  admin: true,
  input,
  handle: async ({ input: i, services }) => (i.kind === 'storage' ? planStorage(services, i) : planProject(services, i)),
});

/** The migration dry-run method. */
export const migrationPlanMethods: ApiMethod[] = [plan];
