/**
 * `remote-storage.list`: a folder-like view of a linked bucket, read page by
 * page from its store (never the whole bucket at once). Items follow
 * api-compat §7: `{type, name, prefix, path, size, updatedAt}`, where
 * `prefix` is the folder inside the bucket (no bucket, no trailing slash) and
 * `path` the full link. Clients page with `startAfter = "{prefix}/{name}"` of
 * the last item and stop on an empty page.
 */
import { AppError } from '../errors.ts';
import type { ObjectInfo, ObjectStore } from '../storage/object-store.ts';
import { SCHEME_PROVIDERS } from './link-url.ts';

/** One listed file or folder. */
export interface RemoteListItem {
  type: 'file' | 'folder';
  name: string;
  prefix: string;
  path: string;
  size: number;
  updatedAt: string | null;
}

/** What to list under a path. */
export interface RemoteListQuery {
  /** All keys below the path (files only, plus folder marker objects), or one level grouped by `/`. */
  recursive: boolean;
  files: boolean;
  folders: boolean;
  /** At most this many items (≤ 10,000). */
  limit: number;
  /** Key (or `{prefix}/{name}`, or full link) after which to start. */
  startAfter: string;
}

/** A bucket path `<scheme>://<bucket>/<prefix>` taken apart. */
export interface ListPath {
  scheme: string;
  bucket: string;
  /** Key prefix inside the bucket ('' for the whole bucket). */
  prefix: string;
}

/** Keys per store page. */
const PAGE = 1000;

/** Parses the `path` of a list call; the prefix may be empty (`s3://bucket/`). */
export function parseListPath(path: string): ListPath {
  const m = /^([a-z0-9]+):\/\/([^/]+)(?:\/(.*))?$/i.exec(path);
  const scheme = m?.[1]?.toLowerCase();
  if (m === null || scheme === undefined || m[2] === undefined || SCHEME_PROVIDERS[scheme] === undefined) {
    const schemes = Object.keys(SCHEME_PROVIDERS).join(', ');
    throw new AppError('InvalidInput', `path: "${path.slice(0, 200)}" is not a bucket path: expected <scheme>://<bucket>/<prefix> (scheme one of ${schemes})`, { field: 'path' });
  }
  return { scheme, bucket: m[2], prefix: m[3] ?? '' };
}

/** Lists up to `q.limit` items under `at.prefix`, in key order. */
export async function listRemote(store: ObjectStore, at: ListPath, q: RemoteListQuery): Promise<RemoteListItem[]> {
  const out: RemoteListItem[] = [];
  const startAfter = normaliseStartAfter(q.startAfter, at);
  // A folder given as "{prefix}/{name}" sorts before its own "name/" group: skip that group.
  const skipGroup = startAfter === undefined ? undefined : `${startAfter}/`;
  let token: string | undefined;
  do {
    const page = await store.list(at.bucket, {
      prefix: at.prefix,
      delimiter: q.recursive ? undefined : '/',
      ...(token === undefined ? { startAfter } : { continuationToken: token }),
      maxKeys: Math.min(PAGE, Math.max(q.limit - out.length, 1)),
    });
    for (const entry of mergeByKey(page.objects, page.prefixes)) {
      const item = toItem(entry, at, q, skipGroup);
      if (item !== undefined) out.push(item);
      if (out.length >= q.limit) return out;
    }
    token = page.nextToken;
  } while (token !== undefined);
  return out;
}

type Entry = { key: string; object?: ObjectInfo };

/** Objects and common prefixes interleaved in byte order, as one listing would be. */
function mergeByKey(objects: readonly ObjectInfo[], prefixes: readonly string[]): Entry[] {
  const entries: Entry[] = [...objects.map((o) => ({ key: o.key, object: o })), ...prefixes.map((p) => ({ key: p }))];
  return entries.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
}

function toItem(e: Entry, at: ListPath, q: RemoteListQuery, skipGroup: string | undefined): RemoteListItem | undefined {
  const isFolder = e.object === undefined || e.key.endsWith('/');
  if (isFolder ? !q.folders : !q.files) return undefined;
  // The folder being listed may exist as a marker object; it is not its own child.
  if ((isFolder && e.key === at.prefix) || (e.object === undefined && e.key === skipGroup)) return undefined;
  const trimmed = isFolder ? e.key.replace(/\/+$/, '') : e.key;
  const cut = trimmed.lastIndexOf('/');
  const name = trimmed.slice(cut + 1);
  if (name === '') return undefined;
  return {
    type: isFolder ? 'folder' : 'file',
    name,
    prefix: cut < 0 ? '' : trimmed.slice(0, cut),
    path: `${at.scheme}://${at.bucket}/${e.key}`,
    size: e.object?.size ?? 0,
    updatedAt: e.object?.lastModified.toISOString() ?? null,
  };
}

/** `{prefix}/{name}` with an empty prefix has a leading `/`; a full link carries the bucket. */
function normaliseStartAfter(startAfter: string, at: ListPath): string | undefined {
  let key = startAfter;
  const linkPrefix = `${at.scheme}://${at.bucket}/`;
  if (key.toLowerCase().startsWith(linkPrefix.toLowerCase())) key = key.slice(linkPrefix.length);
  key = key.replace(/^\/+/, '');
  return key === '' ? undefined : key;
}
