/**
 * Where `migrate project --to <scheme>://<bucket>/<dir>` puts each item, as
 * the seed's snippet does: `<dir>/<images|videos>/<projectId>/<datasetId>/<name>`
 * (datasets flat, nested ones included), or with `--keep-tree` the nested
 * dataset names instead of the dataset id. The bucket must be one a remote
 * connection allows: the items are then linked through that connection.
 */
import { AppError } from '../errors.ts';
import { parseLink } from '../links/link-url.ts';
import type { LinkRegistry } from '../links/registry.ts';
import type { ObjectStore } from '../storage/object-store.ts';

/** A checked migration target. */
export interface ProjectTarget {
  /** As given, normalised (no trailing slash). */
  readonly to: string;
  readonly scheme: string;
  readonly bucket: string;
  /** Folder inside the bucket, without slashes at either end ('' = bucket root). */
  readonly dir: string;
  /** The connection's store. */
  readonly store: ObjectStore;
  readonly connection: string;
}

/**
 * Parses and resolves `to`. Throws `InvalidInput` for a malformed link, a
 * path leaving the bucket (`..`, encoded or not), or a bucket no connection
 * allows (the message says where to allow it).
 */
export function resolveProjectTarget(to: string, links: LinkRegistry): ProjectTarget {
  const m = /^([a-z0-9]+):\/\/([^/]+)(?:\/(.*))?$/i.exec(to.trim());
  if (m?.[1] === undefined || m[2] === undefined) {
    throw new AppError('InvalidInput', `to: "${to}" is not a target: expected <scheme>://<bucket>/<dir>, e.g. s3://my-bucket/migrated`, { field: 'to' });
  }
  const dir = (m[3] ?? '').replace(/^\/+|\/+$/g, '');
  if (dir.split('/').some((s) => s === '') && dir !== '') {
    throw new AppError('InvalidInput', `to: "${to}" has an empty folder name ("//")`, { field: 'to' });
  }
  const scheme = m[1].toLowerCase();
  const probe = `${scheme}://${m[2]}/${dir === '' ? '' : `${dir}/`}x`;
  // The same checks as every link: known scheme, no "." or ".." segments, no encoded traversal.
  const parsed = parseLink(probe, 'to');
  if (parsed.kind !== 'bucket') throw new AppError('InvalidInput', `to: "${to}" must be a bucket link, not an http(s) URL`, { field: 'to' });
  const resolved = links.resolve(probe, 'to');
  return { to: `${scheme}://${parsed.bucket}${dir === '' ? '' : `/${dir}`}`, scheme, bucket: parsed.bucket, dir, store: resolved.store, connection: resolved.connection };
}

/** `/` and `%` of a name as a single path segment (`--keep-tree`: names never add or merge folders). */
function segment(name: string): string {
  return name.replace(/%/g, '%25').replace(/\//g, '%2F');
}

/** Where one item goes: its key in the bucket, and its link. */
export interface ItemPlace {
  key: string;
  link: string;
}

/**
 * The remote key and link of an item. `datasetPath` is the names from the
 * top dataset down to the item's (used with `keepTree` only).
 */
export function itemPlace(
  t: ProjectTarget, type: 'images' | 'videos', projectId: number,
  item: { datasetId: number; name: string }, keepTree: boolean, datasetPath: readonly string[],
): ItemPlace {
  const tail = keepTree ? [...datasetPath.map(segment), segment(item.name)] : [String(item.datasetId), item.name];
  const key = [...(t.dir === '' ? [] : [t.dir]), type, String(projectId), ...tail].join('/');
  return { key, link: `${t.scheme}://${t.bucket}/${key}` };
}
