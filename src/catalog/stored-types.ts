/** Records of the catalog's settings tables: API-managed connections and migration jobs. */
import type { JsonObject } from './types.ts';

/**
 * A remote connection added through the API (`remote-storage.connections.*`).
 * `settings` holds its secrets: never send it to a client as is.
 */
export interface StoredConnection {
  id: number;
  name: string;
  provider: string;
  settings: JsonObject;
  createdAt: string;
  updatedAt: string;
}

/** State of a migration job; `interrupted` is never stored (a `running` job nobody runs). */
export type MigrationJobStatus = 'running' | 'done' | 'failed' | 'cancelled';

/** What a job does: migrate a project, copy the primary storage, or import a links file. */
export type MigrationJobKind = 'project' | 'storage' | 'links-import';

/** A long job kept in the catalog (`stowage migrate project`, `migrations.start`, background link imports). */
export interface MigrationJob {
  id: number;
  kind: MigrationJobKind;
  /** The project migrated (`project`), the dataset imported into (`links-import`), 0 otherwise. */
  projectId: number;
  /** `<scheme>://<bucket>/<dir>` (`project`), a connection name (`storage`), the stored list's key (`links-import`). */
  target: string;
  options: JsonObject;
  status: MigrationJobStatus;
  /** Counters of the run (scanned, migrated, failed, bytes...). */
  progress: JsonObject;
  /** Every item with a smaller or equal id has been handled (resume point). */
  cursor: number;
  error: string | null;
  /** Who runs it (`host:pid:instance`); null when nobody does. */
  owner: string | null;
  cancelRequested: boolean;
  heartbeatAt: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

/** What a running job writes back (fenced by its owner). */
export interface MigrationJobUpdate {
  progress?: JsonObject;
  cursor?: number;
  status?: MigrationJobStatus;
  error?: string | null;
}

/** The catalog's API-managed remote connections. */
export interface ConnectionRepo {
  /** All, by name. */
  list(): Promise<StoredConnection[]>;
  get(name: string): Promise<StoredConnection | undefined>;
  /** Adds one; `Conflict` (`NONUNIQUE`) when the name is taken. */
  create(c: { name: string; provider: string; settings: JsonObject }): Promise<StoredConnection>;
  /** Replaces provider and settings; undefined when no connection has the name. */
  update(name: string, c: { provider: string; settings: JsonObject }): Promise<StoredConnection | undefined>;
  /** Deletes by name; true when it existed. */
  remove(name: string): Promise<boolean>;
}

/** The catalog's long jobs: migrations and background link imports (see `src/migrate/`). */
export interface MigrationJobRepo {
  /** Kind `project` unless told. */
  create(j: { kind?: MigrationJobKind; projectId: number; target: string; options: JsonObject; owner: string }): Promise<MigrationJob>;
  get(id: number): Promise<MigrationJob | undefined>;
  /** Newest first. */
  list(limit: number): Promise<MigrationJob[]>;
  /** The newest job of this kind (default `project`), project and target that is not done. */
  findUnfinished(projectId: number, target: string, kind?: MigrationJobKind): Promise<MigrationJob | undefined>;
  /** Running jobs nobody runs: released (no owner) or heartbeat before `staleBefore`; oldest first. */
  findAbandoned(staleBefore: string, limit: number): Promise<MigrationJob[]>;
  /**
   * Takes over a running job for `owner` only while it is abandoned (no
   * owner, or heartbeat before `staleBefore`): one conditional UPDATE, so
   * of several instances racing for a job exactly one gets it.
   */
  takeOver(id: number, owner: string, staleBefore: string): Promise<MigrationJob | undefined>;
  /** The owner saves `update` and gives the job up (still running, no owner): the next taker resumes it at once. */
  release(id: number, owner: string, update: MigrationJobUpdate): Promise<MigrationJob | undefined>;
  /**
   * Takes a job over for `owner` unless it is done or another owner's run
   * is still live (heartbeat at or after `staleBefore`, and not `deadOwner`).
   * Sets it running and clears the cancel request. Undefined when refused.
   */
  claim(id: number, owner: string, staleBefore: string, deadOwner?: string): Promise<MigrationJob | undefined>;
  /** Writes the owner's progress and beats the heartbeat; undefined once another owner took the job. */
  save(id: number, owner: string, update: MigrationJobUpdate): Promise<MigrationJob | undefined>;
  /** Asks the running owner to stop (it sees the flag at its next save). */
  requestCancel(id: number): Promise<MigrationJob | undefined>;
  /** Marks a job nobody runs as cancelled (only if still owned by `owner` or unowned). */
  markCancelled(id: number, owner: string | null): Promise<MigrationJob | undefined>;
}
