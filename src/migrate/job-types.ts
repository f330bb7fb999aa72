/** Shapes shared by the job manager, the job kinds and the API. */
import type { JsonObject, MigrationJob, MigrationJobStatus, MigrationJobUpdate } from '../catalog/types.ts';
import type { ProgressSnapshot } from './progress.ts';

/** How often a running job beats its heartbeat, and when a silent one counts as abandoned. */
export interface JobTiming {
  /** Heartbeat period, also the runner's look-out period. Default 10 s (`JOBS_HEARTBEAT_INTERVAL`). */
  heartbeatMs: number;
  /** A heartbeat older than this means the owner is gone. Default 60 s (`JOBS_STALE_AFTER`). */
  staleMs: number;
}

/** The defaults of `JOBS_HEARTBEAT_INTERVAL` and `JOBS_STALE_AFTER`. */
export const DEFAULT_JOB_TIMING: JobTiming = { heartbeatMs: 10_000, staleMs: 60_000 };

/** Counters every job view has, whatever its kind (null: not known yet). */
export interface JobCounters {
  /** Items (project), objects (storage) or lines (link import) handled. */
  done: number;
  total: number | null;
  bytes: number;
  bytesTotal: number | null;
  failed: number;
}

/** A job as the API shows it: `interrupted` = running, but nobody runs it now (it will be taken over). */
export interface JobView extends Omit<MigrationJob, 'status' | 'cancelRequested'> {
  status: MigrationJobStatus | 'interrupted';
  cancelRequested: boolean;
  counters: JobCounters;
  /** A sentence for people: what happened. */
  message: string;
}

/** One run of a job in this process, whatever its kind. */
export interface JobRun {
  /** Counters now, as stored in the job. */
  progress(): JsonObject;
  /** For a progress bar. */
  snapshot(): ProgressSnapshot;
  /**
   * What a heartbeat (and a release) writes besides the beat: the live
   * progress when it does not depend on a cursor, nothing otherwise (a
   * project's progress must match its cursor).
   */
  beat(): MigrationJobUpdate;
  /** The final progress; rejects when aborted or unable to go on. */
  done: Promise<JsonObject>;
}

/** What a run is given by the manager. */
export interface RunContext {
  job: MigrationJob;
  signal: AbortSignal;
  /** Saves a checkpoint (resume point and the progress that goes with it), fenced by the owner. */
  checkpoint(cursor: number, progress: JsonObject): Promise<void>;
}

/** Starts a run of a job already claimed by this process; throws `AppError` when its target cannot be used. */
export type JobLauncher = (ctx: RunContext) => Promise<JobRun>;
