/**
 * Long jobs kept in the catalog — project migrations, storage migrations and
 * background link imports — for the API (`migrations.start|status|cancel|list`)
 * and `stowage migrate project` alike. Progress and a resume point are saved
 * at checkpoints, so a cancelled job, or one whose process died, resumes
 * where it stopped. A job is run by one owner at a time: the owner beats a
 * heartbeat, and every write is fenced by the owner, so a run that lost its
 * job (presumed dead) stops at its next write. A job whose owner is gone
 * (released at shutdown, its process no longer exists, or no heartbeat for
 * the stale time) can be taken over: by a user starting it again, or by the
 * {@link JobRunner} of any serving instance.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ChangeFeed } from '../catalog/change-feed.ts';
import type { Catalog, MigrationJob, MigrationJobKind, MigrationJobUpdate as JobUpdate } from '../catalog/types.ts';
import { AppError } from '../errors.ts';
import { describeError, MigrationAborted } from './backoff.ts';
import { DEFAULT_JOB_TIMING, type JobLauncher, type JobRun, type JobTiming, type JobView } from './job-types.ts';
import { countersOf, describeJob } from './job-views.ts';
import type { ProgressSnapshot } from './progress.ts';

export type { JobView } from './job-types.ts';

/** Jobs each live manager of this process runs now, by owner: tells a live owner from a dead one. */
const RUNNING_HERE = new Map<string, Set<number>>();

/** Makes the launcher of a job taken over or resumed (its kind's own). */
export type LauncherFor = (job: MigrationJob) => JobLauncher;

/** What a {@link MigrationJobs} manager works with. */
export interface MigrationJobsDeps {
  catalog: Catalog;
  /** The launcher of each kind this process can run. */
  launchers: Partial<Record<MigrationJobKind, LauncherFor>>;
  timing?: JobTiming | undefined;
  /** Told `jobs` when a job is released, so other instances take it over at once. */
  changes?: ChangeFeed | undefined;
}

/** A job to create and run here. */
export interface NewJob {
  kind: MigrationJobKind;
  projectId: number;
  target: string;
  options: Record<string, unknown>;
}

interface Running {
  abort: AbortController;
  run: JobRun | undefined;
  done: Promise<void>;
  cancelled: boolean;
  /** Another owner took the job: write nothing more. */
  lost: boolean;
}

/** Runs and tracks the jobs of one Stowage process. */
export class MigrationJobs {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly timing: JobTiming;
  readonly #catalog: Catalog;
  readonly #launchers: MigrationJobsDeps['launchers'];
  readonly #changes: ChangeFeed | undefined;
  readonly #running = new Map<number, Running>();
  #closing = false;

  constructor(deps: MigrationJobsDeps) {
    this.#catalog = deps.catalog;
    this.#launchers = deps.launchers;
    this.#changes = deps.changes;
    this.timing = deps.timing ?? DEFAULT_JOB_TIMING;
    RUNNING_HERE.set(this.owner, new Set());
  }

  /** Creates a job owned by this process and runs it. */
  async create(j: NewJob, launcher: JobLauncher): Promise<JobView> {
    this.#open();
    const job = await this.#catalog.migrationJobs.create({ ...j, owner: this.owner });
    await this.#launch(job, launcher);
    return this.#view(job);
  }

  /**
   * Claims `job` (unfinished; not run by a live owner) and runs it with
   * `launcher` (default: its kind's); `restart` starts from the beginning.
   * Undefined when a live owner runs it (e.g. a runner took it over first).
   */
  async claimAndRun(job: MigrationJob, launcher?: JobLauncher, restart = false): Promise<JobView | undefined> {
    this.#open();
    const staleBefore = new Date(Date.now() - this.timing.staleMs).toISOString();
    const dead = job.owner !== null && ownerGone(job.owner, job.id) ? job.owner : undefined;
    let claimed = await this.#catalog.migrationJobs.claim(job.id, this.owner, staleBefore, dead);
    if (claimed === undefined) return undefined;
    if (restart) claimed = (await this.#catalog.migrationJobs.save(job.id, this.owner, { cursor: 0, progress: {} })) ?? claimed;
    await this.#launch(claimed, launcher ?? this.#launcherOf(claimed));
    return this.#view(claimed);
  }

  /**
   * Takes over an abandoned job (released, or silent for the stale time) and
   * runs it from its last checkpoint. False when another instance got it
   * first (the take-over is one conditional UPDATE: exactly one wins); throws
   * when it could not be started (it is then marked failed).
   */
  async adopt(job: MigrationJob): Promise<boolean> {
    if (this.#closing || this.#running.has(job.id)) return false;
    const staleBefore = new Date(Date.now() - this.timing.staleMs).toISOString();
    const claimed = await this.#catalog.migrationJobs.takeOver(job.id, this.owner, staleBefore);
    if (claimed === undefined) return false;
    if (claimed.cancelRequested) {
      await this.#catalog.migrationJobs.save(job.id, this.owner, { status: 'cancelled' });
      return false;
    }
    // A launcher that cannot start (its connection is gone) marks the job failed; the runner logs why.
    await this.#launch(claimed, this.#launcherOf(claimed));
    return true;
  }

  /** The unfinished job of this kind, project and target, and whether a live owner runs it. */
  async unfinished(kind: MigrationJobKind, projectId: number, target: string): Promise<{ job: MigrationJob; live: boolean } | undefined> {
    const job = await this.#catalog.migrationJobs.findUnfinished(projectId, target, kind);
    return job === undefined ? undefined : { job, live: this.#live(job) };
  }

  /** A job by id (`NotFound` when there is none) and whether a live owner runs it. */
  async find(id: number): Promise<{ job: MigrationJob; live: boolean }> {
    const job = await this.#get(id);
    return { job, live: this.#live(job) };
  }

  /** Whether this process runs the job now. */
  runsHere(id: number): boolean {
    return this.#running.has(id);
  }

  /** Stops a job: at once when it runs here, at its next heartbeat when elsewhere, or marks an abandoned one. */
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
    return this.#view(this.#withLive(await this.#get(id)));
  }

  /** The newest jobs. */
  async list(limit = 100): Promise<JobView[]> {
    return (await this.#catalog.migrationJobs.list(limit)).map((j) => this.#view(this.#withLive(j)));
  }

  /** Live progress of a job running here (for a progress bar). */
  snapshot(id: number): ProgressSnapshot | undefined {
    return this.#running.get(id)?.run?.snapshot();
  }

  /** Resolves once a job running here has stopped (done, failed, cancelled or released). */
  async wait(id: number): Promise<JobView> {
    await this.#running.get(id)?.done;
    return this.status(id);
  }

  /**
   * Stops the jobs running here and releases them (progress saved, owner
   * cleared), then tells the other instances, which take them over at once.
   */
  async close(): Promise<void> {
    this.#closing = true;
    const running = [...this.#running.values()];
    for (const r of running) r.abort.abort();
    await Promise.all(running.map((r) => r.done));
    if (running.length > 0) await this.#changes?.publish('jobs').catch(() => undefined);
    RUNNING_HERE.delete(this.owner);
  }

  #open(): void {
    if (this.#closing) throw new AppError('Unavailable', 'this instance is shutting down: try another one');
  }

  #launcherOf(job: MigrationJob): JobLauncher {
    const make = this.#launchers[job.kind];
    if (make === undefined) throw new AppError('Unprocessable', `jobs of kind ${job.kind} cannot run in this process`);
    return make(job);
  }

  async #get(id: number): Promise<MigrationJob> {
    const job = await this.#catalog.migrationJobs.get(id);
    if (job === undefined) throw new AppError('NotFound', `migration ${id} not found`, { entity: 'migration', id });
    return job;
  }

  #withLive(job: MigrationJob): MigrationJob {
    const run = this.#running.get(job.id)?.run;
    return run === undefined ? job : { ...job, progress: run.progress() };
  }

  /** Whether someone runs the job now. */
  #live(job: MigrationJob): boolean {
    if (job.status !== 'running' || job.owner === null) return false;
    if (ownerGone(job.owner, job.id)) return false;
    if (job.owner === this.owner) return this.#running.has(job.id);
    return job.heartbeatAt !== null && Date.parse(job.heartbeatAt) >= Date.now() - this.timing.staleMs;
  }

  #view(job: MigrationJob): JobView {
    const status = job.status === 'running' && !this.#live(job) ? 'interrupted' : job.status;
    return { ...job, status, counters: countersOf(job), message: describeJob(job, status) };
  }

  /** Runs a job this process owns now; a launcher that cannot start marks the job failed. */
  async #launch(job: MigrationJob, launcher: JobLauncher): Promise<void> {
    const entry: Running = { abort: new AbortController(), run: undefined, done: Promise.resolve(), cancelled: false, lost: false };
    const save = async (update: JobUpdate): Promise<void> => {
      if (entry.lost) return;
      const now = await this.#catalog.migrationJobs.save(job.id, this.owner, update);
      // Another process took the job over (we were presumed dead), or a cancel was asked for elsewhere.
      if (now === undefined || now.cancelRequested) {
        entry.lost = now === undefined;
        entry.cancelled = now !== undefined;
        entry.abort.abort();
      }
    };
    this.#running.set(job.id, entry);
    RUNNING_HERE.get(this.owner)?.add(job.id);
    const forget = (): void => {
      this.#running.delete(job.id);
      RUNNING_HERE.get(this.owner)?.delete(job.id);
    };
    try {
      entry.run = await launcher({ job, signal: entry.abort.signal, checkpoint: (cursor, progress) => save({ cursor, progress }) });
    } catch (err) {
      forget();
      await save({ status: 'failed', error: describeError(err) }).catch(() => undefined);
      throw err;
    }
    const run = entry.run;
    const beat = setInterval(() => void save(run.beat()).catch(() => undefined), this.timing.heartbeatMs);
    beat.unref();
    entry.done = this.#finish(job.id, entry, run, save).finally(() => {
      clearInterval(beat);
      forget();
    });
  }

  /** Records how the run ended; a run stopped by `close` is released for another instance. */
  async #finish(id: number, entry: Running, run: JobRun, save: (u: JobUpdate) => Promise<void>): Promise<void> {
    try {
      const progress = await run.done;
      await save({ status: 'done', progress, error: null });
    } catch (err) {
      if (entry.lost) return;
      if (this.#closing && !entry.cancelled) {
        await this.#catalog.migrationJobs.release(id, this.owner, run.beat()).catch(() => undefined);
        return;
      }
      const cancelled = entry.cancelled || (err instanceof MigrationAborted && err.message === 'cancelled');
      // A project's progress stays at its last checkpoint: a resumed run counts the interrupted page once.
      await save(cancelled ? { ...run.beat(), status: 'cancelled' } : { ...run.beat(), status: 'failed', error: describeError(err) }).catch(() => undefined);
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
