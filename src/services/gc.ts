/**
 * Garbage collection of stored originals: content-addressed blobs in the
 * primary store that no image or video keeps its bytes in any more (items
 * removed, or repointed at links by `*.update.links`).
 *
 * Safety:
 * - Each record is deleted by a statement that re-checks "unreferenced", so an
 *   item added by hash after the blob was listed keeps it; only then is the
 *   object deleted. A failed object delete leaves an orphan object (no record:
 *   a later upload of the same bytes stores them again), never a record
 *   without its object.
 * - Blobs younger than `minAgeMs` are kept: the SDK uploads bytes first and
 *   registers them (`*.bulk.add`) a moment later, and in between the blob is
 *   unreferenced.
 * - Remaining window: a client that was told a hash exists
 *   (`images.internal.hashes.list`) and registers it after gc removed it gets
 *   a 400 ("upload it first") and uploads again.
 */
import type { Blob, Catalog } from '../catalog/types.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { settleLimit } from './map-limit.ts';

/** Options of {@link collectGarbage}. */
export interface GcOptions {
  catalog: Catalog;
  /** The primary store. */
  store: ObjectStore;
  /** Only report what would be removed. */
  dryRun: boolean;
  /** Keep blobs recorded less than this long ago. */
  minAgeMs: number;
  /** Called for each blob removed (or, in a dry run, that would be). */
  onBlob?: (blob: Blob) => void;
  /** Called for each blob whose object could not be deleted. */
  onError?: (blob: Blob, err: unknown) => void;
  /** The present, for tests. */
  now?: Date;
}

/** What a run removed (or would remove). */
export interface GcReport {
  count: number;
  bytes: number;
  /** Unreferenced but younger than `minAgeMs`. */
  young: number;
  /** Records removed whose object delete failed (orphan objects). */
  failed: number;
}

/** Unreferenced blobs read per catalog query. */
const GC_PAGE = 500;
/** Object deletes in flight. */
const DELETE_CONCURRENCY = 8;

/** Walks every unreferenced blob once, in hash order, removing (or listing) it. */
export async function collectGarbage(o: GcOptions): Promise<GcReport> {
  const cutoff = (o.now ?? new Date()).getTime() - o.minAgeMs;
  const report: GcReport = { count: 0, bytes: 0, young: 0, failed: 0 };
  let after: string | undefined;
  for (;;) {
    const page = await o.catalog.blobs.unreferenced(GC_PAGE, after);
    if (page.length === 0) return report;
    after = page.at(-1)?.hash;
    const old = page.filter((b) => Date.parse(b.createdAt) <= cutoff);
    report.young += page.length - old.length;
    const results = await settleLimit(old, DELETE_CONCURRENCY, (b) => removeOne(o, b));
    results.forEach((r, i) => {
      const blob = old[i] as Blob;
      if (r.status === 'rejected') {
        report.failed += 1;
        o.onError?.(blob, r.reason);
      } else if (r.value) {
        report.count += 1;
        report.bytes += blob.size;
        o.onBlob?.(blob);
      }
    });
  }
}

/** True when removed (or, dry, removable); false when an item took it meanwhile. */
async function removeOne(o: GcOptions, blob: Blob): Promise<boolean> {
  if (o.dryRun) return true;
  if (!(await o.catalog.blobs.remove(blob.hash))) return false;
  await o.store.delete(blob.bucket, blob.key);
  return true;
}
