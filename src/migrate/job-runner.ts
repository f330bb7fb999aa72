/**
 * The job runner of a serving instance: owns the instance's job manager,
 * and every heartbeat period (±25% jitter, so instances do not scan in step)
 * looks for abandoned jobs — released by an instance that shut down, or
 * silent for the stale time because their instance died — and takes them
 * over, resuming each from its last checkpoint. A released job is also
 * announced on the change feed (`jobs`), so the others look at once instead
 * of at their next period. Of several instances racing for one job, exactly
 * one wins (a conditional UPDATE, see the catalog's `takeOver`).
 */
import type { ChangeFeed } from '../catalog/change-feed.ts';
import type { MigrationJobKind } from '../catalog/types.ts';
import type { JobTiming } from './job-types.ts';
import { MigrationJobs, type LauncherFor } from './migration-jobs.ts';
import { projectLauncher, type ProjectJobDeps } from './project-job.ts';
import { resumeJob, startProjectJob, startStorageJob, type ProjectStart, type Started, type StorageStart } from './job-starts.ts';
import { storageLauncher, type StorageJobDeps } from './storage-job.ts';

/** Abandoned jobs looked at per scan. */
const SCAN_LIMIT = 20;

/** Where the runner reports what it could not do. */
export interface RunnerLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** What a {@link JobRunner} works with. */
export interface JobRunnerDeps extends ProjectJobDeps, StorageJobDeps {
  timing: JobTiming;
  changes?: ChangeFeed | undefined;
  log?: RunnerLog | undefined;
  /** Launchers of further kinds (background link imports). */
  launchers?: Partial<Record<MigrationJobKind, LauncherFor>> | undefined;
}

/** Runs an instance's jobs and takes over the abandoned ones. */
export class JobRunner {
  readonly jobs: MigrationJobs;
  readonly #deps: JobRunnerDeps;
  #timer: NodeJS.Timeout | undefined;
  #scanning: Promise<number> | undefined;
  #again = false;
  #closed = false;
  #unsubscribe: (() => void) | undefined;

  constructor(deps: JobRunnerDeps) {
    this.#deps = deps;
    this.jobs = new MigrationJobs({
      catalog: deps.catalog, timing: deps.timing, changes: deps.changes,
      launchers: { project: () => projectLauncher(deps), storage: () => storageLauncher(deps), ...deps.launchers },
    });
  }

  /** Starts looking for abandoned jobs: soon (jobs released by the previous run of this instance), then every period. */
  start(): void {
    this.#unsubscribe = this.#deps.changes?.subscribe('jobs', () => this.#schedule(Math.random() * 200));
    this.#schedule(Math.random() * 250);
  }

  /** Starts (or resumes) a project migration here. */
  startProject(req: ProjectStart): Promise<Started> {
    return startProjectJob(this.jobs, this.#deps, req);
  }

  /** Starts (or resumes) a storage migration here. */
  startStorage(req: StorageStart): Promise<Started> {
    return startStorageJob(this.jobs, this.#deps, req);
  }

  /** Resumes a job by id here. */
  resume(id: number): Promise<Omit<Started, 'resumed'>> {
    return resumeJob(this.jobs, this.#deps, id);
  }

  /** One look for abandoned jobs; resolves with how many this instance took over. */
  async scan(): Promise<number> {
    if (this.#scanning !== undefined) {
      this.#again = true;
      return this.#scanning;
    }
    this.#scanning = this.#scanOnce().finally(() => { this.#scanning = undefined; });
    return this.#scanning;
  }

  /** Stops looking, stops the jobs running here and releases them for the other instances. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#unsubscribe?.();
    await this.#scanning?.catch(() => undefined);
    await this.jobs.close();
  }

  async #scanOnce(): Promise<number> {
    const staleBefore = new Date(Date.now() - this.#deps.timing.staleMs).toISOString();
    const abandoned = await this.#deps.catalog.migrationJobs.findAbandoned(staleBefore, SCAN_LIMIT);
    let taken = 0;
    for (const job of abandoned) {
      if (this.#closed) break;
      if (this.jobs.runsHere(job.id)) continue;
      try {
        if (await this.jobs.adopt(job)) {
          taken += 1;
          this.#deps.log?.info({ job: job.id, kind: job.kind, previousOwner: job.owner, cursor: job.cursor }, 'took over an abandoned job');
        }
      } catch (err) {
        this.#deps.log?.warn({ job: job.id, err: String(err) }, 'could not take over a job');
      }
    }
    return taken;
  }

  /** The next scan in `delayMs` (or the period with jitter); a sooner one replaces a later one. */
  #schedule(delayMs?: number): void {
    if (this.#closed) return;
    const period = this.#deps.timing.heartbeatMs;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      void this.scan().catch((err: unknown) => this.#deps.log?.warn({ err: String(err) }, 'looking for abandoned jobs failed'))
        .finally(() => {
          const again = this.#again;
          this.#again = false;
          this.#schedule(again ? 0 : undefined);
        });
    }, delayMs ?? period * (0.75 + Math.random() * 0.5));
    this.#timer.unref();
  }
}
