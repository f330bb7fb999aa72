/**
 * Listing with the contract's semantics on top of `objects.list`.
 *
 * Continuation tokens are our own, in the local store's format
 * (`base64url("k" + key)` after an object, `base64url("p" + prefix)` after a
 * common prefix), not GCS page tokens: a page resumes with `startOffset` past
 * the last entry served, so tokens are stateless and `maxKeys` counts objects
 * and prefixes together.
 *
 * Each server page is re-sorted in UTF-8 byte order and filtered against the
 * resume position, and full server pages of 1000 are requested: a no-op on
 * GCS (which returns contiguous runs in byte order), and what keeps pages right
 * on servers that do not (the firebase-tools emulator orders by UTF-16, ignores
 * `startOffset` and returns every prefix on every page).
 */
import type { Bucket } from '@google-cloud/storage';
import type { ListOptions, ListPage, ObjectInfo } from '../../object-store.ts';
import { isValidKey } from '../../keys.ts';
import { gcsError, type GcsErrorContext } from './gcs-errors.ts';
import { isHidden, objectInfo, type GcsObjectMetadata } from './gcs-objects.ts';

/** Largest and default page size. */
export const MAX_LIST_KEYS = 1000;
const SERVER_PAGE = 1000;

/** A resume position. */
export interface Cursor {
  readonly kind: 'object' | 'prefix';
  readonly key: string;
}

type Entry = { readonly kind: 'object'; readonly key: string; readonly meta: GcsObjectMetadata } | { readonly kind: 'prefix'; readonly key: string };

/** Encodes the resume position after an entry. */
export function encodeToken(cursor: Cursor): string {
  return Buffer.from((cursor.kind === 'object' ? 'k' : 'p') + cursor.key, 'utf8').toString('base64url');
}

/** Decodes a token of {@link encodeToken}; anything else is `InvalidKey`. */
export function decodeToken(token: string, ctx: GcsErrorContext): Cursor {
  const decoded = Buffer.from(token, 'base64url').toString('utf8');
  const tag = decoded[0];
  const cursor: Cursor = { kind: tag === 'p' ? 'prefix' : 'object', key: decoded.slice(1) };
  if ((tag !== 'k' && tag !== 'p') || cursor.key === '' || encodeToken(cursor) !== token) {
    throw gcsError('InvalidKey', 'invalid continuation token', ctx);
  }
  return cursor;
}

/** UTF-8 byte order, as GCS sorts names. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The smallest string above every string starting with `prefix` (its last code
 * point incremented), or undefined when none exists.
 */
export function pastPrefix(prefix: string): string | undefined {
  const points = [...prefix];
  while (points.length > 0) {
    const last = points.pop()?.codePointAt(0) ?? 0x10ffff;
    const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
    if (next <= 0x10ffff) return points.join('') + String.fromCodePoint(next);
  }
  return undefined;
}

/** The later of `startAfter` and the token's position. */
function resumeAt(options: ListOptions, ctx: GcsErrorContext): Cursor | undefined {
  const token = options.continuationToken === undefined || options.continuationToken === '' ? undefined : decodeToken(options.continuationToken, ctx);
  const after = options.startAfter === undefined || options.startAfter === '' ? undefined : { kind: 'object' as const, key: options.startAfter };
  if (token === undefined || after === undefined) return token ?? after;
  return compareKeys(after.key, token.key) > 0 ? after : token;
}

function passes(cursor: Cursor | undefined, entry: Entry): boolean {
  if (cursor === undefined) return true;
  if (cursor.kind === 'prefix' && entry.key.startsWith(cursor.key)) return false;
  // `startAfter` inside a group: the group still holds later keys (as the local store answers).
  if (entry.kind === 'prefix' && cursor.kind === 'object' && cursor.key.startsWith(entry.key)) return true;
  return compareKeys(entry.key, cursor.key) > 0;
}

function pageSize(maxKeys: number | undefined): number {
  if (maxKeys === undefined || !Number.isFinite(maxKeys)) return MAX_LIST_KEYS;
  return Math.min(MAX_LIST_KEYS, Math.max(1, Math.floor(maxKeys)));
}

/** Lists one page of `bucket` (see the module comment). */
export async function listPage(bucket: Bucket, options: ListOptions, ctx: GcsErrorContext): Promise<ListPage> {
  const cursor = resumeAt(options, ctx);
  const maxKeys = pageSize(options.maxKeys);
  const startOffset = cursor === undefined ? undefined : cursor.kind === 'object' ? cursor.key : pastPrefix(cursor.key);
  if (cursor?.kind === 'prefix' && startOffset === undefined) return { objects: [], prefixes: [] };
  const entries = new Map<string, Entry>();
  let pageToken: string | undefined;
  do {
    const query = {
      autoPaginate: false,
      maxResults: SERVER_PAGE,
      ...(options.prefix === undefined || options.prefix === '' ? {} : { prefix: options.prefix }),
      ...(options.delimiter === undefined || options.delimiter === '' ? {} : { delimiter: options.delimiter }),
      ...(startOffset === undefined ? {} : { startOffset }),
      ...(pageToken === undefined ? {} : { pageToken }),
    };
    const [files, next, raw] = await bucket.getFiles(query);
    for (const file of files) addEntry(entries, cursor, { kind: 'object', key: file.name, meta: file.metadata as GcsObjectMetadata });
    const prefixes = (raw as { prefixes?: unknown } | undefined)?.prefixes;
    for (const prefix of Array.isArray(prefixes) ? prefixes : []) {
      if (typeof prefix === 'string') addEntry(entries, cursor, { kind: 'prefix', key: prefix });
    }
    pageToken = (next as { pageToken?: string } | null | undefined)?.pageToken;
  } while (pageToken !== undefined && entries.size <= maxKeys);
  return toPage(bucket.name, [...entries.values()], maxKeys, pageToken !== undefined, ctx);
}

function addEntry(entries: Map<string, Entry>, cursor: Cursor | undefined, entry: Entry): void {
  if (isHidden(entry.key) || !passes(cursor, entry)) return;
  // Keys the contract cannot address (`dir/` placeholders, `a//b`) are not listed.
  if (entry.kind === 'object' && !isValidKey(entry.key)) return;
  entries.set(`${entry.kind}:${entry.key}`, entry);
}

function toPage(bucketName: string, all: Entry[], maxKeys: number, serverHasMore: boolean, ctx: GcsErrorContext): ListPage {
  all.sort((a, b) => compareKeys(a.key, b.key));
  const served = all.slice(0, maxKeys);
  const objects: ObjectInfo[] = [];
  const prefixes: string[] = [];
  for (const entry of served) {
    if (entry.kind === 'prefix') prefixes.push(entry.key);
    else objects.push(objectInfo(bucketName, entry.key, entry.meta, { ...ctx, key: entry.key }));
  }
  const last = served.at(-1);
  const more = all.length > maxKeys || serverHasMore;
  if (!more || last === undefined) return { objects, prefixes };
  return { objects, prefixes, nextToken: encodeToken({ kind: last.kind, key: last.key }) };
}
