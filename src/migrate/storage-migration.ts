/**
 * `stowage migrate storage`: copies the primary storage's buckets to another
 * store, key for key, so that pointing STORAGE_PROVIDER at that store serves
 * everything. Idempotent: an object already in the target with the same size
 * (and, on S3, the same MD5) is skipped, so a run killed at any moment is
 * finished by running it again; copies are atomic on every store, so an
 * interrupted one is simply absent. The source is only read.
 *
 * The source and target listings are merged page by page and objects are
 * copied by a bounded pool; a second listing of the source runs alongside to
 * count the totals for the progress bar. Memory does not depend on the number
 * or size of objects.
 */
import { isStorageError } from '../storage/errors.ts';
import type { ObjectInfo, ObjectStore } from '../storage/object-store.ts';
import { describeError, MigrationAborted, withBackoff, type BackoffOptions } from './backoff.ts';
import { etagOfSource, s3Etag, sameEtag } from './checksum.ts';
import { copyObject } from './copy-object.ts';
import { listFiltered, pairWithTarget, type KeyFilter, type Pair } from './listing.ts';
import { forEachLimit, Slots } from './pool.ts';
import { probeKey, probeTarget } from './preflight.ts';
import type { ProgressSnapshot } from './progress.ts';
import { StorageRunStats, type StorageMigrationReport } from './storage-stats.ts';

export type { StorageMigrationReport } from './storage-stats.ts';

/** A source bucket and the target bucket it goes to. */
export interface BucketPair {
  from: string;
  to: string;
}

/** Options of {@link migrateStorage}. */
export interface StorageMigrationOptions {
  source: ObjectStore;
  target: ObjectStore;
  buckets: readonly BucketPair[];
  filter: KeyFilter;
  /** Objects copied at once. */
  concurrency: number;
  backoff: BackoffOptions;
  /** Count and compare only; write nothing. */
  dryRun: boolean;
  /** Compare present objects by size only (never read them to compare checksums). */
  sizeOnly: boolean;
  /** Create missing target buckets (default true). */
  createBuckets?: boolean;
  /** Objects above this many bytes go up in parts (default 64 MiB). */
  multipartThreshold?: number | undefined;
  signal?: AbortSignal | undefined;
  /** A failed object (also listed in the report). */
  onFailure?: (f: { bucket: string; key: string; error: string }) => void;
}

/** A running migration: its live counters and its outcome. */
export interface StorageMigration {
  snapshot(): ProgressSnapshot;
  /** The counters so far, as the final report has them. */
  report(): StorageMigrationReport;
  /** Resolves with the report; rejects with {@link MigrationAborted} when the run cannot go on. */
  done: Promise<StorageMigrationReport>;
}

/** Starts a storage migration. */
export function migrateStorage(o: StorageMigrationOptions): StorageMigration {
  const stats = new StorageRunStats(o.dryRun);
  const done = run(o, stats);
  return { snapshot: () => stats.snapshot(), report: () => stats.report(), done };
}

async function run(o: StorageMigrationOptions, stats: StorageRunStats): Promise<StorageMigrationReport> {
  if (!o.dryRun) await prepareTargets(o);
  const stopCounting = new AbortController();
  const counting = countSource(o, stats, stopCounting.signal);
  const partSlots = new Slots(o.concurrency);
  try {
    await forEachLimit(pairs(o), o.concurrency, (p) => handle(o, stats, p.bucket, p.pair, partSlots));
  } catch (err) {
    stopCounting.abort();
    throw err;
  } finally {
    await counting;
  }
  return stats.report();
}

/** Creates the target buckets (when allowed) and checks that each can be written; throws {@link MigrationAborted}. */
export async function prepareTargets(o: Pick<StorageMigrationOptions, 'target' | 'buckets' | 'createBuckets' | 'backoff' | 'signal'>): Promise<void> {
  await Promise.all(o.buckets.map(async ({ to }) => {
    if (o.createBuckets !== false) {
      await withBackoff(() => o.target.ensureBucket(to), o.backoff, o.signal).catch((err: unknown) => {
        throw new MigrationAborted(`cannot create target bucket ${to}: ${describeError(err)}`, err);
      });
    }
    await probeTarget(o.target, to, probeKey(''), o.backoff, o.signal);
  }));
}

/** Totals for the progress bar: a plain listing of the source, alongside the copy. */
async function countSource(o: StorageMigrationOptions, stats: StorageRunStats, stop: AbortSignal): Promise<void> {
  try {
    for (const { from } of o.buckets) {
      for await (const obj of listFiltered(o.source, from, o.filter, o.backoff, stop)) {
        if (stop.aborted) return;
        stats.counted(obj.size);
      }
    }
    stats.countingDone();
  } catch {
    // Totals are only for display; the copy's own listing reports listing failures.
  }
}

async function* pairs(o: StorageMigrationOptions): AsyncGenerator<{ bucket: BucketPair; pair: Pair }> {
  for (const bucket of o.buckets) {
    const source = listFiltered(o.source, bucket.from, o.filter, o.backoff, o.signal);
    const target = listFiltered(o.target, bucket.to, o.filter, o.backoff, o.signal);
    const lookup = (key: string) => o.target.head(bucket.to, key).catch((err: unknown) => {
      if (isStorageError(err, 'NotFound')) return undefined;
      throw err;
    });
    for await (const pair of pairWithTarget(source, target, lookup)) yield { bucket, pair };
  }
}

async function handle(o: StorageMigrationOptions, stats: StorageRunStats, bucket: BucketPair, { src, dst }: Pair, partSlots: Slots): Promise<void> {
  try {
    if (dst !== undefined && (await sameObject(o, bucket, src, dst))) return stats.present(src.size);
    if (dst !== undefined) stats.conflict();
    if (o.dryRun) return stats.wouldCopy(src.size);
    const result = await copyObject(
      { store: o.source, bucket: bucket.from, key: src.key },
      { store: o.target, bucket: bucket.to, key: src.key },
      {
        size: src.size, contentType: src.contentType, backoff: o.backoff, signal: o.signal, multipartThreshold: o.multipartThreshold, partSlots,
        onBytes: (n) => stats.sending(n), onRetry: () => stats.retried(),
      },
    );
    stats.copied(result.size, result.verified);
  } catch (err) {
    if (err instanceof MigrationAborted || o.signal?.aborted === true) throw err;
    stopOnSetupError(err, bucket.to);
    const failure = { bucket: bucket.from, key: src.key, error: describeError(err) };
    stats.failed(failure, src.size);
    o.onFailure?.(failure);
  }
}

/** Credentials or settings that stopped working: every further object would fail the same way. */
function stopOnSetupError(err: unknown, bucket: string): void {
  if (isStorageError(err, 'Unauthenticated') || isStorageError(err, 'ConfigInvalid')) {
    throw new MigrationAborted(`target ${bucket}: ${describeError(err)}`, err);
  }
}

/**
 * Whether the target's object already holds the source's bytes: same size,
 * and on S3 the same MD5 (computed by reading the source; a multipart ETag
 * made with another part size than ours can only be compared by size).
 */
async function sameObject(o: StorageMigrationOptions, bucket: BucketPair, src: ObjectInfo, dst: ObjectInfo): Promise<boolean> {
  if (dst.size !== src.size) return false;
  const tag = o.sizeOnly ? undefined : s3Etag(o.target, dst.etag);
  if (tag === undefined) return true;
  const mine = await etagOfSource(o.source, bucket.from, src.key, src.size, tag, o.signal);
  return mine === undefined || sameEtag(mine, tag);
}
