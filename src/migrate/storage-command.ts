/**
 * What `stowage migrate storage` does once its flags are parsed: opens the
 * source (the primary storage) and the target, runs the migration with a
 * progress output, prints the summary and says how it ended.
 */
import { createCatalog } from '../catalog/create-catalog.ts';
import type { Config } from '../config/load-config.ts';
import { createLogger } from '../logger.ts';
import { openPrimaryStore } from '../storage/create-store.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { describeError, MigrationAborted, type BackoffOptions } from './backoff.ts';
import { guardHeap } from './heap-guard.ts';
import { formatBytes } from '../config/units.ts';
import { onInterrupt, progressFor } from './progress.ts';
import { migrateStorage, type BucketPair, type StorageMigrationReport } from './storage-migration.ts';
import { openConnectionTarget, openEnvTarget, type OpenedTarget } from './targets.ts';

/** Parsed flags of `stowage migrate storage`. */
export interface StorageCommandOptions {
  /** A connection name, or undefined with `targetEnv`. */
  to: string | undefined;
  targetEnv: string | undefined;
  bucketPrefix: string | undefined;
  include: string[];
  exclude: string[];
  concurrency: number;
  backoff: BackoffOptions;
  dryRun: boolean;
  sizeOnly: boolean;
  json: boolean;
}

/** How a command ended: its exit code and, when not 0, why. */
export interface CommandOutcome {
  code: number;
  message?: string;
}

async function openTarget(config: Config, o: StorageCommandOptions): Promise<OpenedTarget> {
  if (o.targetEnv !== undefined) return openEnvTarget(o.targetEnv);
  const catalog = await createCatalog({ url: config.catalogUrl });
  try {
    const target = await openConnectionTarget(config, catalog, o.to ?? '', createLogger('warn', process.stderr));
    return { ...target, close: async () => { await target.close(); await catalog.close(); } };
  } catch (err) {
    await catalog.close();
    throw err;
  }
}

/** Runs the command; prints progress and the summary. */
export async function runStorageCommand(config: Config, o: StorageCommandOptions): Promise<CommandOutcome> {
  const { publicBucket, privateBucket, bucketPrefix } = config.storage;
  const prefix = o.bucketPrefix ?? bucketPrefix;
  if (prefix !== bucketPrefix) {
    process.stderr.write(`note: the catalog names the buckets ${publicBucket} and ${privateBucket}; ` +
      `serving from ${prefix}-* after a switch needs STORAGE_BUCKET_PREFIX=${bucketPrefix} there\n`);
  }
  const buckets = [{ from: publicBucket, to: `${prefix}-public` }, { from: privateBucket, to: `${prefix}-private` }];
  const { store: source } = await openPrimaryStore(config, { maxAttempts: 3 });
  const unguard = guardHeap();
  const abort = new AbortController();
  const stopListening = onInterrupt(() => abort.abort());
  try {
    const target = await openTarget(config, o);
    try {
      return await copyWithOutput(source, target, buckets, o, abort.signal);
    } finally {
      await target.close();
    }
  } catch (err) {
    if (abort.signal.aborted) return { code: 130, message: 'interrupted: run the same command again to finish' };
    return { code: 1, message: err instanceof MigrationAborted ? err.message : describeError(err) };
  } finally {
    stopListening();
    unguard();
    await source.close();
  }
}

async function copyWithOutput(
  source: ObjectStore, target: OpenedTarget, buckets: BucketPair[], o: StorageCommandOptions, signal: AbortSignal,
): Promise<CommandOutcome> {
  const output = progressFor(o.json, o.dryRun ? 'dry run' : 'migrate');
  try {
    const run = migrateStorage({
      source, target: target.store, buckets, filter: { include: o.include, exclude: o.exclude },
      concurrency: o.concurrency, backoff: o.backoff, dryRun: o.dryRun, sizeOnly: o.sizeOnly, signal,
      onFailure: (f) => output.event({ type: 'failure', ...f }),
    });
    output.start(run.snapshot);
    const report = await run.done;
    output.stop();
    printSummary(report, o.json, target.describe);
    return report.failed > 0 ? { code: 1, message: `${report.failed} object(s) not copied` } : { code: 0 };
  } finally {
    output.stop();
  }
}

function printSummary(r: StorageMigrationReport, json: boolean, target: string): void {
  if (json || process.stderr.isTTY !== true) {
    process.stdout.write(`${JSON.stringify({ type: 'summary', target, ...r })}\n`);
    return;
  }
  const lines = r.dryRun
    ? [
        `dry run against ${target}: ${r.objects} object(s), ${formatBytes(r.bytes)} in the source`,
        `  to copy: ${r.copied} object(s), ${formatBytes(r.copiedBytes)}`,
        `  already present: ${r.present} object(s), ${formatBytes(r.presentBytes)}`,
        `  conflicts (same key, other size or checksum; would be copied over): ${r.conflicts}`,
      ]
    : [
        `copied ${r.copied} object(s), ${formatBytes(r.copiedBytes)} to ${target} in ${r.elapsedSeconds} s ` +
          `(verified by MD5: ${r.verifiedMd5}, by size: ${r.verifiedSize})`,
        `  already present (skipped): ${r.present} object(s), ${formatBytes(r.presentBytes)}`,
        `  conflicts copied over: ${r.conflicts}; transient failures retried: ${r.retries}`,
        `  failed: ${r.failed}`,
        ...r.failures.map((f) => `    ${f.bucket}/${f.key}: ${f.error}`),
        ...(r.failuresOmitted > 0 ? [`    … and ${r.failuresOmitted} more`] : []),
      ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
