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
