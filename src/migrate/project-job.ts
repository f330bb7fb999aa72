/**
 * Project migrations (`migrations.start {projectId, to}`, `stowage migrate
 * project`) as jobs: the options a job keeps, the target check made before
 * a job starts, and the launcher that runs {@link migrateProject} from the
 * job's cursor, saving a checkpoint after every page of 1,000 items.
 */
import type { Catalog, JsonObject, MigrationJob } from '../catalog/types.ts';
import { AppError } from '../errors.ts';
import type { LinkRegistry } from '../links/registry.ts';
import type { ItemService } from '../services/items.ts';
import { DEFAULT_BACKOFF, describeError, type BackoffOptions } from './backoff.ts';
import type { JobLauncher } from './job-types.ts';
import { probeKey, probeTarget } from './preflight.ts';
import { migrateProject } from './project-migration.ts';
import { progressFrom, type ItemFailure } from './project-stats.ts';
import { resolveProjectTarget, type ProjectTarget } from './project-target.ts';

/** What a project job needs. */
export interface ProjectJobDeps {
  catalog: Catalog;
  items: ItemService;
  links: LinkRegistry;
}

/** The options a project job keeps. */
export interface ProjectJobOptions {
  keepTree: boolean;
  concurrency: number;
  backoff: BackoffOptions;
}

/** A project job's options, with the defaults for what an older job lacks. */
export function projectOptions(job: Pick<MigrationJob, 'options'>): ProjectJobOptions {
  const o = job.options as Partial<ProjectJobOptions>;
  return { keepTree: o.keepTree === true, concurrency: o.concurrency ?? 10, backoff: o.backoff ?? DEFAULT_BACKOFF };
}

/** Checks that the target takes writes; `InvalidInput` naming `to` when not. */
export async function probeProjectTarget(target: ProjectTarget, backoff: BackoffOptions): Promise<void> {
  try {
    await probeTarget(target.store, target.bucket, probeKey(target.dir), backoff);
  } catch (err) {
    throw new AppError('InvalidInput', `to: ${describeError(err)}`, { field: 'to' });
  }
}

/**
 * Runs a project job from its cursor. `target` is resolved already when the
 * job was just started through the API; a job taken over resolves its own.
 */
export function projectLauncher(deps: ProjectJobDeps, target?: ProjectTarget, onFailure?: (f: ItemFailure) => void): JobLauncher {
  return async ({ job, signal, checkpoint }) => {
    const t = target ?? resolveProjectTarget(job.target, deps.links);
    const o = projectOptions(job);
    const run = migrateProject({ catalog: deps.catalog, items: deps.items }, {
      projectId: job.projectId, target: t, keepTree: o.keepTree, concurrency: o.concurrency, backoff: o.backoff, signal,
      afterId: job.cursor, progress: progressFrom(job.progress), onFailure,
      onPage: (cursor, progress) => checkpoint(cursor, { ...progress }),
    });
    return {
      progress: (): JsonObject => ({ ...run.stats.progress() }),
      snapshot: () => run.stats.snapshot(),
      // The stored progress goes with the cursor: a heartbeat only beats.
      beat: () => ({}),
      done: run.done.then((p) => ({ ...p })),
    };
  };
}
