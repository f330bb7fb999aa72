/**
 * Listing of an Azure container with the contract's semantics: UTF-8 byte
 * order, prefix, delimiter, startAfter, maxKeys and stateless continuation
 * tokens that return every key exactly once.
 *
 * Azure pages come in UTF-16 order (see list-order.ts). Items are grouped into
 * *runs*: a run ends where no later item can sort before any item of the run
 * in UTF-8 order. Without astral characters every item is a run of its own;
 * a run is sorted before it is emitted. Only the smallest `maxKeys` items of a
 * run are kept, so memory stays bounded; when a page fills up inside a run,
 * the token points back at the run's first Azure page and the cursor skips
 * what was already returned. Azure cannot seek, so `startAfter` is applied by
 * reading from the start of the prefix and skipping.
 */
import type { ContainerClient } from '@azure/storage-blob';
import type { ListOptions, ListPage, ObjectInfo } from '../../object-store.ts';
import { objectInfo } from './object-info.ts';
import {
  blockingPrefix,
  commonPrefix,
  compareServer,
  compareUtf8,
  decodeListToken,
  encodeListToken,
  laterCursor,
  type Cursor,
} from './list-order.ts';

/** Largest and default page size. */
export const MAX_LIST_KEYS = 1000;
/** Azure's largest page. */
const MAX_AZURE_PAGE = 5000;

/** One object or common prefix, in Azure's order. */
interface Item {
  readonly name: string;
  /** Set for objects, undefined for common prefixes. */
  readonly info: ObjectInfo | undefined;
  readonly bytes: Buffer;
}

interface AzurePage {
  readonly items: Item[];
  readonly next: string | undefined;
}

interface Scan {
  readonly container: ContainerClient;
  readonly bucket: string;
  readonly prefix: string;
  readonly delimiter: string | undefined;
}

async function fetchPage(scan: Scan, marker: string | undefined, size: number): Promise<AzurePage> {
  const { container, bucket, prefix, delimiter } = scan;
  const settings = { maxPageSize: size, ...(marker === undefined ? {} : { continuationToken: marker }) };
  const pages = delimiter === undefined
    ? container.listBlobsFlat({ prefix }).byPage(settings)
    : container.listBlobsByHierarchy(delimiter, { prefix }).byPage(settings);
  const result = await pages.next();
  if (result.done === true) return { items: [], next: undefined };
  const page = result.value;
  const items: Item[] = page.segment.blobItems.map((b) => item(b.name, objectInfo(bucket, b.name, b.properties)));
  const prefixes = (page.segment as { blobPrefixes?: readonly { name: string }[] | undefined }).blobPrefixes ?? [];
  for (const p of prefixes) items.push(item(p.name, undefined));
  items.sort((a, b) => compareServer(a.name, b.name));
  const next = page.continuationToken === undefined || page.continuationToken === '' ? undefined : page.continuationToken;
  return { items, next };
}

function item(name: string, info: ObjectInfo | undefined): Item {
  return { name, info, bytes: Buffer.from(name, 'utf8') };
}

/** Items that must be sorted together; keeps the `capacity` smallest eligible ones. */
class Run {
  readonly startMarker: string | undefined;
  readonly #capacity: number;
  readonly #from: number;
  #block: string | undefined;
  #blocked = false;
  readonly best: Item[] = [];
  /** An eligible item was dropped for lack of room: the run continues on the next page. */
  overflow = false;

  constructor(startMarker: string | undefined, capacity: number, prefixLength: number) {
    this.startMarker = startMarker;
    this.#capacity = capacity;
    this.#from = prefixLength;
  }

  /** Whether `next` can start a new run: nothing after this run can sort before it. */
  endsBefore(next: Item): boolean {
    return !this.#blocked || !next.name.startsWith(this.#block ?? '');
  }

  /** Whether the run is already complete after its last item (no item of it can be overtaken). */
  get closed(): boolean {
    return !this.#blocked;
  }

  add(entry: Item, eligible: boolean): void {
    const block = blockingPrefix(entry.name, this.#from);
    if (block !== undefined) {
      this.#block = this.#blocked ? commonPrefix(this.#block ?? '', block) : block;
      this.#blocked = true;
    }
    if (!eligible) return;
    let lo = 0;
    let hi = this.best.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (Buffer.compare((this.best[mid] as Item).bytes, entry.bytes) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.best.splice(lo, 0, entry);
    if (this.best.length > this.#capacity) {
      this.best.pop();
      this.overflow = true;
    }
  }
}

/** Lists one page of `bucket`; see the module comment. */
export async function listContainer(container: ContainerClient, bucket: string, options: ListOptions): Promise<ListPage> {
  const scan: Scan = { container, bucket, prefix: options.prefix ?? '', delimiter: options.delimiter === '' ? undefined : options.delimiter };
  const token = options.continuationToken === undefined ? undefined : decodeListToken(options.continuationToken, bucket);
  const cursor = laterCursor(options.startAfter, token?.after);
  const maxKeys = pageSize(options.maxKeys);
  const out: Item[] = [];
  let marker = token?.marker;
  let run: Run | undefined;
  let fetchSize = token?.inRun === true ? MAX_AZURE_PAGE : maxKeys;
  for (;;) {
    const page = await fetchPage(scan, marker, fetchSize);
    const before = out.length;
    for (const [index, entry] of page.items.entries()) {
      if (run !== undefined && run.endsBefore(entry)) {
        const done = flush(run, out, maxKeys, marker, true);
        if (done !== undefined) return done;
        run = undefined;
      }
      run ??= new Run(marker, maxKeys - out.length, scan.prefix.length);
      run.add(entry, await isEligible(scan, entry, cursor));
      if (!run.closed) continue;
      const inPage = index + 1 < page.items.length;
      const done = flush(run, out, maxKeys, inPage ? marker : page.next, inPage || page.next !== undefined);
      if (done !== undefined) return done;
      run = undefined;
    }
    if (page.next === undefined) {
      return (run === undefined ? undefined : flush(run, out, maxKeys, undefined, false)) ?? result(out, undefined);
    }
    marker = page.next;
    fetchSize = nextFetchSize(fetchSize, out.length === before, run !== undefined && !run.closed, maxKeys - out.length);
  }
}

/**
 * Emits a finished run. Returns the page when it is full: its token re-reads
 * the run's first Azure page if part of the run is left, else resumes at
 * `resume` (the Azure marker of the next item) when `more` items follow.
 */
function flush(run: Run, out: Item[], maxKeys: number, resume: string | undefined, more: boolean): ListPage | undefined {
  out.push(...run.best);
  if (out.length < maxKeys) return undefined;
  const last = out.at(-1) as Item;
  const after: Cursor = { key: last.name, prefix: last.info === undefined };
  if (run.overflow) return result(out, encodeListToken({ marker: run.startMarker, after, inRun: true }));
  if (!more) return result(out, undefined);
  return result(out, encodeListToken({ marker: resume, after, inRun: false }));
}

/**
 * Whether an item comes after the cursor. A common prefix holding the
 * `startAfter` key is listed when a key after it exists below it (as on S3).
 */
async function isEligible(scan: Scan, entry: Item, cursor: Cursor | undefined): Promise<boolean> {
  if (cursor === undefined) return true;
  if (cursor.prefix && entry.name.startsWith(cursor.key)) return false;
  if (compareUtf8(entry.name, cursor.key) > 0) return true;
  if (entry.info !== undefined || cursor.prefix || !cursor.key.startsWith(entry.name)) return false;
  return keyAfterExists(scan, entry.name, cursor.key);
}

async function keyAfterExists(scan: Scan, prefix: string, after: string): Promise<boolean> {
  const flat: Scan = { ...scan, prefix, delimiter: undefined };
  let marker: string | undefined;
  do {
    const page = await fetchPage(flat, marker, MAX_AZURE_PAGE);
    if (page.items.some((i) => compareUtf8(i.name, after) > 0)) return true;
    marker = page.next;
  } while (marker !== undefined);
  return false;
}

/**
 * Azure page size of the next request: what the page still needs, but the
 * largest page inside an unfinished run (it must be read to its end anyway),
 * and growing while pages only skip (startAfter, a resumed run).
 */
function nextFetchSize(previous: number, skipped: boolean, inRun: boolean, room: number): number {
  if (inRun) return MAX_AZURE_PAGE;
  return skipped ? Math.min(MAX_AZURE_PAGE, previous * 2) : Math.max(1, room);
}

function result(items: readonly Item[], nextToken: string | undefined): ListPage {
  const objects = items.flatMap((i) => (i.info === undefined ? [] : [i.info]));
  const prefixes = items.flatMap((i) => (i.info === undefined ? [i.name] : []));
  return nextToken === undefined ? { objects, prefixes } : { objects, prefixes, nextToken };
}

function pageSize(maxKeys: number | undefined): number {
  if (maxKeys === undefined || !Number.isFinite(maxKeys)) return MAX_LIST_KEYS;
  return Math.min(MAX_LIST_KEYS, Math.max(1, Math.floor(maxKeys)));
}
