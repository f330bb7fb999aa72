import type { Dataset, Image, ItemBase, Project, Video } from '../catalog/types.ts';

const URL_SAFE = /^[A-Za-z0-9._~\/-]*$/;
const BUCKET_LINK = /^([a-z0-9]+):\/\/([^/]+)\/(.+)$/i;

/** First segment of the storage paths of linked objects: `/remote/<scheme>/<bucket>/<key>`. */
export const REMOTE_ROOT = 'remote';

/** URL path of a stored object: `/<bucket>/<key>` with each segment escaped. */
export function storagePath(bucket: string, key: string): string {
  return `/${escapePath(bucket)}/${escapePath(key)}`;
}

/**
 * Storage path of a bucket link (`s3://b/k` → `/remote/s3/b/k`, segments
 * escaped), served by the remote storage route; null for public http(s)
 * links, which browsers load from where they are.
 */
export function remotePath(link: string): string | null {
  const m = BUCKET_LINK.exec(link);
  const [scheme, bucket, key] = [m?.[1], m?.[2], m?.[3]];
  if (scheme === undefined || bucket === undefined || key === undefined || /^https?$/i.test(scheme)) return null;
  return `/${REMOTE_ROOT}/${scheme.toLowerCase()}${storagePath(bucket, key)}`;
}

function escapePath(path: string): string {
  // Our own keys are URL-safe; encoding them segment by segment costs a list of 1,000 noticeably.
  return URL_SAFE.test(path) ? path : path.split('/').map(encodeURIComponent).join('/');
}

/** ProjectInfo of the wire (api-compat §4). */
export function projectInfo(p: Project): Record<string, unknown> {
  return {
    id: p.id, name: p.name, description: p.description, size: String(p.size), readme: p.readme,
    workspaceId: p.workspaceId, teamId: p.teamId, imagesCount: p.itemsCount, itemsCount: p.itemsCount,
    datasetsCount: p.datasetsCount, createdAt: p.createdAt, updatedAt: p.updatedAt, type: p.type,
    referenceImageUrl: null, customData: p.customData, settings: p.settings, createdBy: p.createdBy,
    backupArchive: null, importSettings: null, version: null,
  };
}

/** DatasetInfo of the wire (api-compat §4). */
export function datasetInfo(d: Dataset): Record<string, unknown> {
  return {
    id: d.id, name: d.name, description: d.description, size: String(d.size), projectId: d.projectId,
    imagesCount: d.itemsCount, itemsCount: d.itemsCount, createdAt: d.createdAt, updatedAt: d.updatedAt,
    referenceImageUrl: null, teamId: d.teamId, workspaceId: d.workspaceId, parentId: d.parentId,
    customData: d.customData, createdBy: d.createdBy,
  };
}

function paths(item: ItemBase, baseUrl: string): { pathOriginal: string | null; fullStorageUrl: string | null } {
  if (item.bucket !== null && item.storageKey !== null) {
    const p = storagePath(item.bucket, item.storageKey);
    return { pathOriginal: p, fullStorageUrl: baseUrl + p };
  }
  if (item.link === null) return { pathOriginal: null, fullStorageUrl: null };
  const p = remotePath(item.link);
  if (p !== null) return { pathOriginal: p, fullStorageUrl: baseUrl + p };
  const publicLink = /^https?:\/\//i.test(item.link) ? item.link : null;
  return { pathOriginal: null, fullStorageUrl: publicLink };
}

/** ImageInfo of the wire (api-compat §5); `mime` is always sent (the SDK derives ext from it). */
export function imageInfo(i: Image, baseUrl: string): Record<string, unknown> {
  return {
    id: i.id, name: i.name, link: i.link, hash: i.hash, mime: i.mime, ext: extOf(i.mime), size: i.size,
    width: i.width, height: i.height, labelsCount: 0, datasetId: i.datasetId, projectId: i.projectId,
    teamId: i.teamId, workspaceId: i.workspaceId, createdAt: i.createdAt, updatedAt: i.updatedAt,
    meta: i.meta, ...paths(i, baseUrl), tags: [], createdBy: i.createdBy, description: i.description,
    relatedDataId: null, downloadId: null, offsetStart: null, offsetEnd: null, parentId: null,
  };
}

/** VideoInfo of the wire (api-compat §6); `fileMeta` is always an object. */
export function videoInfo(v: Video, baseUrl: string): Record<string, unknown> {
  const { pathOriginal, fullStorageUrl } = paths(v, baseUrl);
  return {
    id: v.id, name: v.name, hash: v.hash, link: v.link, teamId: v.teamId, workspaceId: v.workspaceId,
    projectId: v.projectId, datasetId: v.datasetId, pathOriginal, fullStorageUrl, createdAt: v.createdAt,
    updatedAt: v.updatedAt, tags: [], fileMeta: { mime: v.mime, size: String(v.size), ...v.fileMeta },
    meta: v.meta, customData: v.customData, description: v.description,
    // What the SDK's thumbnail URL puts after `image-converter/videoframe/<frame>/`: a key of our bucket, or a linked video's `remote/…` path.
    processingPath: v.storageKey ?? pathOriginal?.slice(1) ?? null,
    createdBy: v.createdBy, size: String(v.size),
  };
}

function extOf(mime: string | null): string | null {
  if (mime === null) return null;
  const slash = mime.indexOf('/');
  return slash === -1 ? null : mime.slice(slash + 1);
}
