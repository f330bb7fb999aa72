/**
 * Starting and resuming jobs on request (the API, the CLI): the input is
 * checked (project, target, connection), then the unfinished job of the same
 * work is resumed, or a new one created, and run here.
 */
import { AppError } from '../errors.ts';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
import type { JobLauncher, JobView } from './job-types.ts';
import type { MigrationJobs } from './migration-jobs.ts';
import { probeProjectTarget, projectLauncher, projectOptions, type ProjectJobDeps } from './project-job.ts';
import { projectKind } from './project-migration.ts';
import type { ItemFailure } from './project-stats.ts';
import { resolveProjectTarget } from './project-target.ts';
import { checkStorageTarget, storageLauncher, storageOptions, type StorageJobDeps, type StorageJobOptions } from './storage-job.ts';

/** How a start went: the job, whether an unfinished one was resumed, whether a live owner runs it already. */
export interface Started {
  job: JobView;
  resumed: boolean;
  alreadyRunning: boolean;
}

/** What starting a project migration needs. */
export interface ProjectStart {
  projectId: number;
  to: string;
  keepTree?: boolean | undefined;
  concurrency?: number | undefined;
  backoff?: BackoffOptions | undefined;
  /** Start again from the first item instead of resuming an unfinished job. */
  restart?: boolean | undefined;
  /** Told about each failed item (the CLI prints them). */
  onFailure?: ((f: ItemFailure) => void) | undefined;
}

/**
 * Checks the request (project, target bucket, target writable), then
 * resumes the unfinished job of this project and target or creates one.
 */
export async function startProjectJob(jobs: MigrationJobs, deps: ProjectJobDeps, req: ProjectStart): Promise<Started> {
  await projectKind(deps.catalog, req.projectId);
  const target = resolveProjectTarget(req.to, deps.links);
  const options = { keepTree: req.keepTree === true, concurrency: req.concurrency ?? 10, backoff: req.backoff ?? DEFAULT_BACKOFF };
  const existing = await jobs.unfinished('project', req.projectId, target.to);
  if (existing?.live === true) return { job: await jobs.status(existing.job.id), resumed: false, alreadyRunning: true };
  await probeProjectTarget(target, options.backoff);
  const launcher = projectLauncher(deps, target, req.onFailure);
  const reuse = existing !== undefined && projectOptions(existing.job).keepTree === options.keepTree ? existing.job : undefined;
  if (reuse === undefined) {
    return { job: await jobs.create({ kind: 'project', projectId: req.projectId, target: target.to, options }, launcher), resumed: false, alreadyRunning: false };
  }
  return claimed(jobs, reuse.id, await jobs.claimAndRun(reuse, launcher, req.restart === true));
}

/** The outcome of claiming an unfinished job: run here, or (taken by someone just before) already running. */
async function claimed(jobs: MigrationJobs, id: number, view: JobView | undefined): Promise<Started> {
  return view === undefined ? { job: await jobs.status(id), resumed: false, alreadyRunning: true } : { job: view, resumed: true, alreadyRunning: false };
}

/** What starting a storage migration needs (`to`: a connection name). */
export interface StorageStart {
  to: string;
  bucketPrefix?: string | undefined;
  include?: string[] | undefined;
  exclude?: string[] | undefined;
  concurrency?: number | undefined;
  sizeOnly?: boolean | undefined;
  backoff?: BackoffOptions | undefined;
}

/**
 * Checks the connection and its target buckets (created when missing,
 * written to once), then resumes the unfinished storage job to the same
 * connection or creates one. Resuming is running the copy again with the
 * new options: what is already there is skipped.
 */
export async function startStorageJob(jobs: MigrationJobs, deps: StorageJobDeps, req: StorageStart): Promise<Started> {
  const options = storageOptions({
    options: {
      ...(req.bucketPrefix === undefined ? {} : { bucketPrefix: req.bucketPrefix }), include: req.include ?? [], exclude: req.exclude ?? [],
      concurrency: req.concurrency ?? 10, sizeOnly: req.sizeOnly === true, backoff: req.backoff ?? DEFAULT_BACKOFF,
    },
  }, deps);
  const existing = await jobs.unfinished('storage', 0, req.to);
  if (existing?.live === true) return { job: await jobs.status(existing.job.id), resumed: false, alreadyRunning: true };
  await checkStorageTarget(deps, req.to, options);
  const launcher = storageLauncher(deps);
  if (existing !== undefined && sameOptions(storageOptions(existing.job, deps), options)) {
    return claimed(jobs, existing.job.id, await jobs.claimAndRun(existing.job, launcher));
  }
  // Other filters or prefix: other work. The old job must not be taken over later beside the new one.
  if (existing !== undefined) await jobs.cancel(existing.job.id);
  return { job: await jobs.create({ kind: 'storage', projectId: 0, target: req.to, options: { ...options } }, launcher), resumed: false, alreadyRunning: false };
}

function sameOptions(a: StorageJobOptions, b: StorageJobOptions): boolean {
  return a.bucketPrefix === b.bucketPrefix && a.sizeOnly === b.sizeOnly &&
    JSON.stringify([a.include, a.exclude]) === JSON.stringify([b.include, b.exclude]);
}

/** Resumes a job by id (cancelled, failed or interrupted), after checking its target as a start does. */
export async function resumeJob(
  jobs: MigrationJobs, deps: ProjectJobDeps & StorageJobDeps, id: number, onFailure?: (f: ItemFailure) => void,
): Promise<Omit<Started, 'resumed'>> {
  const { job, live } = await jobs.find(id);
  if (job.status === 'done') throw new AppError('InvalidInput', `migration ${id} is done: start a new one to pick up what was added since`, { field: 'id' });
  if (live) return { job: await jobs.status(id), alreadyRunning: true };
  let launcher: JobLauncher | undefined;
  if (job.kind === 'project') {
    const target = resolveProjectTarget(job.target, deps.links);
    await probeProjectTarget(target, projectOptions(job).backoff);
    launcher = projectLauncher(deps, target, onFailure);
  }
  if (job.kind === 'storage') await checkStorageTarget(deps, job.target, storageOptions(job, deps));
  const r = await claimed(jobs, id, await jobs.claimAndRun(job, launcher));
  return { job: r.job, alreadyRunning: r.alreadyRunning };
}
