/**
 * Domain types of the catalog and the one interface the rest of Stowage uses to
 * read and write it. Implemented over Kysely for both embedded SQLite and
 * PostgreSQL (see `create-catalog.ts`).
 */

/** JSON object stored as-is (customData, meta, settings, fileMeta). */
export type JsonObject = Record<string, unknown>;

export type { ConnectionRepo, MigrationJob, MigrationJobKind, MigrationJobRepo, MigrationJobStatus, MigrationJobUpdate, StoredConnection } from './stored-types.ts';
import type { ConnectionRepo, MigrationJobRepo } from './stored-types.ts';

export type ProjectType = 'images' | 'videos';

/** The default team and workspace every install has (ids 1). */
export const DEFAULT_TEAM_ID = 1;
export const DEFAULT_WORKSPACE_ID = 1;

export interface Project {
  id: number;
  name: string;
  description: string;
  type: ProjectType;
  workspaceId: number;
  teamId: number;
  readme: string;
  customData: JsonObject;
  settings: JsonObject;
  /** Number of images or videos in all its datasets. */
  itemsCount: number;
  datasetsCount: number;
  /** Sum of item sizes in bytes. */
  size: number;
  createdAt: string;
  updatedAt: string;
  createdBy: number | null;
}

export interface Dataset {
  id: number;
  projectId: number;
  parentId: number | null;
  name: string;
  description: string;
  customData: JsonObject;
  /** Items directly in this dataset (not in children). */
  itemsCount: number;
  /** Sum of item sizes in bytes, directly in this dataset. */
  size: number;
  teamId: number;
  workspaceId: number;
  createdAt: string;
  updatedAt: string;
  createdBy: number | null;
}

/** Where an item's bytes are: in our storage (bucket/key) or at a link. */
export interface ItemBase {
  id: number;
  datasetId: number;
  projectId: number;
  teamId: number;
  workspaceId: number;
  name: string;
  /** base64 SHA-256 of the bytes, when known. */
  hash: string | null;
  /** Remote link (`s3://…`, `https://…`) when the item is linked, else null. */
  link: string | null;
  /** Bucket in our storage holding the bytes (null for linked items). */
  bucket: string | null;
  /** Key in that bucket (null for linked items). */
  storageKey: string | null;
  mime: string | null;
  /** Size in bytes (0 when unknown). */
  size: number;
  meta: JsonObject;
  description: string;
  createdAt: string;
  updatedAt: string;
  createdBy: number | null;
}

export interface Image extends ItemBase {
  width: number | null;
  height: number | null;
}

/** Technical metadata of a video (the wire's `fileMeta`). */
export interface VideoFileMeta extends JsonObject {
  mime?: string;
  size?: string;
  width?: number;
  height?: number;
  duration?: number;
  framesCount?: number;
  codecName?: string;
  codecType?: string;
  formatName?: string;
}

export interface Video extends ItemBase {
  fileMeta: VideoFileMeta;
  customData: JsonObject;
}

/** Content-addressed bytes in our storage, shared by every item with the hash. */
export interface Blob {
  /** base64 SHA-256 (44 chars). */
  hash: string;
  kind: 'image' | 'video';
  bucket: string;
  key: string;
  size: number;
  mime: string;
  /** Image: `{width, height}`; video: the fileMeta. */
  info: JsonObject;
  createdAt: string;
}

export type ApiKeyRole = 'admin' | 'user';

export interface ApiKey {
  id: number;
  name: string;
  role: ApiKeyRole;
  /** First characters of the key, safe to show, to tell keys apart. */
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** A filter of the wire format: `{field, operator, value}`. */
export interface FieldFilter {
  field: string;
  operator: '=' | '!=' | 'in' | '<' | '<=' | '>' | '>=' | 'contains';
  value: unknown;
}

/** Listing parameters shared by every list. */
export interface ListQuery {
  filters?: FieldFilter[];
  /** Column name in the wire's camelCase (`id`, `name`, `createdAt`, `updatedAt`, `size`). Default `id`. */
  sort?: string;
  sortOrder?: 'asc' | 'desc';
  /** Page size. */
  limit: number;
  /** Rows to skip (page mode). */
  offset?: number;
  /** Keyset mode: only rows whose sort key (id) is after this id. */
  afterId?: number;
}

/** A page of results with the total count matching the filters. */
export interface ListResult<T> {
  total: number;
  rows: T[];
}

export interface NewProject {
  name: string;
  type: ProjectType;
  workspaceId: number;
  description?: string;
  readme?: string;
  customData?: JsonObject;
  settings?: JsonObject;
  createdBy?: number | null;
}

export interface NewDataset {
  projectId: number;
  name: string;
  parentId?: number | null;
  description?: string;
  customData?: JsonObject;
  createdBy?: number | null;
}

/** An item to add: either stored bytes (hash+bucket+key) or a link. */
export interface NewItem {
  name: string;
  hash?: string | null;
  link?: string | null;
  bucket?: string | null;
  storageKey?: string | null;
  mime?: string | null;
  size?: number;
  meta?: JsonObject;
  description?: string;
  createdBy?: number | null;
}

export interface NewImage extends NewItem {
  width?: number | null;
  height?: number | null;
}

export interface NewVideo extends NewItem {
  fileMeta?: VideoFileMeta;
}

/** What was read from a linked object's header (`forceMetadataForLinks`). */
export interface LinkedItemMeta {
  mime: string | null;
  size: number;
  /** Images. */
  width?: number | null;
  height?: number | null;
  /** Videos. */
  fileMeta?: VideoFileMeta;
}

/** Repoint an item at a link (clears its local bucket/key). */
export interface LinkUpdate {
  id: number;
  link: string;
  /** Also set mime, size and dimensions/fileMeta (counters follow the size change). */
  metadata?: LinkedItemMeta;
}

/** Item listing: by dataset (optionally with its sub-datasets) or by project. */
export interface ItemListQuery extends ListQuery {
  datasetId?: number;
  projectId?: number;
  /** With `datasetId`: include items of nested datasets. */
  recursive?: boolean;
}

/** Operations on images or videos (the same shape for both). */
export interface ItemRepo<T extends ItemBase, N extends NewItem> {
  /**
   * Adds items to a dataset in one transaction, in order. Fails with an
   * `AppError` of kind `Conflict` with details `{type: 'NONUNIQUE', errors: [{name, id}]}`
   * (every clashing name and the id that holds it; id null for a repeat inside the batch) when a name is already taken in the dataset or repeated in
   * the batch; nothing is added then.
   */
  addMany(datasetId: number, items: N[]): Promise<T[]>;
  get(id: number): Promise<T | undefined>;
  /** Rows for these ids, in no particular order; missing ids are left out. */
  getMany(ids: number[]): Promise<T[]>;
  list(query: ItemListQuery): Promise<ListResult<T>>;
  /** Deletes items; returns how many existed. Blobs are kept. */
  removeMany(ids: number[]): Promise<number>;
  /**
   * Repoints items at links in one transaction (clears bucket/storageKey).
   * Fails with an `AppError` of kind `NotFound` (details `{ids}`) naming the ids that do not exist; nothing changes then.
   */
  updateLinks(updates: LinkUpdate[]): Promise<T[]>;
}

export interface ApiKeyRecord extends ApiKey {
  /** SHA-256 hex of the key (the key itself is never stored). */
  keyHash: string;
}

/** The catalog: everything Stowage knows about projects, items and keys. */
export interface Catalog {
  /** `sqlite` or `postgres`. */
  readonly dialect: 'sqlite' | 'postgres';
  projects: {
    create(p: NewProject): Promise<Project>;
    get(id: number): Promise<Project | undefined>;
    /** Projects of a workspace or a team (all when both are omitted). */
    list(q: ListQuery & { workspaceId?: number; teamId?: number }): Promise<ListResult<Project>>;
  };
  datasets: {
    create(d: NewDataset): Promise<Dataset>;
    get(id: number): Promise<Dataset | undefined>;
    /** `recursive: false` = top level only (parentId null) unless a parentId filter is given. */
    list(q: ListQuery & { projectId: number; recursive?: boolean }): Promise<ListResult<Dataset>>;
    /** Ids of a dataset and all its descendants. */
    descendantIds(id: number): Promise<number[]>;
  };
  images: ItemRepo<Image, NewImage>;
  videos: ItemRepo<Video, NewVideo>;
  blobs: {
    get(hash: string): Promise<Blob | undefined>;
    /** The subset of `hashes` that have stored bytes. */
    existing(hashes: string[]): Promise<string[]>;
    /** Records a blob; a second insert of the same hash keeps the first. */
    put(b: Omit<Blob, 'createdAt'>): Promise<Blob>;
    /**
     * Blobs no image or video keeps its bytes in (no item with the hash and a
     * storage key; linked items do not count), in hash order after `afterHash`.
     */
    unreferenced(limit: number, afterHash?: string): Promise<Blob[]>;
    /** Deletes the blob's record if it is still unreferenced (checked in the same statement); true when deleted. */
    remove(hash: string): Promise<boolean>;
  };
  apiKeys: {
    create(k: { name: string; role: ApiKeyRole; prefix: string; keyHash: string }): Promise<ApiKey>;
    /** The active (not revoked) key with this hash. */
    findActiveByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
    list(): Promise<ApiKey[]>;
    /** Revokes by id or by name; returns how many were revoked. */
    revoke(idOrName: number | string): Promise<number>;
    touch(id: number): Promise<void>;
  };
  /** Small persistent settings (the URL-signing secret, the admin key's hash...). */
  settings: {
    get(name: string): Promise<string | undefined>;
    /** Sets the value only if absent; returns the value now stored. */
    setIfAbsent(name: string, value: string): Promise<string>;
  };
  /** Remote connections added through the API (the file's live in remote_links.yml). */
  connections: ConnectionRepo;
  /** Long jobs: migrations and background link imports (see `src/migrate/`). */
  migrationJobs: MigrationJobRepo;
  close(): Promise<void>;
}
