/**
 * Kysely table types: the columns as stored on both dialects. JSON columns are
 * text, timestamps are ISO-8601 UTC text, integers are JS numbers (the
 * PostgreSQL pool parses int8/numeric into numbers, see `create-catalog.ts`).
 */
import type { Generated } from 'kysely';

export interface TeamTable {
  id: Generated<number>;
  name: string;
  created_at: string;
  updated_at: string;
}

export interface WorkspaceTable {
  id: Generated<number>;
  team_id: number;
  name: string;
  created_at: string;
  updated_at: string;
}

export interface ProjectTable {
  id: Generated<number>;
  workspace_id: number;
  team_id: number;
  name: string;
  description: string;
  type: string;
  readme: string;
  custom_data: string;
  settings: string;
  items_count: Generated<number>;
  datasets_count: Generated<number>;
  size: Generated<number>;
  /** Bumped by every item add/remove: tells cached listing positions apart (see offset-seek.ts). */
  item_revision: Generated<number>;
  created_at: string;
  updated_at: string;
  created_by: number | null;
}

export interface DatasetTable {
  id: Generated<number>;
  project_id: number;
  parent_id: number | null;
  name: string;
  description: string;
  custom_data: string;
  items_count: Generated<number>;
  size: Generated<number>;
  /** Bumped by every item add/remove: tells cached listing positions apart (see offset-seek.ts). */
  item_revision: Generated<number>;
  team_id: number;
  workspace_id: number;
  created_at: string;
  updated_at: string;
  created_by: number | null;
}

/** Columns shared by `images` and `videos`. */
export interface ItemTable {
  id: Generated<number>;
  dataset_id: number;
  project_id: number;
  team_id: number;
  workspace_id: number;
  name: string;
  hash: string | null;
  link: string | null;
  bucket: string | null;
  storage_key: string | null;
  mime: string | null;
  size: number;
  meta: string;
  description: string;
  created_at: string;
  updated_at: string;
  created_by: number | null;
}

export interface ImageTable extends ItemTable {
  width: number | null;
  height: number | null;
}

export interface VideoTable extends ItemTable {
  file_meta: string;
  custom_data: string;
}

export interface BlobTable {
  hash: string;
  kind: string;
  bucket: string;
  key: string;
  size: number;
  mime: string;
  info: string;
  created_at: string;
}

export interface ApiKeyTable {
  id: Generated<number>;
  name: string;
  role: string;
  prefix: string;
  key_hash: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface SettingTable {
  name: string;
  value: string;
}

export interface ConnectionTable {
  id: Generated<number>;
  name: string;
  provider: string;
  /** JSON object of the settings (secrets included). */
  settings: string;
  created_at: string;
  updated_at: string;
}

export interface MigrationJobTable {
  id: Generated<number>;
  kind: string;
  project_id: number;
  target: string;
  /** JSON object. */
  options: string;
  status: string;
  /** JSON object of counters. */
  progress: string;
  resume_after: number;
  error: string | null;
  owner: string | null;
  cancel_requested: number;
  heartbeat_at: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

export interface MigrationTable {
  version: number;
  name: string;
  applied_at: string;
}

/** The whole catalog database. */
export interface CatalogDb {
  teams: TeamTable;
  workspaces: WorkspaceTable;
  projects: ProjectTable;
  datasets: DatasetTable;
  images: ImageTable;
  videos: VideoTable;
  blobs: BlobTable;
  api_keys: ApiKeyTable;
  settings: SettingTable;
  connections: ConnectionTable;
  migration_jobs: MigrationJobTable;
  stowage_migrations: MigrationTable;
}

/** `sqlite` or `postgres`, as in {@link Catalog.dialect}. */
export type DialectName = 'sqlite' | 'postgres';
