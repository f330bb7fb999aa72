/**
 * Project migrations as jobs kept in the catalog, for the API
 * (`migrations.start|status|cancel|list`) and `stowage migrate project`
 * alike: progress and a resume cursor are saved after every page of 1,000
 * items, so a cancelled job, or one whose process died, resumes where it
 * stopped when started again. A job is run by one owner at a time: the owner
 * beats a heartbeat, and a job whose owner is gone (its process no longer
 * exists, or no heartbeat for {@link STALE_MS}) can be taken over.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Catalog, MigrationJob, MigrationJobStatus, MigrationJobUpdate as JobUpdate } from '../catalog/types.ts';
import { AppError } from '../errors.ts';
import type { LinkRegistry } from '../links/registry.ts';
import type { ItemService } from '../services/items.ts';
import { DEFAULT_BACKOFF, describeError, MigrationAborted, type BackoffOptions } from './backoff.ts';
import { probeKey, probeTarget } from './preflight.ts';
import { migrateProject, projectKind, type ProjectMigration } from './project-migration.ts';
import { progressFrom, type ItemFailure } from './project-stats.ts';
import { resolveProjectTarget, type ProjectTarget } from './project-target.ts';
import type { ProgressSnapshot } from './progress.ts';

/** A job without a heartbeat for this long is presumed abandoned. */
export const STALE_MS = 60_000;
const HEARTBEAT_MS = 10_000;

/** Jobs each live manager of this process runs now, by owner: tells a live owner from a dead one. */
const RUNNING_HERE = new Map<string, Set<number>>();

/** A job as the API shows it: `interrupted` = running, but nobody runs it any more. */
export interface JobView extends Omit<MigrationJob, 'status' | 'cancelRequested'> {
  status: MigrationJobStatus | 'interrupted';
  cancelRequested: boolean;
  /** A sentence for people: what happened. */
  message: string;
}

/** What {@link MigrationJobs.start} needs. */
export interface StartRequest {
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

interface Running {
  abort: AbortController;
  run: ProjectMigration;
  done: Promise<void>;
  cancelled: boolean;
}

/** Runs and tracks project migration jobs for one Stowage instance. */
export class MigrationJobs {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #catalog: Catalog;
  readonly #items: ItemService;
  readonly #links: LinkRegistry;
  readonly #running = new Map<number, Running>();
  #closed = false;

  constructor(deps: { catalog: Catalog; items: ItemService; links: LinkRegistry }) {
    this.#catalog = deps.catalog;
    this.#items = deps.items;
    this.#links = deps.links;
    RUNNING_HERE.set(this.owner, new Set());
  }

  /**
   * Checks the request (project, target bucket, target writable), then
   * resumes the unfinished job of this project and target or creates one,
   * and runs it in the background. `alreadyRunning`: someone else runs it.
   */
  async start(req: StartRequest): Promise<{ job: JobView; resumed: boolean; alreadyRunning: boolean }> {
    await projectKind(this.#catalog, req.projectId);
    const target = resolveProjectTarget(req.to, this.#links);
    const options = { keepTree: req.keepTree === true, concurrency: req.concurrency ?? 10, backoff: req.backoff ?? DEFAULT_BACKOFF };
    const existing = await this.#catalog.migrationJobs.findUnfinished(req.projectId, target.to);
    if (existing !== undefined && this.#live(existing)) return { job: this.#view(existing), resumed: false, alreadyRunning: true };
    await this.#probe(target, options.backoff);
    const reuse = existing !== undefined && existing.options['keepTree'] === options.keepTree ? existing : undefined;
    const job = reuse === undefined
      ? await this.#catalog.migrationJobs.create({ projectId: req.projectId, target: target.to, options, owner: this.owner })
      : await this.#claim(reuse, req.restart === true);
    this.#launch(job, target, req.onFailure);
    return { job: this.#view(job), resumed: reuse !== undefined, alreadyRunning: false };
  }

  /** Resumes a job by id (cancelled, failed or interrupted). */
  async resume(id: number, onFailure?: (f: ItemFailure) => void): Promise<{ job: JobView; alreadyRunning: boolean }> {
    const job = await this.#get(id);
    if (job.status === 'done') throw new AppError('InvalidInput', `migration ${id} is done: start a new one to pick up items added since`, { field: 'id' });
    if (this.#live(job)) return { job: this.#view(job), alreadyRunning: true };
    const target = resolveProjectTarget(job.target, this.#links);
    const backoff = (job.options['backoff'] as BackoffOptions | undefined) ?? DEFAULT_BACKOFF;
    await this.#probe(target, backoff);
    const claimed = await this.#claim(job, false);
    this.#launch(claimed, target, onFailure);
    return { job: this.#view(claimed), alreadyRunning: false };
  }

  /** Stops a job: at once when it runs here, at its next save when elsewhere, or marks an abandoned one. */
  async cancel(id: number): Promise<JobView> {
    const job = await this.#get(id);
    const here = this.#running.get(id);
    if (here !== undefined) {
      here.cancelled = true;
      here.abort.abort();
      await here.done;
      return this.status(id);
    }
    if (job.status !== 'running') return this.#view(job);
    if (this.#live(job)) return this.#view((await this.#catalog.migrationJobs.requestCancel(id)) ?? job);
    return this.#view((await this.#catalog.migrationJobs.markCancelled(id, job.owner)) ?? (await this.#get(id)));
  }

  /** A job, with live counters when it runs here. */
  async status(id: number): Promise<JobView> {
    const job = await this.#get(id);
    const here = this.#running.get(id);
    return here === undefined ? this.#view(job) : this.#view({ ...job, progress: { ...here.run.stats.progress() } });
  }

  /** The newest jobs. */
  async list(limit = 100): Promise<JobView[]> {
    return (await this.#catalog.migrationJobs.list(limit)).map((j) => {
      const here = this.#running.get(j.id);
      return this.#view(here === undefined ? j : { ...j, progress: { ...here.run.stats.progress() } });
    });
  }

  /** Live progress of a job running here (for a progress bar). */
  snapshot(id: number): ProgressSnapshot | undefined {
    return this.#running.get(id)?.run.stats.snapshot();
  }

  /** Resolves once a job started here has stopped (done, failed or cancelled). */
  async wait(id: number): Promise<JobView> {
    await this.#running.get(id)?.done;
    return this.status(id);
  }

  /** Stops the jobs running here without marking them: they resume when started again. */
  async close(): Promise<void> {
    this.#closed = true;
    const running = [...this.#running.values()];
    for (const r of running) r.abort.abort();
    await Promise.all(running.map((r) => r.done));
    RUNNING_HERE.delete(this.owner);
  }

  async #get(id: number): Promise<MigrationJob> {
    const job = await this.#catalog.migrationJobs.get(id);
    if (job === undefined) throw new AppError('NotFound', `migration ${id} not found`, { entity: 'migration', id });
    return job;
  }

  async #probe(target: ProjectTarget, backoff: BackoffOptions): Promise<void> {
    try {
      await probeTarget(target.store, target.bucket, probeKey(target.dir), backoff);
    } catch (err) {
      throw new AppError('InvalidInput', `to: ${describeError(err)}`, { field: 'to' });
    }
  }

  async #claim(job: MigrationJob, restart: boolean): Promise<MigrationJob> {
    const staleBefore = new Date(Date.now() - STALE_MS).toISOString();
    const dead = job.owner !== null && ownerGone(job.owner, job.id) ? job.owner : undefined;
    let claimed = await this.#catalog.migrationJobs.claim(job.id, this.owner, staleBefore, dead);
    if (claimed === undefined) throw new AppError('Conflict', `migration ${job.id} is being run by ${job.owner ?? 'another process'}`, { id: job.id });
    if (restart) claimed = (await this.#catalog.migrationJobs.save(job.id, this.owner, { cursor: 0, progress: {} })) ?? claimed;
    return claimed;
  }

  /** Whether someone runs the job now. */
  #live(job: MigrationJob): boolean {
    if (job.status !== 'running' || job.owner === null) return false;
    if (ownerGone(job.owner, job.id)) return false;
    if (job.owner === this.owner) return this.#running.has(job.id);
    return job.heartbeatAt !== null && Date.parse(job.heartbeatAt) >= Date.now() - STALE_MS;
  }

  #view(job: MigrationJob): JobView {
    const status = job.status === 'running' && !this.#live(job) ? 'interrupted' : job.status;
    return { ...job, status, message: describeJob(job, status) };
  }

  #launch(job: MigrationJob, target: ProjectTarget, onFailure?: (f: ItemFailure) => void): void {
    const abort = new AbortController();
    const opts = job.options as { keepTree?: boolean; concurrency?: number; backoff?: BackoffOptions };
    const entry: Running = { abort, cancelled: false, done: Promise.resolve(), run: undefined as unknown as ProjectMigration };
    const save = async (update: JobUpdate): Promise<void> => {
      const now = await this.#catalog.migrationJobs.save(job.id, this.owner, update);
      // Another process took the job over (we were presumed dead), or a cancel was asked for elsewhere.
      if (now === undefined || now.cancelRequested) {
        entry.cancelled = now !== undefined;
        abort.abort();
      }
    };
    entry.run = migrateProject({ catalog: this.#catalog, items: this.#items }, {
      projectId: job.projectId, target, keepTree: opts.keepTree === true, concurrency: opts.concurrency ?? 10,
      backoff: opts.backoff ?? DEFAULT_BACKOFF, signal: abort.signal, afterId: job.cursor, progress: progressFrom(job.progress),
      onPage: (cursor, progress) => save({ cursor, progress: { ...progress } }), onFailure,
    });
    const beat = setInterval(() => void save({}).catch(() => undefined), HEARTBEAT_MS);
    beat.unref();
    entry.done = this.#finish(entry, save).finally(() => {
      clearInterval(beat);
      this.#running.delete(job.id);
      RUNNING_HERE.get(this.owner)?.delete(job.id);
    });
    this.#running.set(job.id, entry);
    RUNNING_HERE.get(this.owner)?.add(job.id);
  }

  /** Records how the run ended; a run stopped by `close` is left running (it resumes later). */
  async #finish(entry: Running, save: (u: JobUpdate) => Promise<void>): Promise<void> {
    try {
      const progress = await entry.run.done;
      await save({ status: 'done', progress: { ...progress }, error: null });
    } catch (err) {
      if (this.#closed && !entry.cancelled) return;
      const cancelled = entry.cancelled || (err instanceof MigrationAborted && err.message === 'cancelled');
      // Progress stays at the last finished page: a resumed run counts the interrupted page once.
      await save(cancelled ? { status: 'cancelled' } : { status: 'failed', error: describeError(err) }).catch(() => undefined);
    }
  }
}

/** A job's owner is gone: a process of this host that no longer exists, or a closed manager of this process. */
function ownerGone(owner: string, jobId: number): boolean {
  const [host, pidText] = owner.split(':');
  if (host !== hostname()) return false;
  const pid = Number(pidText);
  if (pid === process.pid) return RUNNING_HERE.get(owner)?.has(jobId) !== true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function describeJob(job: MigrationJob, status: JobView['status']): string {
  const p = progressFrom(job.progress);
  const where = `project ${job.projectId} to ${job.target}`;
  switch (status) {
    case 'done':
      if (p.candidates === 0) return `nothing to migrate: every item of project ${job.projectId} is already linked`;
      return `migrated ${p.relinked} of ${p.candidates} item(s) of ${where} (${p.alreadyRemote} were there already); ${p.failed} failed`;
    case 'running':
      return `migrating ${where}: ${p.scanned} of ${p.itemsTotal} item(s) looked at, ${p.relinked} re-pointed, ${p.failed} failed`;
    case 'interrupted':
      return `interrupted (its process stopped) after ${p.scanned} item(s): start it again to resume`;
    case 'cancelled':
      return `cancelled after ${p.scanned} item(s): start it again to resume`;
    case 'failed':
      return `failed: ${job.error ?? 'unknown error'}; start it again to resume`;
  }
}
