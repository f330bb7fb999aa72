/**
 * Listing of a local bucket with S3 semantics: keys in ascending UTF-8 byte
 * order, prefix, delimiter grouping, startAfter and continuation tokens.
 * Only the folders the prefix (and the resume position) can match are read.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ListOptions, ListPage, ObjectInfo } from '../../object-store.ts';
import { isValidKey } from '../../keys.ts';
import { errnoCode, type ErrorContext } from './fs-errors.ts';
import { objectInfo } from './file-io.ts';
import { isInside } from './paths.ts';
import { decodeToken, encodeToken, makeCursor, type Cursor } from './list-cursor.ts';

/** Largest and default page size. */
export const MAX_LIST_KEYS = 1000;
const STAT_CONCURRENCY = 32;

/** One listed item before metadata is fetched. */
interface Entry {
  readonly kind: 'object' | 'prefix';
  /** The key, or the common prefix (ending with the delimiter). */
  readonly key: string;
}

interface Child {
  readonly name: string;
  readonly isDir: boolean;
  /** Sorting by `name + "/"` for folders puts each folder's keys in byte order among its siblings. */
  readonly sortKey: Buffer;
}

/** Lists one page of `bucket` (whose real folder is `bucketDir`). */
export async function listBucket(bucket: string, bucketDir: string, options: ListOptions): Promise<ListPage> {
  const ctx: ErrorContext = { bucket };
  const prefix = options.prefix ?? '';
  const delimiter = options.delimiter === '' ? undefined : options.delimiter;
  const token = options.continuationToken === undefined ? undefined : decodeToken(options.continuationToken, ctx);
  const cursor = makeCursor(options.startAfter, token);
  const maxKeys = pageSize(options.maxKeys);
  const walk = walkPrefix(bucketDir, prefix, cursor, delimiter === '/');
  const entries: Entry[] = [];
  let more = false;
  for await (const entry of groupByDelimiter(walk, prefix, delimiter)) {
    if (entries.length === maxKeys) {
      more = true;
      break;
    }
    entries.push(entry);
  }
  const objectKeys = entries.filter((e) => e.kind === 'object').map((e) => e.key);
  const objects = await statAll(bucket, bucketDir, objectKeys);
  const prefixes = entries.filter((e) => e.kind === 'prefix').map((e) => e.key);
  const last = entries.at(-1);
  const nextToken = more && last !== undefined ? encodeToken(last.kind, last.key) : undefined;
  return nextToken === undefined ? { objects, prefixes } : { objects, prefixes, nextToken };
}

function pageSize(maxKeys: number | undefined): number {
  if (maxKeys === undefined || !Number.isFinite(maxKeys)) return MAX_LIST_KEYS;
  return Math.min(MAX_LIST_KEYS, Math.max(1, Math.floor(maxKeys)));
}

/**
 * Starts at the folder named by the prefix up to its last `/`; the rest of the
 * prefix filters that folder's entries by name.
 */
async function* walkPrefix(bucketDir: string, prefix: string, cursor: Cursor, collapse: boolean): AsyncGenerator<Entry> {
  const cut = prefix.lastIndexOf('/') + 1;
  const dirKey = prefix.slice(0, cut);
  // A prefix whose folder part is no valid key (`../`, `a//`) matches no key.
  if (dirKey !== '' && !isValidKey(dirKey.slice(0, -1))) return;
  const dir = join(bucketDir, ...dirKey.split('/').filter((s) => s !== ''));
  try {
    // Linked folders are never listed (see readChildren), whether or not the prefix names them.
    if ((await realpath(dir)) !== dir) return;
  } catch (err) {
    if (isMissing(err)) return;
    throw err;
  }
  yield* walkDir(bucketDir, dir, dirKey, prefix.slice(cut), cursor, collapse);
}

/**
 * Depth-first walk in key order. With `collapse` (delimiter `/`) each matching
 * subfolder becomes one common prefix without being descended, except to check
 * that it holds at least one listable key.
 */
async function* walkDir(
  bucketDir: string,
  dir: string,
  dirKey: string,
  namePrefix: string,
  cursor: Cursor,
  collapse: boolean,
): AsyncGenerator<Entry> {
  for (const child of await readChildren(bucketDir, dir, namePrefix)) {
    const key = dirKey + child.name;
    if (!isValidKey(key)) continue;
    if (!child.isDir) {
      if (cursor.passes(key)) yield { kind: 'object', key };
      continue;
    }
    const sub = `${key}/`;
    if (!cursor.mayContain(sub)) continue;
    const subDir = join(dir, child.name);
    if (!collapse) {
      yield* walkDir(bucketDir, subDir, sub, '', cursor, false);
    } else if (await holdsAnyKey(bucketDir, subDir, sub, cursor)) {
      yield { kind: 'prefix', key: sub };
    }
  }
}

async function holdsAnyKey(bucketDir: string, dir: string, dirKey: string, cursor: Cursor): Promise<boolean> {
  for await (const _ of walkDir(bucketDir, dir, dirKey, '', cursor, false)) return true;
  return false;
}

/**
 * The entries of `dir` whose names start with `namePrefix`, in key order.
 * Symbolic links count as objects only when they resolve to a file inside the
 * bucket; linked folders are not descended (no cycles, no duplicate keys).
 */
async function readChildren(bucketDir: string, dir: string, namePrefix: string): Promise<Child[]> {
  let dirents;
  try {
    dirents = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
  const children: Child[] = [];
  for (const d of dirents) {
    if (!d.name.startsWith(namePrefix)) continue;
    const isDir = d.isDirectory();
    if (d.isSymbolicLink()) {
      if (!(await isFileLinkInside(bucketDir, join(dir, d.name)))) continue;
    } else if (!isDir && !d.isFile()) {
      continue;
    }
    children.push({ name: d.name, isDir, sortKey: Buffer.from(isDir ? `${d.name}/` : d.name, 'utf8') });
  }
  return children.sort((a, b) => Buffer.compare(a.sortKey, b.sortKey));
}

async function isFileLinkInside(bucketDir: string, path: string): Promise<boolean> {
  try {
    const real = await realpath(path);
    return isInside(bucketDir, real) && (await stat(real)).isFile();
  } catch {
    return false;
  }
}

async function* groupByDelimiter(source: AsyncIterable<Entry>, prefix: string, delimiter: string | undefined): AsyncGenerator<Entry> {
  let lastPrefix: string | undefined;
  for await (const entry of source) {
    const cut = delimiter === undefined || entry.kind === 'prefix' ? -1 : entry.key.indexOf(delimiter, prefix.length);
    if (cut < 0) {
      yield entry;
      continue;
    }
    // Keys sharing a prefix are contiguous in sorted order, so one look-back suffices.
    const common = entry.key.slice(0, cut + (delimiter?.length ?? 0));
    if (common === lastPrefix) continue;
    lastPrefix = common;
    yield { kind: 'prefix', key: common };
  }
}

async function statAll(bucket: string, bucketDir: string, keys: readonly string[]): Promise<ObjectInfo[]> {
  const infos: (ObjectInfo | undefined)[] = new Array(keys.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < keys.length; i = next++) {
      const key = keys[i] as string;
      try {
        infos[i] = objectInfo(bucket, key, await stat(join(bucketDir, ...key.split('/')), { bigint: true }));
      } catch (err) {
        // Deleted since the folder was read: simply not part of this page.
        if (!isMissing(err)) throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(STAT_CONCURRENCY, keys.length) }, worker));
  return infos.filter((info): info is ObjectInfo => info !== undefined);
}

function isMissing(err: unknown): boolean {
  const code = errnoCode(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}
