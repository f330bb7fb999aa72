/**
 * Listings of a storage migration: every object of a bucket under the
 * `--include` prefixes minus the `--exclude` ones, page by page (1,000 keys
 * in memory at a time), and the pairing of the source's listing with the
 * target's in one merge pass: both come in ascending UTF-8 byte order, so
 * "is this key already there, with which size and checksum" costs no request
 * per object.
 */
import { isStorageError } from '../storage/errors.ts';
import type { ObjectInfo, ObjectStore } from '../storage/object-store.ts';
import { withBackoff, type BackoffOptions } from './backoff.ts';

/** Which keys of a bucket take part. */
export interface KeyFilter {
  /** Only keys under one of these prefixes (all keys when empty). */
  include: readonly string[];
  /** Never keys under one of these. */
  exclude: readonly string[];
}

/** Include prefixes without the ones another already covers, sorted: each is listed once. */
export function listedPrefixes(include: readonly string[]): string[] {
  if (include.length === 0 || include.includes('')) return [''];
  const sorted = [...new Set(include)].sort(compareKeys);
  return sorted.filter((p, i) => !sorted.slice(0, i).some((q) => p.startsWith(q)));
}

/** Characters where UTF-16 order and UTF-8 byte order can disagree (surrogates and what follows them). */
const ORDER_SENSITIVE = /[\ud800-\uffff]/;

/** Orders keys as S3 lists them: by their UTF-8 bytes (not by UTF-16 code units). */
export function compareKeys(a: string, b: string): number {
  if (!ORDER_SENSITIVE.test(a) && !ORDER_SENSITIVE.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Every object of `bucket` under `prefix`, in the store's order. A missing
 * bucket lists as empty (the target's buckets may not exist yet).
 */
export async function* listAll(
  store: ObjectStore, bucket: string, prefix: string, backoff: BackoffOptions, signal?: AbortSignal,
): AsyncGenerator<ObjectInfo> {
  let token: string | undefined;
  do {
    const from = token;
    let page;
    try {
      page = await withBackoff(() => store.list(bucket, { prefix, continuationToken: from, maxKeys: 1000 }), backoff, signal);
    } catch (err) {
      if (isStorageError(err, 'NotFound') && from === undefined) return;
      throw err;
    }
    yield* page.objects;
    token = page.nextToken;
  } while (token !== undefined);
}

/** The filtered objects of a bucket, prefix after prefix. */
export async function* listFiltered(
  store: ObjectStore, bucket: string, filter: KeyFilter, backoff: BackoffOptions, signal?: AbortSignal,
): AsyncGenerator<ObjectInfo> {
  for (const prefix of listedPrefixes(filter.include)) {
    for await (const o of listAll(store, bucket, prefix, backoff, signal)) {
      if (!filter.exclude.some((x) => o.key.startsWith(x))) yield o;
    }
  }
}

/** A source object and the target's object of the same key, if any. */
export interface Pair {
  src: ObjectInfo;
  dst: ObjectInfo | undefined;
}

/**
 * Pairs each source object with the target's object of the same key by
 * merging two ascending listings. Should the target's listing ever come out
 * of order, the rest is looked up one HEAD at a time (`lookup`) instead.
 */
export async function* pairWithTarget(
  source: AsyncIterable<ObjectInfo>,
  target: AsyncIterator<ObjectInfo>,
  lookup: (key: string) => Promise<ObjectInfo | undefined>,
): AsyncGenerator<Pair> {
  let next = await target.next();
  let previous: string | undefined;
  let ordered = true;
  for await (const src of source) {
    if (!ordered) {
      yield { src, dst: await lookup(src.key) };
      continue;
    }
    while (next.done !== true && compareKeys(next.value.key, src.key) < 0) {
      previous = next.value.key;
      next = await target.next();
      if (next.done !== true && compareKeys(next.value.key, previous) <= 0) ordered = false;
    }
    if (!ordered) {
      await target.return?.(undefined);
      yield { src, dst: await lookup(src.key) };
      continue;
    }
    const dst = next.done !== true && next.value.key === src.key ? next.value : undefined;
    yield { src, dst };
  }
  await target.return?.(undefined);
}
