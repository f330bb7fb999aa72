/**
 * Conversions between stored rows (snake_case, JSON as text) and the domain
 * types of `types.ts`.
 */
import type { Selectable } from 'kysely';
import type { ApiKeyTable, BlobTable, DatasetTable, ImageTable, ItemTable, ProjectTable, VideoTable } from './db-schema.ts';
import type { ApiKey, ApiKeyRecord, ApiKeyRole, Blob, Dataset, Image, ItemBase, JsonObject, Project, ProjectType, Video } from './types.ts';

/** The current time as stored: ISO-8601 UTC with milliseconds. */
export function nowIso(): string {
  return new Date().toISOString();
}

/** Serialises a JSON object column; absent means `{}`. */
export function toJson(value: JsonObject | undefined): string {
  return JSON.stringify(value ?? {});
}

/** Parses a JSON object column, tolerating rows written by hand as '' or null. */
export function fromJson<T extends JsonObject = JsonObject>(text: string | null): T {
  if (text === null || text === '') return {} as T;
  return JSON.parse(text) as T;
}

// Counters and sizes may come back as strings from drivers that keep 64-bit
// values exact; the catalog's contract is plain numbers.
function num(value: number | string | bigint): number {
  return typeof value === 'number' ? value : Number(value);
}

function numOrNull(value: number | string | bigint | null): number | null {
  return value === null ? null : num(value);
}

export function toProject(r: Selectable<ProjectTable>): Project {
  return {
    id: num(r.id),
    name: r.name,
    description: r.description,
    type: r.type as ProjectType,
    workspaceId: num(r.workspace_id),
    teamId: num(r.team_id),
    readme: r.readme,
    customData: fromJson(r.custom_data),
    settings: fromJson(r.settings),
    itemsCount: num(r.items_count),
    datasetsCount: num(r.datasets_count),
    size: num(r.size),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    createdBy: numOrNull(r.created_by),
  };
}

export function toDataset(r: Selectable<DatasetTable>): Dataset {
  return {
    id: num(r.id),
    projectId: num(r.project_id),
    parentId: numOrNull(r.parent_id),
    name: r.name,
    description: r.description,
    customData: fromJson(r.custom_data),
    itemsCount: num(r.items_count),
    size: num(r.size),
    teamId: num(r.team_id),
    workspaceId: num(r.workspace_id),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    createdBy: numOrNull(r.created_by),
  };
}

function toItemBase(r: Selectable<ItemTable>): ItemBase {
  return {
    id: num(r.id),
    datasetId: num(r.dataset_id),
    projectId: num(r.project_id),
    teamId: num(r.team_id),
    workspaceId: num(r.workspace_id),
    name: r.name,
    hash: r.hash,
    link: r.link,
    bucket: r.bucket,
    storageKey: r.storage_key,
    mime: r.mime,
    size: num(r.size),
    meta: fromJson(r.meta),
    description: r.description,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    createdBy: numOrNull(r.created_by),
  };
}

export function toImage(r: Selectable<ImageTable>): Image {
  return { ...toItemBase(r), width: numOrNull(r.width), height: numOrNull(r.height) };
}

export function toVideo(r: Selectable<VideoTable>): Video {
  return { ...toItemBase(r), fileMeta: fromJson(r.file_meta), customData: fromJson(r.custom_data) };
}

export function toBlob(r: Selectable<BlobTable>): Blob {
  return {
    hash: r.hash,
    kind: r.kind as Blob['kind'],
    bucket: r.bucket,
    key: r.key,
    size: num(r.size),
    mime: r.mime,
    info: fromJson(r.info),
    createdAt: r.created_at,
  };
}

export function toApiKey(r: Selectable<ApiKeyTable>): ApiKey {
  return {
    id: num(r.id),
    name: r.name,
    role: r.role as ApiKeyRole,
    prefix: r.prefix,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  };
}

export function toApiKeyRecord(r: Selectable<ApiKeyTable>): ApiKeyRecord {
  return { ...toApiKey(r), keyHash: r.key_hash };
}
