/**
 * Storage migrations as API jobs (`migrations.start {kind: 'storage', to}`):
 * the `stowage migrate storage` engine copying both primary buckets to
 * `<prefix>-public|-private` of a remote connection's store, claimed and
 * heartbeating like every job. The engine is idempotent (it skips what the
 * target already holds), so resuming a job is running it again; its live
 * counters ride on the heartbeats.
 */
import type { JsonObject, MigrationJob } from '../catalog/types.ts';
import type { Config } from '../config/load-config.ts';
import { AppError } from '../errors.ts';
import type { LinkRegistry } from '../links/registry.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { DEFAULT_BACKOFF, describeError, type BackoffOptions } from './backoff.ts';
import type { JobLauncher } from './job-types.ts';
import type { ProgressSnapshot } from './progress.ts';
import { migrateStorage, prepareTargets, type BucketPair, type StorageMigrationReport } from './storage-migration.ts';

/** Failures kept in a storage job's stored progress (the rest are counted): it is rewritten at every heartbeat. */
const STORED_FAILURES = 100;

/** What a storage job needs. */
export interface StorageJobDeps {
  links: LinkRegistry;
  /** The primary store (not read through the storage cache). */
  source: ObjectStore;
  storage: Pick<Config['storage'], 'publicBucket' | 'privateBucket' | 'bucketPrefix'>;
}

/** The options a storage job keeps (the target is the job's `target`, a connection name). */
export interface StorageJobOptions {
  bucketPrefix: string;
  include: string[];
  exclude: string[];
  concurrency: number;
  sizeOnly: boolean;
  backoff: BackoffOptions;
}

/** A storage job's options, with the defaults for what is missing. */
export function storageOptions(job: Pick<MigrationJob, 'options'>, deps: Pick<StorageJobDeps, 'storage'>): StorageJobOptions {
  const o = job.options as Partial<StorageJobOptions>;
  return {
    bucketPrefix: o.bucketPrefix ?? deps.storage.bucketPrefix, include: o.include ?? [], exclude: o.exclude ?? [],
    concurrency: o.concurrency ?? 10, sizeOnly: o.sizeOnly === true, backoff: o.backoff ?? DEFAULT_BACKOFF,
  };
}

/** The store of the serving connection `name`; `InvalidInput` naming `to` when there is none. */
export function connectionStore(links: LinkRegistry, name: string): ObjectStore {
  const found = links.list().find((c) => c.name === name);
  if (found !== undefined) return found.store;
  const known = links.list().map((c) => c.name);
  throw new AppError('InvalidInput', `to: no serving connection named ${name}${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}`, { field: 'to' });
}

/** Source and target bucket of each primary bucket. */
export function storageBuckets(deps: Pick<StorageJobDeps, 'storage'>, prefix: string): BucketPair[] {
  return [{ from: deps.storage.publicBucket, to: `${prefix}-public` }, { from: deps.storage.privateBucket, to: `${prefix}-private` }];
}

/** Creates the target buckets and checks they take writes; `InvalidInput` naming `to` when not. */
export async function checkStorageTarget(deps: StorageJobDeps, to: string, o: StorageJobOptions): Promise<void> {
  const target = connectionStore(deps.links, to);
  try {
    await prepareTargets({ target, buckets: storageBuckets(deps, o.bucketPrefix), backoff: { ...o.backoff, attempts: Math.min(3, o.backoff.attempts) } });
  } catch (err) {
    throw new AppError('InvalidInput', `to: ${describeError(err)}`, { field: 'to' });
  }
}

/** A storage run's counters as a job stores them. */
export function storageProgress(r: StorageMigrationReport, s: ProgressSnapshot): JsonObject {
  const failures = r.failures.slice(0, STORED_FAILURES);
  return {
    objects: s.done, objectsTotal: s.total ?? null, bytes: s.bytes, bytesTotal: s.bytesTotal ?? null,
    copied: r.copied, copiedBytes: r.copiedBytes, present: r.present, presentBytes: r.presentBytes, conflicts: r.conflicts,
    verifiedMd5: r.verifiedMd5, verifiedSize: r.verifiedSize, retries: r.retries, failed: r.failed,
    failures, failuresOmitted: r.failed - failures.length,
  };
}

/** Runs a storage job from the start (what is already copied is skipped). */
export function storageLauncher(deps: StorageJobDeps): JobLauncher {
  return async ({ job, signal }) => {
    const o = storageOptions(job, deps);
    const run = migrateStorage({
      source: deps.source, target: connectionStore(deps.links, job.target), buckets: storageBuckets(deps, o.bucketPrefix),
      filter: { include: o.include, exclude: o.exclude }, concurrency: o.concurrency, backoff: o.backoff,
      dryRun: false, sizeOnly: o.sizeOnly, signal,
    });
    const progress = (): JsonObject => storageProgress(run.report(), run.snapshot());
    return {
      progress, snapshot: () => run.snapshot(),
      beat: () => ({ progress: progress() }),
      done: run.done.then((r) => storageProgress(r, run.snapshot())),
    };
  };
}
