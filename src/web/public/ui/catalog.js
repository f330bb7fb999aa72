// @ts-check
/**
 * Catalog helpers shared by sections: every page of a paged list method,
 * the dataset tree built from `datasets.list {recursive}`, and the preview
 * and thumbnail paths of images and videos (signed for `<img>`).
 */
import { call, signed } from './api.js';

/**
 * Every entity of a paged `*.list` method (page/per_page, as the SDK pages).
 * @param {string} method @param {Record<string, unknown>} body @param {number} [max]
 * @returns {Promise<any[]>}
 */
export async function listAll(method, body, max = 10_000) {
  const out = [];
  for (let page = 1; ; page += 1) {
    const r = await call(method, { ...body, page, per_page: 500 });
    out.push(...r.entities);
    if (page >= r.pagesCount || out.length >= max || r.entities.length === 0) return out;
  }
}

/** @typedef {{ id: number, name: string, parentId: number | null, itemsCount: number, children: DatasetNode[], depth: number, path: string }} DatasetNode */

/**
 * The project's datasets as a tree, flattened depth-first (for indented lists and selects).
 * @param {number} projectId
 * @returns {Promise<DatasetNode[]>}
 */
export async function datasetTree(projectId) {
  const all = await listAll('datasets.list', { projectId, recursive: true });
  /** @type {Map<number | null, any[]>} */
  const byParent = new Map();
  for (const d of all) byParent.set(d.parentId ?? null, [...(byParent.get(d.parentId ?? null) ?? []), d]);
  /** @type {DatasetNode[]} */
  const flat = [];
  const walk = (/** @type {number | null} */ parent, /** @type {number} */ depth, /** @type {string} */ prefix) => {
    for (const d of (byParent.get(parent) ?? []).sort((a, b) => a.name.localeCompare(b.name))) {
      const node = { id: d.id, name: d.name, parentId: d.parentId ?? null, itemsCount: d.itemsCount ?? 0, children: [], depth, path: `${prefix}${d.name}` };
      flat.push(node);
      walk(d.id, depth + 1, `${node.path}/`);
    }
  };
  walk(null, 0, '');
  return flat;
}

/** `/remote/<scheme>/<bucket>/<key>` of a bucket link, as `pathOriginal` spells linked objects. @param {string} link */
export function remotePathOf(link) {
  const m = /^([a-z0-9]+):\/\/([^/]+)\/(.+)$/i.exec(link);
  if (m === null) return null;
  return `/remote/${String(m[1]).toLowerCase()}/${[String(m[2]), ...String(m[3]).split('/')].map(encodeURIComponent).join('/')}`;
}

/**
 * A signed preview URL of a storage path (`pathOriginal`, or a remote path).
 * @param {string} path @param {number} size box side in px
 */
export function previewUrl(path, size) {
  return signed(`/previews/q/ext:jpeg/resize:fit:${size}:${size}:0/q:75/plain${path}`);
}

/**
 * A signed thumbnail of a video: a frame at a third of its length, as the SDK's `image_preview_url`.
 * @param {{ processingPath?: string | null, pathOriginal?: string | null }} v @param {number} size
 */
export function videoThumbUrl(v, size) {
  const source = v.processingPath ?? v.pathOriginal?.slice(1);
  if (!source) return Promise.resolve(null);
  return signed(`/previews/q/ext:jpeg/resize:fit:${size}:${size}:0/q:70/plain/image-converter/videoframe/33p/${source}?videoStreamIndex=0`);
}

/** Names a file of a video project may have (the SDK's allowed extensions). */
export const VIDEO_EXT = /\.(avi|mp4|3gp|flv|webm|wmv|mov|mkv)$/i;
/** Names of images a browser preview can be made of. */
export const IMAGE_EXT = /\.(jpe?g|png|gif|webp|avif|bmp|tiff?)$/i;
